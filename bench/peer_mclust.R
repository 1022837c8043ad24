#!/usr/bin/env Rscript
# Model-selection peer: R's mclust on the data of emcluster_bench_model_selection
# (bench/model_selection.cpp), which starts it as
#
#     Rscript bench/peer_mclust.R x=<data.csv>
#
# and reads the one line it prints:
#
#     RESULT time=<seconds of mclustBIC> best_bic=<emcluster's sign> best=<type>,<k> fits=36 failed=<NA cells> version=<mclust>
#
# mclustBIC(X, G = 1:9, modelNames = c("VII", "EEE", "VVI", "VVV")) with every other option
# at its default (EM from mclust's model-based hierarchical clustering of all the rows, no
# prior, no noise component): the four models emcluster calls spherical, tied, diagonal and
# full. The time is the elapsed time of that call alone (reading the data is not counted).
# best_bic is minus mclust's highest BIC, so that lower is better as in emcluster.
suppressPackageStartupMessages(library(mclust))

args <- commandArgs(trailingOnly = TRUE)
values <- sub("^[^=]*=", "", args)
names(values) <- sub("=.*$", "", args)
X <- as.matrix(read.csv(values[["x"]]))

models <- c(VII = "spherical", EEE = "tied", VVI = "diagonal", VVV = "full")
start <- proc.time()[["elapsed"]]
bic <- mclustBIC(X, G = 1:9, modelNames = names(models))
elapsed <- proc.time()[["elapsed"]] - start

best <- max(bic, na.rm = TRUE)
top <- which(bic == best, arr.ind = TRUE)
cat(sprintf("RESULT time=%.6f best_bic=%.10g best=%s,%s fits=%d failed=%d version=%s\n",
            elapsed, -best, models[[colnames(bic)[top[1, 2]]]], rownames(bic)[top[1, 1]],
            length(bic), sum(is.na(bic)), as.character(packageVersion("mclust"))))
