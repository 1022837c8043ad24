/// @file model_selection.hpp
/// @brief Choosing the number of clusters and the model: a search over Gaussian mixtures
/// (k x covariance type x noise component, scored by BIC, ICL or AIC, as R's mclust's
/// mclustBIC) and a search over K-means (k, scored by the silhouette, Calinski-Harabasz or
/// Davies-Bouldin index). Each returns one row per candidate, the best model ready to use,
/// and the table as aligned text and as CSV.
///
/// @code
/// #include <emcluster/model_selection.hpp>
///
/// Eigen::MatrixXd Z = ...;                               // n x d, standardized
/// emcluster::GaussianMixtureSearch<>::Options opts;      // k = 1..9, all four types, BIC
/// opts.noise = emcluster::NoiseSearch::both;             // with and without a noise component
/// emcluster::GaussianMixtureSearch<> search(opts);
/// search.fit(Z);
/// std::cout << search.summary();                         // BIC by k and model, top three
/// const auto& best = search.best();                      // k, covariance type, noise, BIC, ...
/// Eigen::VectorXi labels = search.best_model().predict(Z);  // -1 for noise
/// @endcode
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/mixture_params.hpp"
#include "detail/model_selection.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"
#include "gaussian_mixture.hpp"
#include "kmeans.hpp"
#include "metrics.hpp"
#include "options.hpp"

namespace emcluster {

/// The information criterion a GaussianMixtureSearch ranks its candidates by. Every one is
/// "lower is better" (scikit-learn's sign); R's mclust reports the same numbers negated
/// (its BIC = 2 log L - p log n = minus emcluster's).
enum class SelectionCriterion {
  bic,  ///< Bayesian information criterion: -2 log L + p log n (the default, as mclust)
  icl,  ///< integrated complete-data likelihood: BIC - 2 sum_i log max_j z_ij (mclust's icl,
        ///< negated)
  aic   ///< Akaike information criterion: -2 log L + 2 p
};

/// Whether the candidates of a GaussianMixtureSearch have a uniform noise component.
enum class NoiseSearch {
  off,  ///< Gaussian components only (the default, as mclust without a noise initialisation)
  on,   ///< every candidate has the noise component
  both  ///< every (k, covariance type) without and with the noise component
};

/// The index a KMeansSearch ranks its candidates by.
enum class KMeansScore {
  silhouette,         ///< mean silhouette coefficient, higher is better (the default)
  calinski_harabasz,  ///< between- over within-cluster dispersion, higher is better
  davies_bouldin      ///< mean similarity of each cluster to its closest one, lower is better
};

/// The criterion named "bic", "icl" or "aic" (any case).
/// @throws std::invalid_argument naming `criterion` for any other name.
/// @code
/// opts.criterion = emcluster::parse_selection_criterion("icl");
/// @endcode
inline SelectionCriterion parse_selection_criterion(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "bic") return SelectionCriterion::bic;
  if (lower == "icl") return SelectionCriterion::icl;
  if (lower == "aic") return SelectionCriterion::aic;
  detail::fail("parse_selection_criterion", "criterion \"", name,
               "\" is unknown; use \"bic\", \"icl\" or \"aic\"");
}

/// The score named "silhouette", "calinski_harabasz" or "davies_bouldin" (any case).
/// @throws std::invalid_argument naming `score` for any other name.
/// @code
/// opts.score = emcluster::parse_kmeans_score("davies_bouldin");
/// @endcode
inline KMeansScore parse_kmeans_score(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "silhouette") return KMeansScore::silhouette;
  if (lower == "calinski_harabasz") return KMeansScore::calinski_harabasz;
  if (lower == "davies_bouldin") return KMeansScore::davies_bouldin;
  detail::fail("parse_kmeans_score", "score \"", name,
               "\" is unknown; use \"silhouette\", \"calinski_harabasz\" or \"davies_bouldin\"");
}

/// The short name of a criterion: "BIC", "ICL" or "AIC".
inline const char* criterion_name(SelectionCriterion criterion) {
  switch (criterion) {
    case SelectionCriterion::bic:
      return "BIC";
    case SelectionCriterion::icl:
      return "ICL";
    case SelectionCriterion::aic:
      return "AIC";
  }
  return "?";
}

/// The name of a K-means score: "silhouette", "calinski_harabasz" or "davies_bouldin".
inline const char* score_name(KMeansScore score) {
  switch (score) {
    case KMeansScore::silhouette:
      return "silhouette";
    case KMeansScore::calinski_harabasz:
      return "calinski_harabasz";
    case KMeansScore::davies_bouldin:
      return "davies_bouldin";
  }
  return "?";
}

/// The name R's mclust gives the same covariance model: VVV (full), EEE (tied), VVI
/// (diagonal), VII (spherical).
inline const char* mclust_model_name(CovarianceType type) {
  switch (type) {
    case CovarianceType::full:
      return "VVV";
    case CovarianceType::tied:
      return "EEE";
    case CovarianceType::diagonal:
      return "VVI";
    case CovarianceType::spherical:
      return "VII";
  }
  return "?";
}

/// One candidate of a GaussianMixtureSearch: a row of its table.
///
/// A candidate whose fit failed (a covariance that is not positive definite even after
/// reg_covar, a noise box without volume, ...) has `failed` set and the exception's message
/// in `error`; its numbers are NaN (mclust reports NA there).
struct MixtureCandidate {
  /// The value of a number that was not computed (a failed fit's).
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  /// Number of Gaussian components.
  Eigen::Index k = 0;
  /// Covariance model.
  CovarianceType covariance_type = CovarianceType::full;
  /// With the uniform noise component.
  bool noise = false;
  /// The fit threw; see `error`.
  bool failed = false;
  /// The exception's message, if failed.
  std::string error;
  /// Total log-likelihood log L of the fitted model on X.
  double log_likelihood = kNaN;
  /// Free parameters p (GaussianMixture::n_parameters()).
  Eigen::Index n_parameters = 0;
  /// -2 log L + p log n.
  double bic = kNaN;
  /// bic - 2 sum_i log max_j z_ij.
  double icl = kNaN;
  /// -2 log L + 2 p.
  double aic = kNaN;
  /// Weight of the noise component (0 without one).
  double noise_weight = kNaN;
  /// bic, icl or aic: the search's criterion.
  double criterion = kNaN;
  /// EM iterations of the kept start, refinement included.
  int n_iter = 0;
  /// Whether the last fit stopped on its tolerance (not on its iteration limit).
  bool converged = false;
  /// Whether EM continued to refine_tol as one of the best candidates (see `refine`).
  bool refined = false;

  /// "full", "tied", "diagonal" or "spherical", with "+noise" for a noise component.
  std::string model() const {
    return std::string(detail::covariance_type_name(covariance_type)) + (noise ? "+noise" : "");
  }
};

/// One candidate of a KMeansSearch: a row of its table. A candidate whose score is not
/// defined (a single cluster, k = n, ...) has `failed` set and the reason in `error`.
struct KMeansCandidate {
  Eigen::Index k = 0;                                            ///< number of clusters
  bool failed = false;                                           ///< see `error`
  std::string error;                                             ///< why, if failed
  double inertia = std::numeric_limits<double>::quiet_NaN();     ///< sum of squared distances
  double silhouette = std::numeric_limits<double>::quiet_NaN();  ///< NaN unless computed
  double calinski_harabasz = std::numeric_limits<double>::quiet_NaN();  ///< NaN unless computed
  double davies_bouldin = std::numeric_limits<double>::quiet_NaN();     ///< NaN unless computed
  double criterion = std::numeric_limits<double>::quiet_NaN();          ///< the search's score
  int n_iter = 0;          ///< Lloyd iterations of the kept restart
  bool converged = false;  ///< whether it converged within max_iter
};

/// Options of GaussianMixtureSearch (its `Options`): the candidates, the criterion and the
/// fits' settings.
struct GaussianMixtureSearchOptions {
  /// Candidate numbers of components (each >= 1 and at most the number of samples).
  std::vector<Eigen::Index> n_components = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  /// Candidate covariance models.
  std::vector<CovarianceType> covariance_types = {CovarianceType::full, CovarianceType::tied,
                                                  CovarianceType::diagonal,
                                                  CovarianceType::spherical};
  /// Candidates without (off), with (on) or without and with (both) the noise component.
  NoiseSearch noise = NoiseSearch::off;
  /// What best() minimises.
  SelectionCriterion criterion = SelectionCriterion::bic;
  /// Starts per k (>= 1): each candidate is fitted from every one and keeps the best.
  int n_init = 1;
  /// KMeans restarts behind each start, the lowest inertia wins (KMeans's n_init: 0 = its
  /// auto, >= 1 that many).
  int kmeans_n_init = 3;
  /// The K-means of a start runs on a uniform random subset of m = max(init_sample_size,
  /// 64 k) rows when X has at least 2 m rows (0 = always on every row).
  Eigen::Index init_sample_size = 4096;
  /// GaussianMixture's tol for every candidate: stop when the mean log-likelihood per
  /// sample changes by less (scikit-learn's default).
  double tol = 1e-3;
  /// GaussianMixture's reg_covar, added to every covariance diagonal (0 = none, as mclust).
  double reg_covar = 1e-6;
  /// EM iterations per candidate fit at most (>= 1).
  int max_iter = 100;
  /// How many of the best candidates (by the criterion) EM continues to `refine_tol` once
  /// every candidate is fitted (0 = none).
  int refine = 5;
  /// The refined candidates' tol (>= 0; about mclust's relative 1e-5 on the log-likelihood).
  double refine_tol = 1e-5;
  /// EM iterations of a refinement at most (>= 1).
  int refine_max_iter = 1000;
  /// Seed of the K-means initialisations.
  std::uint64_t seed = 0;
  /// Lower corners of the noise box (d entries); empty = the data's minimum per feature.
  Eigen::VectorXd noise_low;
  /// Upper corners of the noise box (d entries); empty = the data's maximum per feature.
  Eigen::VectorXd noise_high;
  /// Starting weight of the noise component, in (0, 1).
  double initial_noise_weight = 0.1;
  /// Called with every row once its fit is done (in the order of results()), and again with
  /// each refined row (`refined` set) once it is refined, if set.
  std::function<void(const MixtureCandidate&)> callback;
};

/// Options of KMeansSearch (its `Options`).
struct KMeansSearchOptions {
  /// Candidate numbers of clusters (each >= 1 and at most the number of samples).
  std::vector<Eigen::Index> n_clusters = {2, 3, 4, 5, 6, 7, 8, 9};
  /// What best() optimises.
  KMeansScore score = KMeansScore::silhouette;
  /// Compute all three indices (else only `score`'s; the others stay NaN).
  bool all_scores = false;
  /// sample_size, seed and exclude_noise of silhouette_score.
  SilhouetteOptions silhouette;
  /// KMeans's n_init (0 = its auto).
  int n_init = 0;
  /// KMeans's max_iter (>= 1).
  int max_iter = 300;
  /// KMeans's tol (>= 0).
  double tol = 1e-4;
  /// Seed of the K-means runs.
  std::uint64_t seed = 0;
  /// Called with every row once it is done, if set.
  std::function<void(const KMeansCandidate&)> callback;
};

/// Chooses the number of components, the covariance type and the noise component of a
/// Gaussian mixture by an information criterion: R's mclust's `mclustBIC` for emcluster.
///
/// **Candidates.** Every k of `n_components` (default 1..9), every covariance type of
/// `covariance_types` (default all four: full = mclust's VVV, tied = EEE, diagonal = VVI,
/// spherical = VII) and, as `noise` says, without and/or with the uniform noise component;
/// rows in that order (k, then type, then noise off before on).
///
/// **Fits.** The candidates with the same k share their initialisation: one KMeans per k
/// (`kmeans_n_init` restarts, the lowest inertia wins) gives the initial means of every
/// covariance type and noise setting (GaussianMixtureInit::explicit_parameters: each
/// sample's nearest mean, which is its K-means label, gives the first M-step). On large data
/// (at least 2 m rows, m = max(`init_sample_size`, 64 k)) that K-means runs on a uniform
/// random subset of m rows: its centres are only a start, which EM refines on every row.
/// With `n_init` > 1 there are that many starts per k, from differently seeded K-means runs,
/// and each candidate keeps the start with the highest lower bound (a start whose fit fails
/// numerically is passed over; the candidate fails when all do). k = 1 needs no K-means: its
/// start is the data's mean, its first M-step the closed-form maximum-likelihood Gaussian
/// (with the covariance type's constraint), which EM then keeps. Every fit is a
/// GaussianMixture and uses the library's threads; every seed depends only on (seed, k,
/// start), so a candidate's row does not depend on which other candidates run, nor on the
/// thread count.
///
/// **Refinement.** Every candidate is fitted with `tol` (scikit-learn's 1e-3 on the mean
/// log-likelihood per sample by default). That stops EM early where it creeps along a plateau,
/// and the BIC, which scales with n, can then be off by tens of units on large data. So once
/// all candidates are fitted, EM continues on the `refine` best (default 5) from their
/// parameters to `refine_tol` (1e-5, about mclust's relative tolerance), and they are scored
/// again; the rows say which were refined.
///
/// **Scores** (lower is better, scikit-learn's sign; mclust's BIC and ICL are these negated):
/// with L the total log-likelihood of the fitted model, p its free parameters (as
/// GaussianMixture::n_parameters(): k - 1 weights, k d means, the covariance entries, plus
/// one for the noise weight) and z_ij the posterior probabilities (the noise column counted
/// as a component): BIC = -2 log L + p log n, ICL = BIC - 2 sum_i log max_j z_ij (mclust's
/// ICL: BIC plus twice the entropy of the hard classification), AIC = -2 log L + 2 p. For the
/// four models without noise p is mclust's count; with noise mclust counts one more (it
/// counts the noise density's hypervolume too), so its BIC of a noise model is lower by log n
/// than minus emcluster's. The ICL's term is summed by blocks of rows: no n x k matrix.
///
/// **Failures** are rows: a candidate whose fit throws emcluster::numerical_error (a
/// covariance not positive definite after `reg_covar`) or std::invalid_argument from the
/// data (a noise box without volume) gets `failed` and the message, as mclust reports NA.
///
/// @tparam Scalar `float` or `double`, the scalar type of the data and of the models.
///
/// @code
/// emcluster::GaussianMixtureSearch<>::Options opts;
/// opts.n_components = {1, 2, 3, 4, 5, 6};
/// opts.covariance_types = {emcluster::CovarianceType::full, emcluster::CovarianceType::tied};
/// opts.noise = emcluster::NoiseSearch::both;
/// opts.criterion = emcluster::SelectionCriterion::icl;
/// opts.callback = [](const emcluster::MixtureCandidate& c) {
///   std::printf("k = %ld %s: ICL %.1f\n", static_cast<long>(c.k), c.model().c_str(), c.icl);
/// };
/// emcluster::GaussianMixtureSearch<> search(opts);
/// const emcluster::GaussianMixture<>& gmm = search.fit(X).best_model();
/// std::ofstream("bic.csv") << search.csv();
/// @endcode
///
/// Errors: std::invalid_argument naming the option for an empty candidate list, a k < 1 or
/// above the number of samples, a repeated candidate, an unknown criterion, covariance type
/// or noise setting, or bad fit options; for data as GaussianMixture (empty, non-finite
/// values by row and column). emcluster::numerical_error when every candidate failed.
/// emcluster::not_fitted_error for the results before fit. A fit that throws leaves the
/// search as it was.
template <typename Scalar = double>
class GaussianMixtureSearch {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster::GaussianMixtureSearch<Scalar>: Scalar must be float or double");

 public:
  using Model = GaussianMixture<Scalar>;  ///< the type of the best model

  /// Parameters fixed at construction (the same for float and double).
  using Options = GaussianMixtureSearchOptions;

  /// A search with the default options (k = 1..9, four types, no noise, BIC).
  GaussianMixtureSearch() = default;
  /// A search with the given options; they are checked by fit().
  explicit GaussianMixtureSearch(Options options) : options_(std::move(options)) {}

  /// Fits every candidate to X (n x d, samples in rows) and keeps the best model.
  /// @return *this.
  template <typename Derived>
  GaussianMixtureSearch& fit(const Eigen::MatrixBase<Derived>& X) {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::GaussianMixtureSearch<Scalar>: X must have the search's scalar type");
    const char* where = "GaussianMixtureSearch::fit";
    detail::check_data(where, "X", X);
    check_options(X.rows(), X.cols());
    const auto& o = options_;
    std::vector<bool> noise_settings;
    if (o.noise != NoiseSearch::on) noise_settings.push_back(false);
    if (o.noise != NoiseSearch::off) noise_settings.push_back(true);

    std::vector<MixtureCandidate> rows;
    std::vector<Model> models;  // one per row (unfitted where the row failed): k d^2 each
    for (Eigen::Index k : o.n_components) {
      // The starts shared by every candidate with this k.
      std::vector<Eigen::MatrixXd> starts;
      std::string start_error;
      try {
        starts = initial_means(X, k);
      } catch (const numerical_error& e) {
        start_error = e.what();
      }
      for (CovarianceType type : o.covariance_types) {
        for (bool noise : noise_settings) {
          MixtureCandidate row;
          row.k = k;
          row.covariance_type = type;
          row.noise = noise;
          row.n_parameters = detail::free_parameters(type, k, X.cols(), noise);
          Model model;
          if (!start_error.empty()) {
            row.failed = true;
            row.error = start_error;
          } else {
            try {
              model = fit_candidate(X, starts, type, noise);
              score_candidate(X, model, row);
            } catch (const numerical_error& e) {
              row.failed = true;
              row.error = e.what();
            } catch (const std::invalid_argument& e) {
              row.failed = true;
              row.error = e.what();
            }
          }
          if (o.callback) o.callback(row);
          rows.push_back(std::move(row));
          models.push_back(std::move(model));
        }
      }
    }
    refine_best(X, rows, models);
    std::ptrdiff_t best = -1;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (rows[r].failed) continue;
      if (best < 0 || rows[r].criterion < rows[static_cast<std::size_t>(best)].criterion) {
        best = static_cast<std::ptrdiff_t>(r);
      }
    }
    if (best < 0) {
      throw numerical_error(detail::message(where, ": every one of the ", rows.size(),
                                            " candidates failed; the first (k = ", rows[0].k, ", ",
                                            rows[0].model(), "): ", rows[0].error));
    }
    Model best_model = std::move(models[static_cast<std::size_t>(best)]);
    // Commit: nothing above touched the search.
    rows_ = std::move(rows);
    best_ = static_cast<std::size_t>(best);
    best_model_ = std::move(best_model);
    criterion_ = o.criterion;
    fitted_ = true;
    return *this;
  }

  /// Every candidate, in the order of the search (k, then covariance type, then noise).
  const std::vector<MixtureCandidate>& results() const {
    detail::check_fitted("GaussianMixtureSearch::results", fitted_);
    return rows_;
  }
  /// Position of the best candidate in results(): the lowest criterion (the first on ties).
  std::size_t best_index() const {
    detail::check_fitted("GaussianMixtureSearch::best_index", fitted_);
    return best_;
  }
  /// The best candidate's row.
  const MixtureCandidate& best() const {
    detail::check_fitted("GaussianMixtureSearch::best", fitted_);
    return rows_[best_];
  }
  /// The best candidate's fitted mixture, ready for predict, predict_proba, score, ...
  const Model& best_model() const {
    detail::check_fitted("GaussianMixtureSearch::best_model", fitted_);
    return best_model_;
  }
  /// Whether fit() has succeeded.
  bool is_fitted() const { return fitted_; }
  /// The options given at construction.
  const Options& options() const { return options_; }

  /// Every row as aligned text, one line per candidate (failed ones with their message),
  /// the best marked with '*'.
  std::string table() const {
    detail::check_fitted("GaussianMixtureSearch::table", fitted_);
    std::vector<std::vector<std::string>> cells = {{"k", "model", "mclust", "log-likelihood",
                                                    "params", "BIC", "ICL", "AIC", "noise weight",
                                                    "iter", "conv", "refined", "best"}};
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const MixtureCandidate& c = rows_[r];
      std::vector<std::string> line = {std::to_string(c.k), c.model(),
                                       mclust_model_name(c.covariance_type)};
      if (c.failed) {
        line.push_back("failed: " + c.error);
      } else {
        line.insert(line.end(),
                    {detail::fixed(c.log_likelihood, 3), std::to_string(c.n_parameters),
                     detail::fixed(c.bic, 3), detail::fixed(c.icl, 3), detail::fixed(c.aic, 3),
                     c.noise ? detail::fixed(c.noise_weight, 4) : "-", std::to_string(c.n_iter),
                     c.converged ? "yes" : "no", c.refined ? "yes" : "", r == best_ ? "*" : ""});
      }
      cells.push_back(std::move(line));
    }
    return detail::aligned(cells, {1, 2, 12});
  }

  /// The criterion as a k x model matrix (as mclust's print of a BIC table: one row per k,
  /// one column per model, NA where the fit failed), then the three best candidates, in
  /// emcluster's sign (lower is better).
  std::string summary() const {
    detail::check_fitted("GaussianMixtureSearch::summary", fitted_);
    const char* name = criterion_name(criterion_);
    std::string out = std::string(name) + " (lower is better; mclust's " + name +
                      " is minus this), by k and model:\n";
    // Columns: the models in order of first appearance (types without noise, then with).
    std::vector<std::string> models;
    for (bool noise : {false, true}) {
      for (const MixtureCandidate& c : rows_) {
        if (c.noise != noise) continue;
        if (std::find(models.begin(), models.end(), c.model()) == models.end()) {
          models.push_back(c.model());
        }
      }
    }
    std::vector<std::vector<std::string>> cells(1, std::vector<std::string>{"k"});
    for (const std::string& m : models) cells[0].push_back(m);
    std::vector<Eigen::Index> ks;
    for (const MixtureCandidate& c : rows_) {
      if (std::find(ks.begin(), ks.end(), c.k) == ks.end()) ks.push_back(c.k);
    }
    for (Eigen::Index k : ks) {
      std::vector<std::string> line(models.size() + 1, "");
      line[0] = std::to_string(k);
      for (const MixtureCandidate& c : rows_) {
        if (c.k != k) continue;
        const auto at = std::find(models.begin(), models.end(), c.model()) - models.begin();
        line[static_cast<std::size_t>(at) + 1] = detail::fixed(c.criterion, 3);
      }
      cells.push_back(std::move(line));
    }
    out += detail::aligned(cells);
    // The top three (fewer if fewer succeeded), best first; ties keep the search's order.
    std::vector<std::size_t> order;
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      if (!rows_[r].failed) order.push_back(r);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return rows_[a].criterion < rows_[b].criterion;
    });
    if (order.size() > 3) order.resize(3);
    out += "top " + std::to_string(order.size()) + " by " + name + ":";
    for (std::size_t r : order) {
      out += "  " + rows_[r].model() + ", k = " + std::to_string(rows_[r].k) + ": " +
             detail::fixed(rows_[r].criterion, 3) + ";";
    }
    out.back() = '\n';
    return out;
  }

  /// Every row as CSV with a header line: k, covariance_type, noise (0/1), mclust_model,
  /// log_likelihood, n_parameters, bic, icl, aic, noise_weight, n_iter, converged (0/1),
  /// refined (0/1), criterion, best (0/1), error. Numbers as "%.17g" (they read back exactly),
  /// empty where a fit failed.
  std::string csv() const {
    detail::check_fitted("GaussianMixtureSearch::csv", fitted_);
    std::string out =
        "k,covariance_type,noise,mclust_model,log_likelihood,n_parameters,bic,icl,aic,noise_weight,"
        "n_iter,converged,refined,criterion,best,error\n";
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const MixtureCandidate& c = rows_[r];
      out += std::to_string(c.k) + ',' + detail::covariance_type_name(c.covariance_type) + ',' +
             (c.noise ? "1," : "0,") + mclust_model_name(c.covariance_type) + ',' +
             detail::exact(c.log_likelihood) + ',' + std::to_string(c.n_parameters) + ',' +
             detail::exact(c.bic) + ',' + detail::exact(c.icl) + ',' + detail::exact(c.aic) + ',' +
             detail::exact(c.noise_weight) + ',' + std::to_string(c.n_iter) + ',' +
             (c.converged ? "1," : "0,") + (c.refined ? "1," : "0,") + detail::exact(c.criterion) +
             ',' + (r == best_ ? "1," : "0,") + detail::csv_field(c.error) + '\n';
    }
    return out;
  }

 private:
  void check_options(Eigen::Index n, Eigen::Index d) const {
    const char* where = "GaussianMixtureSearch::fit";
    const auto& o = options_;
    detail::check_k_list(where, "n_components", o.n_components, n);
    if (o.covariance_types.empty()) {
      detail::fail(where, "covariance_types is empty; give at least one covariance type");
    }
    for (std::size_t i = 0; i < o.covariance_types.size(); ++i) {
      const CovarianceType t = o.covariance_types[i];
      if (t != CovarianceType::full && t != CovarianceType::tied && t != CovarianceType::diagonal &&
          t != CovarianceType::spherical) {
        detail::fail(where, "covariance_types[", i, "] = ", static_cast<int>(t),
                     " is not a CovarianceType");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (o.covariance_types[j] == t) {
          detail::fail(where, "covariance_types[", i, "] (", detail::covariance_type_name(t),
                       ") repeats covariance_types[", j, "]");
        }
      }
    }
    if (o.noise != NoiseSearch::off && o.noise != NoiseSearch::on && o.noise != NoiseSearch::both) {
      detail::fail(where, "noise = ", static_cast<int>(o.noise), " is not a NoiseSearch");
    }
    if (o.criterion != SelectionCriterion::bic && o.criterion != SelectionCriterion::icl &&
        o.criterion != SelectionCriterion::aic) {
      detail::fail(where, "criterion = ", static_cast<int>(o.criterion),
                   " is unknown; use SelectionCriterion::bic, icl or aic");
    }
    if (o.n_init < 1) detail::fail(where, "n_init = ", o.n_init, " must be at least 1");
    if (o.kmeans_n_init < 0) {
      detail::fail(where, "kmeans_n_init = ", o.kmeans_n_init, " must be >= 0 (0 = auto)");
    }
    if (!(o.tol >= 0) || !std::isfinite(o.tol)) {
      detail::fail(where, "tol = ", o.tol, " must be finite and >= 0");
    }
    if (!(o.reg_covar >= 0) || !std::isfinite(o.reg_covar)) {
      detail::fail(where, "reg_covar = ", o.reg_covar, " must be finite and >= 0");
    }
    if (o.max_iter < 1) detail::fail(where, "max_iter = ", o.max_iter, " must be at least 1");
    if (o.init_sample_size < 0) {
      detail::fail(where, "init_sample_size = ", o.init_sample_size,
                   " must be >= 0 (0 = every row)");
    }
    if (o.refine < 0) detail::fail(where, "refine = ", o.refine, " must be >= 0");
    if (!(o.refine_tol >= 0) || !std::isfinite(o.refine_tol)) {
      detail::fail(where, "refine_tol = ", o.refine_tol, " must be finite and >= 0");
    }
    if (o.refine_max_iter < 1) {
      detail::fail(where, "refine_max_iter = ", o.refine_max_iter, " must be at least 1");
    }
    if (o.noise == NoiseSearch::off) return;
    if (!(o.initial_noise_weight > 0 && o.initial_noise_weight < 1)) {
      detail::fail(where, "initial_noise_weight = ", o.initial_noise_weight, " must be in (0, 1)");
    }
    if (o.noise_low.size() != o.noise_high.size()) {
      detail::fail(where, "noise_low has ", o.noise_low.size(), " entries but noise_high has ",
                   o.noise_high.size());
    }
    if (o.noise_low.size() != 0 && o.noise_low.size() != d) {
      detail::fail(where, "noise_low and noise_high have ", o.noise_low.size(),
                   " entries but X has ", d, " features");
    }
    for (Eigen::Index f = 0; f < o.noise_low.size(); ++f) {
      if (!std::isfinite(o.noise_low(f)) || !std::isfinite(o.noise_high(f)) ||
          !(o.noise_low(f) < o.noise_high(f))) {
        detail::fail(where, "the noise box needs finite noise_low[", f, "] < noise_high[", f,
                     "], got ", o.noise_low(f), " and ", o.noise_high(f));
      }
    }
  }

  /// The initial means of every start for k components: the data's mean for k = 1, else
  /// the centres of one KMeans per start (on a random subset of the rows for large X).
  template <typename Derived>
  std::vector<Eigen::MatrixXd> initial_means(const Eigen::MatrixBase<Derived>& X,
                                             Eigen::Index k) const {
    std::vector<Eigen::MatrixXd> starts;
    if (k == 1) {
      starts.push_back(column_means(X));
      return starts;
    }
    const Eigen::Index m = std::max<Eigen::Index>(options_.init_sample_size, 64 * k);
    const bool sample = options_.init_sample_size > 0 && X.rows() >= 2 * m;
    for (int s = 0; s < options_.n_init; ++s) {
      const std::uint64_t seed = detail::candidate_seed(options_.seed, k, s);
      typename KMeans<Scalar>::Options ko;
      ko.n_clusters = k;
      ko.n_init = options_.kmeans_n_init;
      ko.seed = seed;
      KMeans<Scalar> km(ko);
      if (sample) {
        km.fit(random_rows(X, m, detail::splitmix64(seed)));
      } else {
        km.fit(X);
      }
      starts.push_back(km.cluster_centers().template cast<double>());
    }
    return starts;
  }

  /// m rows of X drawn uniformly without replacement, in their order in X (selection
  /// sampling: row i is taken with probability (still needed) / (rows left)).
  template <typename Derived>
  static typename Model::Matrix random_rows(const Eigen::MatrixBase<Derived>& X, Eigen::Index m,
                                            std::uint64_t seed) {
    detail::Random rng(seed);
    typename Model::Matrix out(m, X.cols());
    Eigen::Index taken = 0;
    const Eigen::Index n = X.rows();
    for (Eigen::Index i = 0; i < n && taken < m; ++i) {
      if (rng.uniform() * static_cast<double>(n - i) < static_cast<double>(m - taken)) {
        out.row(taken++) = X.row(i);
      }
    }
    return out;
  }

  /// Mean of every column, summed in double in a fixed order (1 x d).
  template <typename Derived>
  static Eigen::MatrixXd column_means(const Eigen::MatrixBase<Derived>& X) {
    const auto chunks = detail::make_chunks(X.rows(), 0);
    std::vector<Eigen::RowVectorXd> sums(chunks.size());
    detail::for_each_chunk(chunks, [&](std::size_t c, const detail::Chunk& chunk) {
      sums[c] = X.middleRows(chunk.begin, chunk.size()).template cast<double>().colwise().sum();
    });
    Eigen::RowVectorXd total = Eigen::RowVectorXd::Zero(X.cols());
    for (const auto& s : sums) total += s;
    return total / static_cast<double>(X.rows());
  }

  /// The candidate fitted from every start; the start with the highest lower bound is kept
  /// (the first on ties). A start whose fit fails numerically is passed over; the candidate
  /// fails only when every start does.
  template <typename Derived>
  Model fit_candidate(const Eigen::MatrixBase<Derived>& X,
                      const std::vector<Eigen::MatrixXd>& starts, CovarianceType type,
                      bool noise) const {
    const auto& o = options_;
    Model best;
    bool have_best = false;
    std::string first_error;
    for (std::size_t s = 0; s < starts.size(); ++s) {
      typename Model::Options go;
      go.n_components = starts[s].rows();
      go.covariance_type = type;
      go.tol = o.tol;
      go.reg_covar = o.reg_covar;
      go.max_iter = o.max_iter;
      go.n_init = 1;
      go.init = GaussianMixtureInit::explicit_parameters;
      go.initial_means = starts[s].template cast<Scalar>();
      go.noise_component = noise;
      go.noise_low = o.noise_low;
      go.noise_high = o.noise_high;
      go.initial_noise_weight = o.initial_noise_weight;
      Model model(std::move(go));
      try {
        model.fit(X);
      } catch (const numerical_error& e) {
        if (first_error.empty()) first_error = e.what();
        continue;
      }
      if (!have_best || model.lower_bound() > best.lower_bound()) {
        best = std::move(model);
        have_best = true;
      }
    }
    if (!have_best) {
      if (starts.size() == 1) throw numerical_error(first_error);
      throw numerical_error(detail::message("every one of the ", starts.size(),
                                            " starts failed; the first: ", first_error));
    }
    return best;
  }

  /// EM continued from a fitted candidate's parameters with refine_tol and refine_max_iter:
  /// a new model whose every initial parameter is the candidate's (nothing recomputed from
  /// the data), over the same noise box.
  template <typename Derived>
  Model continue_fit(const Eigen::MatrixBase<Derived>& X, const Model& from) const {
    const auto& o = options_;
    const Eigen::Index k = from.n_components();
    const CovarianceType type = from.covariance_type();
    typename Model::Options go;
    go.n_components = k;
    go.covariance_type = type;
    go.tol = o.refine_tol;
    go.reg_covar = o.reg_covar;
    go.max_iter = o.refine_max_iter;
    go.n_init = 1;
    go.init = GaussianMixtureInit::explicit_parameters;
    const bool noise = from.options().noise_component;
    const double w0 = noise ? std::min(std::max(from.noise_weight(), 1e-12), 1.0 - 1e-12) : 0.0;
    go.initial_weights =
        (from.weights().template cast<double>() / (1.0 - w0)).template cast<Scalar>();
    go.initial_means = from.means();
    const Eigen::Index blocks = detail::covariance_blocks(type, k);
    for (Eigen::Index b = 0; b < blocks; ++b) {
      const Eigen::MatrixXd P = from.precisions_cholesky(b).template cast<double>();
      Eigen::MatrixXd precision = P * P.transpose();
      precision = 0.5 * (precision + precision.transpose()).eval();
      switch (type) {
        case CovarianceType::full:
        case CovarianceType::tied:
          go.initial_precisions.push_back(precision.template cast<Scalar>());
          break;
        case CovarianceType::diagonal:
          go.initial_precisions.push_back(precision.diagonal().template cast<Scalar>());
          break;
        case CovarianceType::spherical:
          go.initial_precisions.push_back(precision.topLeftCorner(1, 1).template cast<Scalar>());
          break;
      }
    }
    go.noise_component = noise;
    if (noise) {
      go.noise_low = from.noise_low();
      go.noise_high = from.noise_high();
      go.initial_noise_weight = w0;
    }
    Model model(std::move(go));
    model.fit(X);
    return model;
  }

  /// Continues EM on the `refine` best candidates (by the criterion) to refine_tol and
  /// rescores them; a refinement that fails numerically leaves the candidate as it was.
  template <typename Derived>
  void refine_best(const Eigen::MatrixBase<Derived>& X, std::vector<MixtureCandidate>& rows,
                   std::vector<Model>& models) const {
    std::vector<std::size_t> order;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (!rows[r].failed) order.push_back(r);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return rows[a].criterion < rows[b].criterion;
    });
    if (order.size() > static_cast<std::size_t>(options_.refine)) {
      order.resize(static_cast<std::size_t>(options_.refine));
    }
    for (std::size_t r : order) {
      MixtureCandidate row = rows[r];
      Model model;
      try {
        model = continue_fit(X, models[r]);
        score_candidate(X, model, row);
      } catch (const numerical_error&) {
        continue;
      }
      row.n_iter += rows[r].n_iter;
      row.refined = true;
      rows[r] = std::move(row);
      models[r] = std::move(model);
      if (options_.callback) options_.callback(rows[r]);
    }
  }

  /// Fills the numbers of a fitted candidate's row.
  template <typename Derived>
  void score_candidate(const Eigen::MatrixBase<Derived>& X, const Model& model,
                       MixtureCandidate& row) const {
    const double n = static_cast<double>(X.rows());
    const double p = static_cast<double>(model.n_parameters());
    row.n_parameters = model.n_parameters();
    row.log_likelihood = model.score(X) * n;
    row.bic = -2.0 * row.log_likelihood + p * std::log(n);
    row.aic = -2.0 * row.log_likelihood + 2.0 * p;
    row.icl = row.bic - 2.0 * detail::sum_log_max_posterior(model, X);
    row.noise_weight = model.noise_weight();
    row.n_iter = model.n_iter();
    row.converged = model.converged();
    switch (options_.criterion) {
      case SelectionCriterion::bic:
        row.criterion = row.bic;
        break;
      case SelectionCriterion::icl:
        row.criterion = row.icl;
        break;
      case SelectionCriterion::aic:
        row.criterion = row.aic;
        break;
    }
    if (!std::isfinite(row.criterion)) {
      throw numerical_error(detail::message("GaussianMixtureSearch::fit: the ",
                                            criterion_name(options_.criterion),
                                            " of the fitted model is not finite"));
    }
  }

  Options options_;
  std::vector<MixtureCandidate> rows_;
  std::size_t best_ = 0;
  Model best_model_;
  SelectionCriterion criterion_ = SelectionCriterion::bic;
  bool fitted_ = false;
};

/// Chooses the number of K-means clusters by an internal index: the silhouette (default),
/// Calinski-Harabasz or Davies-Bouldin, what scikit-learn users compute in a loop.
///
/// Every k of `n_clusters` (default 2..9: every index needs at least two clusters) is one
/// KMeans (`n_init` restarts, seed from (seed, k) only), scored on its own labels.
/// silhouette_score is O(n^2 d) (exact, blocked, threaded); give `silhouette.sample_size`
/// to score a random subset of the rows instead, as scikit-learn's `sample_size`. The index
/// chosen by `score` is always computed; with `all_scores` the other two as well (the
/// silhouette then also costs O(n^2 d)), else they are NaN. The best candidate has the
/// highest silhouette or Calinski-Harabasz index, or the lowest Davies-Bouldin index.
///
/// A candidate whose index is not defined (k = 1, or k = n for the silhouette) is a failed
/// row with the metric's message; the result has the same shape as GaussianMixtureSearch's.
///
/// @code
/// emcluster::KMeansSearch<>::Options opts;
/// opts.n_clusters = {2, 3, 4, 5, 6};
/// opts.score = emcluster::KMeansScore::silhouette;
/// opts.silhouette.sample_size = 5000;  // score a subset on large data
/// emcluster::KMeansSearch<> search(opts);
/// search.fit(X);
/// std::cout << search.table();
/// Eigen::VectorXi labels = search.best_model().labels();
/// @endcode
///
/// Errors: std::invalid_argument naming the option for an empty list of k, k < 1, k above
/// the number of samples, a repeated k, an unknown score or bad KMeans options; for data as
/// KMeans. emcluster::numerical_error when every candidate failed; not_fitted_error for the
/// results before fit. A fit that throws leaves the search as it was.
template <typename Scalar = double>
class KMeansSearch {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster::KMeansSearch<Scalar>: Scalar must be float or double");

 public:
  using Model = KMeans<Scalar>;  ///< the type of the best model

  /// Parameters fixed at construction (the same for float and double).
  using Options = KMeansSearchOptions;

  /// A search with the default options (k = 2..9, silhouette).
  KMeansSearch() = default;
  /// A search with the given options; they are checked by fit().
  explicit KMeansSearch(Options options) : options_(std::move(options)) {}

  /// Fits KMeans for every candidate k on X (n x d) and keeps the best.
  /// @return *this.
  template <typename Derived>
  KMeansSearch& fit(const Eigen::MatrixBase<Derived>& X) {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::KMeansSearch<Scalar>: X must have the search's scalar type");
    const char* where = "KMeansSearch::fit";
    detail::check_data(where, "X", X);
    check_options(X.rows());
    const auto& o = options_;
    std::vector<KMeansCandidate> rows;
    Model best_model;
    std::ptrdiff_t best = -1;
    for (Eigen::Index k : o.n_clusters) {
      typename Model::Options ko;
      ko.n_clusters = k;
      ko.n_init = o.n_init;
      ko.max_iter = o.max_iter;
      ko.tol = o.tol;
      ko.seed = detail::candidate_seed(o.seed, k, 0);
      Model model(ko);
      model.fit(X);
      KMeansCandidate row;
      row.k = k;
      row.inertia = model.inertia();
      row.n_iter = model.n_iter();
      row.converged = model.converged();
      try {
        score_candidate(X, model.labels(), row);
      } catch (const std::invalid_argument& e) {
        row.failed = true;
        row.error = e.what();
      }
      if (!row.failed && !std::isfinite(row.criterion)) {
        row.failed = true;
        row.error = detail::message(where, ": the ", score_name(o.score), " score is not finite");
      }
      if (!row.failed && (best < 0 || better(row, rows[static_cast<std::size_t>(best)]))) {
        best = static_cast<std::ptrdiff_t>(rows.size());
        best_model = std::move(model);
      }
      if (o.callback) o.callback(row);
      rows.push_back(std::move(row));
    }
    if (best < 0) {
      throw numerical_error(detail::message(where, ": every one of the ", rows.size(),
                                            " candidates failed; the first (k = ", rows[0].k,
                                            "): ", rows[0].error));
    }
    rows_ = std::move(rows);
    best_ = static_cast<std::size_t>(best);
    best_model_ = std::move(best_model);
    score_ = o.score;
    fitted_ = true;
    return *this;
  }

  /// Every candidate, in the order of `n_clusters`.
  const std::vector<KMeansCandidate>& results() const {
    detail::check_fitted("KMeansSearch::results", fitted_);
    return rows_;
  }
  /// Position of the best candidate in results() (the first on ties).
  std::size_t best_index() const {
    detail::check_fitted("KMeansSearch::best_index", fitted_);
    return best_;
  }
  /// The best candidate's row.
  const KMeansCandidate& best() const {
    detail::check_fitted("KMeansSearch::best", fitted_);
    return rows_[best_];
  }
  /// The best candidate's fitted KMeans (labels(), cluster_centers(), predict, ...).
  const Model& best_model() const {
    detail::check_fitted("KMeansSearch::best_model", fitted_);
    return best_model_;
  }
  /// Whether fit() has succeeded.
  bool is_fitted() const { return fitted_; }
  /// The options given at construction.
  const Options& options() const { return options_; }

  /// Every row as aligned text, one line per candidate, the best marked with '*'.
  std::string table() const {
    detail::check_fitted("KMeansSearch::table", fitted_);
    std::vector<std::vector<std::string>> cells = {{"k", "inertia", "silhouette",
                                                    "calinski_harabasz", "davies_bouldin", "iter",
                                                    "conv", "best"}};
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const KMeansCandidate& c = rows_[r];
      std::vector<std::string> line = {std::to_string(c.k), detail::fixed(c.inertia, 4)};
      if (c.failed) {
        line.push_back("failed: " + c.error);
      } else {
        line.insert(line.end(),
                    {detail::fixed(c.silhouette, 4), detail::fixed(c.calinski_harabasz, 4),
                     detail::fixed(c.davies_bouldin, 4), std::to_string(c.n_iter),
                     c.converged ? "yes" : "no", r == best_ ? "*" : ""});
      }
      cells.push_back(std::move(line));
    }
    return std::string("score: ") + score_name(score_) +
           (score_ == KMeansScore::davies_bouldin ? " (lower is better)\n"
                                                  : " (higher is better)\n") +
           detail::aligned(cells, {7});
  }

  /// Every row as CSV with a header line: k, inertia, silhouette, calinski_harabasz,
  /// davies_bouldin, n_iter, converged (0/1), criterion, best (0/1), error. Numbers as
  /// "%.17g", empty where not computed.
  std::string csv() const {
    detail::check_fitted("KMeansSearch::csv", fitted_);
    std::string out =
        "k,inertia,silhouette,calinski_harabasz,davies_bouldin,n_iter,converged,criterion,best,"
        "error\n";
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const KMeansCandidate& c = rows_[r];
      out += std::to_string(c.k) + ',' + detail::exact(c.inertia) + ',' +
             detail::exact(c.silhouette) + ',' + detail::exact(c.calinski_harabasz) + ',' +
             detail::exact(c.davies_bouldin) + ',' + std::to_string(c.n_iter) + ',' +
             (c.converged ? "1," : "0,") + detail::exact(c.criterion) + ',' +
             (r == best_ ? "1," : "0,") + detail::csv_field(c.error) + '\n';
    }
    return out;
  }

 private:
  void check_options(Eigen::Index n) const {
    const char* where = "KMeansSearch::fit";
    const auto& o = options_;
    detail::check_k_list(where, "n_clusters", o.n_clusters, n);
    if (o.score != KMeansScore::silhouette && o.score != KMeansScore::calinski_harabasz &&
        o.score != KMeansScore::davies_bouldin) {
      detail::fail(where, "score = ", static_cast<int>(o.score),
                   " is unknown; use KMeansScore::silhouette, calinski_harabasz or davies_bouldin");
    }
    if (o.n_init < 0) detail::fail(where, "n_init = ", o.n_init, " must be >= 0 (0 = auto)");
    if (o.max_iter < 1) detail::fail(where, "max_iter = ", o.max_iter, " must be at least 1");
    if (!(o.tol >= 0) || !std::isfinite(o.tol)) {
      detail::fail(where, "tol = ", o.tol, " must be finite and >= 0");
    }
    if (o.silhouette.sample_size < 0) {
      detail::fail(where, "silhouette.sample_size = ", o.silhouette.sample_size,
                   " must be >= 0 (0 = every row)");
    }
  }

  /// Whether candidate a beats candidate b under the search's score.
  bool better(const KMeansCandidate& a, const KMeansCandidate& b) const {
    return options_.score == KMeansScore::davies_bouldin ? a.criterion < b.criterion
                                                         : a.criterion > b.criterion;
  }

  template <typename Derived>
  void score_candidate(const Eigen::MatrixBase<Derived>& X, const Eigen::VectorXi& labels,
                       KMeansCandidate& row) const {
    const auto& o = options_;
    const bool all = o.all_scores;
    if (all || o.score == KMeansScore::silhouette) {
      row.silhouette = silhouette_score(X, labels, o.silhouette);
    }
    if (all || o.score == KMeansScore::calinski_harabasz) {
      row.calinski_harabasz = calinski_harabasz_score(X, labels);
    }
    if (all || o.score == KMeansScore::davies_bouldin) {
      row.davies_bouldin = davies_bouldin_score(X, labels);
    }
    switch (o.score) {
      case KMeansScore::silhouette:
        row.criterion = row.silhouette;
        break;
      case KMeansScore::calinski_harabasz:
        row.criterion = row.calinski_harabasz;
        break;
      case KMeansScore::davies_bouldin:
        row.criterion = row.davies_bouldin;
        break;
    }
  }

  Options options_;
  std::vector<KMeansCandidate> rows_;
  std::size_t best_ = 0;
  Model best_model_;
  KMeansScore score_ = KMeansScore::silhouette;
  bool fitted_ = false;
};

}  // namespace emcluster
