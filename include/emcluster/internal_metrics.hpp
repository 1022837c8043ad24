/// @file internal_metrics.hpp
/// @brief Scores of one clustering of data, without ground truth (internal metrics), with
/// scikit-learn's semantics: the silhouette (Rousseeuw 1987), the Calinski-Harabasz index
/// (variance ratio) and the Davies-Bouldin index. Included by metrics.hpp.
///
/// X is n x d, samples in rows, float or double, any Eigen expression; every distance is
/// Euclidean and computed in double. labels holds one integer label per row (any integral
/// Eigen vector). All three scores need 2 to n - 1 distinct labels, as scikit-learn's.
/// Noise: the label -1 is a cluster of its own by default, as in scikit-learn; ask for
/// Noise::exclude (SilhouetteOptions::exclude_noise for silhouette_score()) to leave those
/// rows out entirely (neither scored nor used as neighbours).
///
/// @code
/// #include <emcluster/datasets.hpp>
/// #include <emcluster/metrics.hpp>
///
/// auto data = emcluster::make_article_data();                 // 1830 x 2, labels with -1
/// double s = emcluster::silhouette_score(data.X, data.labels);  // in [-1, 1], higher is better
/// double ch = emcluster::calinski_harabasz_score(data.X, data.labels);  // higher is better
/// double db = emcluster::davies_bouldin_score(data.X, data.labels);     // lower is better
/// @endcode
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "detail/kmeans_init.hpp"
#include "detail/labels.hpp"
#include "detail/random.hpp"
#include "detail/silhouette.hpp"
#include "detail/validation.hpp"

namespace emcluster {

/// Options of silhouette_score().
struct SilhouetteOptions {
  /// Score a random subset of this many rows (drawn without replacement; distances only among
  /// them, as scikit-learn's sample_size), to bound the O(n^2 d) cost. 0 = all rows; a value
  /// at or above the number of rows also uses them all.
  Eigen::Index sample_size = 0;
  /// Seed of the subset (detail::Random, Floyd's algorithm): the same seed picks the same
  /// rows on every platform and thread count.
  std::uint64_t seed = 0;
  /// Leave the rows labelled -1 out before sampling and scoring (default: -1 is a cluster).
  bool exclude_noise = false;
};

namespace detail {

/// The rows an internal metric uses and their labels, after the common checks: X non-empty
/// and finite, labels a vector with one entry per row.
struct SelectedRows {
  std::vector<Eigen::Index> rows;  ///< ascending row indices into X
  std::vector<int> labels;         ///< their raw labels
};

template <typename D, typename L>
SelectedRows select_rows(const char* where, const Eigen::MatrixBase<D>& X,
                         const Eigen::MatrixBase<L>& labels, bool exclude_noise) {
  check_data(where, "X", X);
  std::vector<int> all = label_vector(where, "labels", labels);
  if (static_cast<Eigen::Index>(all.size()) != X.rows()) {
    fail(where, "labels has ", all.size(), " entries but X has ", X.rows(), " rows");
  }
  SelectedRows out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (exclude_noise && all[i] == kNoiseLabel) continue;
    out.rows.push_back(static_cast<Eigen::Index>(i));
    out.labels.push_back(all[i]);
  }
  return out;
}

/// Encodes the labels in place and checks scikit-learn's 2 <= n_labels <= n_samples - 1.
inline int encode_and_check_count(const char* where, std::vector<int>& labels,
                                  const char* context) {
  const auto m = static_cast<Eigen::Index>(labels.size());
  if (m < 2) fail(where, "needs at least 2 samples; ", m, context);
  const auto k = static_cast<Eigen::Index>(encode_labels(labels).size());
  if (k < 2 || k > m - 1) {
    fail(where, "labels has ", k, " distinct value(s) among ", m, " samples", context,
         "; valid numbers of labels are 2 to n_samples - 1 = ", m - 1, " (inclusive)");
  }
  return static_cast<int>(k);
}

inline const char* rows_context(bool exclude_noise) {
  return exclude_noise ? " (after leaving out the noise label -1)" : "";
}

/// Codes for every row of X: the cluster rank, or -1 for a row left out.
inline std::vector<int> row_codes(Eigen::Index n, const SelectedRows& sel,
                                  const std::vector<int>& codes) {
  std::vector<int> out(static_cast<std::size_t>(n), -1);
  for (std::size_t t = 0; t < sel.rows.size(); ++t)
    out[static_cast<std::size_t>(sel.rows[t])] = codes[t];
  return out;
}

}  // namespace detail

/// The silhouette coefficient of every sample: s(i) = (b - a) / max(a, b), where a is the
/// mean distance from sample i to the other members of its cluster and b the smallest mean
/// distance to the members of another cluster; in [-1, 1], near 1 for a sample well inside
/// its cluster, negative for one closer to another cluster. As scikit-learn's
/// silhouette_samples: 0 for a member of a one-sample cluster.
///
/// Exact (all pairs, Euclidean, in double) but never an n x n matrix: blocks of rows scan
/// tiles of the other rows, O(n^2 d) time, O(n d) memory for a grouped double copy of the
/// used rows plus about 1 MB per thread; rows in parallel with the library's threads, the
/// same bits for any number of threads.
///
/// Noise: by default -1 is a cluster like any other. With Noise::exclude the rows labelled
/// -1 are neither scored nor used as neighbours, and their entries in the result are NaN.
/// @return n values, in the order of the rows of X.
/// @throws std::invalid_argument (naming silhouette_samples) if X is empty or not finite,
///         labels is not a vector of X.rows() integers, fewer than 2 samples remain, or the
///         number of distinct labels is not between 2 and n_samples - 1.
///
/// @code
/// Eigen::VectorXd s = emcluster::silhouette_samples(X, labels);
/// Eigen::VectorXd s2 = emcluster::silhouette_samples(X, labels, emcluster::Noise::exclude);
/// @endcode
template <typename D, typename L>
Eigen::VectorXd silhouette_samples(const Eigen::MatrixBase<D>& X,
                                   const Eigen::MatrixBase<L>& labels,
                                   Noise noise = Noise::as_cluster) {
  constexpr const char* where = "silhouette_samples";
  const bool exclude = noise == Noise::exclude;
  detail::SelectedRows sel = detail::select_rows(where, X, labels, exclude);
  const int k = detail::encode_and_check_count(where, sel.labels, detail::rows_context(exclude));
  const detail::ClusterRows g = detail::group_rows(X, sel.rows, sel.labels, k);
  const Eigen::VectorXd s = detail::silhouette_sorted(g);
  Eigen::VectorXd out =
      Eigen::VectorXd::Constant(X.rows(), std::numeric_limits<double>::quiet_NaN());
  for (Eigen::Index r = 0; r < s.size(); ++r) {
    out(sel.rows[static_cast<std::size_t>(g.source[static_cast<std::size_t>(r)])]) = s(r);
  }
  return out;
}

/// The mean silhouette coefficient over the samples (see silhouette_samples()), in [-1, 1]:
/// higher means denser, better separated clusters. scikit-learn's silhouette_score.
///
/// options.sample_size > 0 scores a random subset of that many rows instead (among
/// themselves: a and b use only the subset), drawn by seed with detail::Random, so the value
/// differs from scikit-learn's own random subset but is reproducible bit for bit.
/// options.exclude_noise leaves the rows labelled -1 out first (default: -1 is a cluster).
/// The mean is summed in row order: the same bits for any number of threads.
/// @throws std::invalid_argument (naming silhouette_score) as silhouette_samples(), checked
///         on the rows actually scored, or if options.sample_size is negative.
///
/// @code
/// double s = emcluster::silhouette_score(X, labels);
/// emcluster::SilhouetteOptions o;
/// o.sample_size = 5000;  // O(5000^2 d) whatever n is
/// o.seed = 7;
/// double approx = emcluster::silhouette_score(X, labels, o);
/// @endcode
template <typename D, typename L>
double silhouette_score(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<L>& labels,
                        const SilhouetteOptions& options = {}) {
  constexpr const char* where = "silhouette_score";
  if (options.sample_size < 0) {
    detail::fail(where, "options.sample_size = ", options.sample_size,
                 " must be >= 0 (0 = all samples)");
  }
  detail::SelectedRows sel = detail::select_rows(where, X, labels, options.exclude_noise);
  const auto m = static_cast<Eigen::Index>(sel.rows.size());
  const char* context = detail::rows_context(options.exclude_noise);
  if (options.sample_size > 0 && options.sample_size < m) {
    detail::Random rng(options.seed);
    const std::vector<Eigen::Index> pick =
        detail::sample_without_replacement(m, options.sample_size, rng);
    detail::SelectedRows sub;
    for (Eigen::Index t : pick) {
      sub.rows.push_back(sel.rows[static_cast<std::size_t>(t)]);
      sub.labels.push_back(sel.labels[static_cast<std::size_t>(t)]);
    }
    sel = std::move(sub);
    context = " (in the sample of options.sample_size rows)";
  }
  const int k = detail::encode_and_check_count(where, sel.labels, context);
  const detail::ClusterRows g = detail::group_rows(X, sel.rows, sel.labels, k);
  const Eigen::VectorXd s = detail::silhouette_sorted(g);
  Eigen::VectorXd by_row(s.size());
  for (Eigen::Index r = 0; r < s.size(); ++r) by_row(g.source[static_cast<std::size_t>(r)]) = s(r);
  double total = 0.0;
  for (Eigen::Index t = 0; t < by_row.size(); ++t) total += by_row(t);
  return total / static_cast<double>(by_row.size());
}

/// The Calinski-Harabasz index (variance ratio criterion): the between-cluster dispersion
/// sum_k n_k ||c_k - c||^2 over the within-cluster dispersion sum_i ||x_i - c_{k(i)}||^2,
/// times (n - k) / (k - 1); higher is better. As scikit-learn: 1.0 when the within-cluster
/// dispersion is 0. Two O(n d) passes in double over chunks of rows (no copy of X), the same
/// bits for any number of threads.
///
/// Noise: by default -1 is a cluster like any other; with Noise::exclude the rows labelled
/// -1 are left out (of the clusters, the overall centroid and n).
/// @throws std::invalid_argument (naming calinski_harabasz_score) as silhouette_samples().
///
/// @code
/// double ch = emcluster::calinski_harabasz_score(X, labels);
/// @endcode
template <typename D, typename L>
double calinski_harabasz_score(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<L>& labels,
                               Noise noise = Noise::as_cluster) {
  constexpr const char* where = "calinski_harabasz_score";
  const bool exclude = noise == Noise::exclude;
  detail::SelectedRows sel = detail::select_rows(where, X, labels, exclude);
  const int k = detail::encode_and_check_count(where, sel.labels, detail::rows_context(exclude));
  const auto m = static_cast<double>(sel.rows.size());
  const detail::ClusterScatter sc =
      detail::cluster_scatter(X, detail::row_codes(X.rows(), sel, sel.labels), k);
  return detail::calinski_harabasz_value(sc, m, k);
}

/// The Davies-Bouldin index: the mean over clusters i of max_{j != i} (s_i + s_j) / d_ij,
/// s_i the mean distance of cluster i's members to its centroid and d_ij the distance
/// between centroids; lower is better, 0 is the minimum. As scikit-learn: 0.0 when every s_i
/// or every d_ij is within 1e-8 of 0 (numpy's allclose), and a pair of coinciding centroids
/// (d_ij = 0) contributes 0. Two O(n d) passes in double (no copy of X) plus O(k^2 d).
///
/// Noise: by default -1 is a cluster like any other; with Noise::exclude the rows labelled
/// -1 are left out.
/// @throws std::invalid_argument (naming davies_bouldin_score) as silhouette_samples().
///
/// @code
/// double db = emcluster::davies_bouldin_score(X, labels);
/// @endcode
template <typename D, typename L>
double davies_bouldin_score(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<L>& labels,
                            Noise noise = Noise::as_cluster) {
  constexpr const char* where = "davies_bouldin_score";
  const bool exclude = noise == Noise::exclude;
  detail::SelectedRows sel = detail::select_rows(where, X, labels, exclude);
  const int k = detail::encode_and_check_count(where, sel.labels, detail::rows_context(exclude));
  const detail::ClusterScatter sc =
      detail::cluster_scatter(X, detail::row_codes(X.rows(), sel, sel.labels), k);
  return detail::davies_bouldin_value(sc, k);
}

}  // namespace emcluster
