#!/usr/bin/env Rscript
# Reference BIC tables of R's mclust for tests/test_model_selection.cpp.
#
# Regenerate (from the repository root, with Debian's r-cran-mclust 6.0 and r-base-core):
#
#     Rscript tests/make_mclust_fixtures.R
#
# It rewrites, deterministically (mclust's EM starts from its hierarchical clustering, no
# random numbers):
#
#     tests/data/mclust_<name>_X.csv   the data, one sample per line, a header line of names
#     tests/data/mclust_bic.csv        mclustBIC's table of every data set, one cell a line
#
# Data sets, all public and shipped with R or mclust: faithful (datasets, 272 x 2),
# iris[, 1:4] (datasets, 150 x 4), diabetes[, 2:4] (mclust, 145 x 3) and banknote[, 2:7]
# (mclust, 200 x 6). The values have at most three decimals, so the 15 significant digits
# of write.csv read back as the same doubles.
#
# mclustBIC runs the models VII (emcluster's spherical), EEE (tied), VVI (diagonal) and VVV
# (full) for G = 1..9, on the raw data, without a prior (so without any regularisation) and
# without a noise component. The columns of mclust_bic.csv:
#
#     dataset, n, d, model (mclust's name), type (emcluster's covariance type), k,
#     bic          mclust's BIC: 2 log L - n_parameters log n (higher is better; NA where
#                  mclust's EM failed, for example on a singular covariance),
#     n_parameters mclust's count (nMclustParams), the same as scikit-learn's and emcluster's
#                  for these four models,
#     log_likelihood (bic + n_parameters log n) / 2,
#     chosen       1 for the cell with the highest BIC of the data set (mclust's choice among
#                  these four models), else 0.
suppressPackageStartupMessages(library(mclust))

out_dir <- file.path("tests", "data")
if (!dir.exists(out_dir)) stop("run from the repository root (tests/data not found)")

data(diabetes, package = "mclust")
data(banknote, package = "mclust")
sets <- list(
  faithful = faithful,
  iris = iris[, 1:4],
  diabetes = diabetes[, 2:4],
  banknote = banknote[, 2:7]
)
models <- c(VII = "spherical", EEE = "tied", VVI = "diagonal", VVV = "full")

rows <- list()
for (name in names(sets)) {
  X <- sets[[name]]
  write.csv(X, file.path(out_dir, paste0("mclust_", name, "_X.csv")), row.names = FALSE)
  n <- nrow(X)
  d <- ncol(X)
  bic <- mclustBIC(X, G = 1:9, modelNames = names(models))
  best <- max(bic, na.rm = TRUE)
  for (model in names(models)) {
    for (k in 1:9) {
      value <- bic[as.character(k), model]
      p <- nMclustParams(model, d, k)
      rows[[length(rows) + 1]] <- data.frame(
        dataset = name, n = n, d = d, model = model, type = models[[model]], k = k,
        bic = sprintf("%.17g", value), n_parameters = p,
        log_likelihood = sprintf("%.17g", (value + p * log(n)) / 2),
        chosen = as.integer(!is.na(value) && value == best))
    }
  }
  top <- which(bic == best, arr.ind = TRUE)
  cat(sprintf("%s: %d x %d, mclust's choice %s with k = %s (BIC %.4f)\n", name, n, d,
              colnames(bic)[top[1, 2]], rownames(bic)[top[1, 1]], best))
}
table <- do.call(rbind, rows)
write.csv(table, file.path(out_dir, "mclust_bic.csv"), row.names = FALSE, quote = FALSE)
