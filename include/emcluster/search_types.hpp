/// @file search_types.hpp
/// @brief What the model searches (mixture_search.hpp, kmeans_search.hpp) rank by and
/// return: the criteria and scores, their names, and the candidate rows of the result tables.
///
/// @code
/// #include <emcluster/search_types.hpp>
///
/// auto criterion = emcluster::parse_selection_criterion("icl");  // SelectionCriterion::icl
/// std::puts(emcluster::criterion_name(criterion));                // "ICL"
/// std::puts(emcluster::mclust_model_name(emcluster::CovarianceType::tied));  // "EEE"
/// @endcode
#pragma once

#include <Eigen/Core>

#include <limits>
#include <string>

#include "detail/mixture_params.hpp"
#include "detail/text_table.hpp"
#include "detail/validation.hpp"
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
  const std::string lower = detail::ascii_lower(name);
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
  const std::string lower = detail::ascii_lower(name);
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

}  // namespace emcluster
