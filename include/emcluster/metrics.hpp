/// @file metrics.hpp
/// @brief Clustering metrics with scikit-learn's semantics. This header compares two labelings
/// of the same samples (external metrics): the contingency table, the Rand and adjusted Rand
/// index (Hubert and Arabie 1985), mutual information and its normalized and adjusted forms
/// (Vinh, Epps and Bailey 2010), homogeneity, completeness, V-measure (Rosenberg and
/// Hirschberg 2007) and the Fowlkes-Mallows index. It includes internal_metrics.hpp, the
/// scores of one labeling of data (silhouette, Calinski-Harabasz, Davies-Bouldin).
///
/// Labels are arbitrary integers (any integral Eigen vector, -1 for noise included); only
/// which samples share a label matters, so permuting the label values changes nothing.
/// Noise: every metric takes an optional emcluster::Noise last. The default,
/// Noise::as_cluster, treats -1 as a label of its own, as scikit-learn does; Noise::exclude
/// leaves out every sample labelled -1 in either labeling (so a clustering is not charged for
/// the points it declares noise: compare with the default before relying on it).
/// Mutual information and entropies are in nats.
///
/// @code
/// #include <emcluster/metrics.hpp>
///
/// Eigen::VectorXi truth(6), found(6);
/// truth << 0, 0, 1, 1, 2, -1;
/// found << 5, 5, 3, 3, 3, -1;
/// double ari = emcluster::adjusted_rand_score(truth, found);  // 1 = same partition, ~0 = chance
/// double ri = emcluster::rand_score(truth, found);            // fraction of agreeing pairs
/// auto table = emcluster::contingency_table(truth, found);    // 4 x 3 counts
/// double ami = emcluster::adjusted_mutual_info_score(truth, found);
/// double nmi = emcluster::normalized_mutual_info_score(truth, found, emcluster::Noise::exclude);
/// @endcode
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/information.hpp"
#include "detail/labels.hpp"
#include "detail/validation.hpp"
#include "internal_metrics.hpp"

namespace emcluster {

/// Counts of samples per pair of labels: `counts(i, j)` samples have label `values_a[i]` in
/// the first labeling and `values_b[j]` in the second.
struct ContingencyTable {
  std::vector<int> values_a;  ///< distinct labels of the first labeling, ascending
  std::vector<int> values_b;  ///< distinct labels of the second labeling, ascending
  Eigen::MatrixXi counts;     ///< values_a.size() x values_b.size()
};

/// Pair counts of two labelings, as scikit-learn's pair_confusion_matrix: ordered pairs of
/// distinct samples (i, j), so every count is even.
struct PairConfusion {
  std::int64_t same_both = 0;    ///< together in both labelings (true positives)
  std::int64_t same_a_only = 0;  ///< together in labeling a, apart in b (false negatives)
  std::int64_t same_b_only = 0;  ///< apart in labeling a, together in b (false positives)
  std::int64_t apart_both = 0;   ///< apart in both (true negatives)
};

namespace detail {

/// Pair counts from the sums of squared cell counts, row sums and column sums of the sparse
/// contingency table. O(n log n), O(n).
inline PairConfusion pair_confusion(const EncodedPair& p) {
  const SparseContingency t = sparse_contingency(p);
  // n < 2^31, so every sum of squares is below 2^62.
  std::int64_t sum_cells = 0, sum_rows = 0, sum_cols = 0;
  for (std::int64_t c : t.cell_count) sum_cells += c * c;
  for (std::int64_t r : t.row_sums) sum_rows += r * r;
  for (std::int64_t c : t.col_sums) sum_cols += c * c;
  const std::int64_t nn = t.n;
  PairConfusion out;
  out.same_both = sum_cells - nn;
  out.same_a_only = sum_rows - sum_cells;
  out.same_b_only = sum_cols - sum_cells;
  out.apart_both = nn * nn - sum_rows - sum_cols + sum_cells;
  return out;
}

/// Entropies and mutual information of a pair, the parts of the information-based metrics.
struct PairInformation {
  SparseContingency table;
  double h_true = 0.0, h_pred = 0.0, mi = 0.0;
};

inline PairInformation pair_information(const EncodedPair& p) {
  PairInformation info;
  info.table = sparse_contingency(p);
  info.h_true = entropy_of_counts(info.table.row_sums, info.table.n);
  info.h_pred = entropy_of_counts(info.table.col_sums, info.table.n);
  info.mi = mutual_information(info.table);
  return info;
}

}  // namespace detail

/// The contingency table of two labelings of the same n samples (dense: one int per pair of
/// distinct labels, so keep the number of distinct labels moderate).
/// With Noise::exclude the samples labelled -1 in either labeling are left out.
/// @throws std::invalid_argument if a labeling is empty or not a vector, the lengths differ,
///         a label does not fit in int, or Noise::exclude leaves no sample.
///
/// @code
/// Eigen::VectorXi a(4), b(4);
/// a << 0, 0, 1, 1;
/// b << 7, -1, 7, 7;
/// auto t = emcluster::contingency_table(a, b);  // values_b = {-1, 7}; counts = [[1, 1], [0, 2]]
/// @endcode
template <typename A, typename B>
ContingencyTable contingency_table(const Eigen::MatrixBase<A>& labels_a,
                                   const Eigen::MatrixBase<B>& labels_b,
                                   Noise noise = Noise::as_cluster) {
  const detail::EncodedPair p =
      detail::encode_pair("contingency_table", labels_a, labels_b, "labels_a", "labels_b", noise);
  ContingencyTable table;
  table.values_a = p.values_a;
  table.values_b = p.values_b;
  table.counts = Eigen::MatrixXi::Zero(static_cast<Eigen::Index>(p.values_a.size()),
                                       static_cast<Eigen::Index>(p.values_b.size()));
  for (std::size_t i = 0; i < p.a.size(); ++i) ++table.counts(p.a[i], p.b[i]);
  return table;
}

/// Pair confusion counts of two labelings (scikit-learn's pair_confusion_matrix: ordered
/// pairs, so the four counts sum to n (n - 1)). Noise as contingency_table().
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// emcluster::PairConfusion c = emcluster::pair_confusion(truth, found);
/// @endcode
template <typename A, typename B>
PairConfusion pair_confusion(const Eigen::MatrixBase<A>& labels_true,
                             const Eigen::MatrixBase<B>& labels_pred,
                             Noise noise = Noise::as_cluster) {
  return detail::pair_confusion(detail::encode_pair("pair_confusion", labels_true, labels_pred,
                                                    "labels_true", "labels_pred", noise));
}

/// The Rand index: the fraction of sample pairs on which the two labelings agree (together in
/// both or apart in both), in [0, 1]. As scikit-learn, 1.0 when there are no pairs (n = 1).
/// Noise as contingency_table().
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// double ri = emcluster::rand_score(truth, found);
/// @endcode
template <typename A, typename B>
double rand_score(const Eigen::MatrixBase<A>& labels_true, const Eigen::MatrixBase<B>& labels_pred,
                  Noise noise = Noise::as_cluster) {
  const PairConfusion c = detail::pair_confusion(detail::encode_pair(
      "rand_score", labels_true, labels_pred, "labels_true", "labels_pred", noise));
  const std::int64_t agree = c.same_both + c.apart_both;
  const std::int64_t all = agree + c.same_a_only + c.same_b_only;
  if (agree == all) return 1.0;
  return static_cast<double>(agree) / static_cast<double>(all);
}

/// The adjusted Rand index (Hubert and Arabie): the Rand index corrected for chance, so that
/// random labelings score about 0 (possibly negative) and identical partitions score 1.
///
/// Computed as scikit-learn's adjusted_rand_score from the pair counts:
/// ARI = 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)), and 1.0 when the
/// labelings never disagree on a pair (fn = fp = 0: identical partitions, one sample, both
/// all-singletons or both one cluster). Pair counts are exact 64-bit integers; the
/// numerator's products are formed with error-free transformations, so the result is
/// accurate to a few ulps of the denominator for n up to about 10^7 and close to that beyond.
/// Symmetric in its arguments. Noise as contingency_table().
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// Eigen::VectorXi truth(4), found(4);
/// truth << 0, 0, 1, 1;
/// found << 1, 1, 0, 0;
/// double ari = emcluster::adjusted_rand_score(truth, found);  // 1.0: same partition
/// @endcode
template <typename A, typename B>
double adjusted_rand_score(const Eigen::MatrixBase<A>& labels_true,
                           const Eigen::MatrixBase<B>& labels_pred,
                           Noise noise = Noise::as_cluster) {
  const PairConfusion c = detail::pair_confusion(detail::encode_pair(
      "adjusted_rand_score", labels_true, labels_pred, "labels_true", "labels_pred", noise));
  const double tp = static_cast<double>(c.same_both);
  const double tn = static_cast<double>(c.apart_both);
  const double fn = static_cast<double>(c.same_a_only);
  const double fp = static_cast<double>(c.same_b_only);
  if (c.same_a_only == 0 && c.same_b_only == 0) return 1.0;
  // tp tn - fn fp without cancellation: each product as an exact sum hi + lo (fma).
  const double p1 = tp * tn, e1 = std::fma(tp, tn, -p1);
  const double p2 = fn * fp, e2 = std::fma(fn, fp, -p2);
  const double numerator = (p1 - p2) + (e1 - e2);
  const double denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return 2.0 * numerator / denominator;
}

/// Mutual information of two labelings, in nats: sum over the contingency table's cells of
/// (n_ij / n) log(n n_ij / (a_i b_j)), a_i and b_j the label counts; 0 when either labeling
/// has one label, never negative (scikit-learn's mutual_info_score). Symmetric. Noise as
/// contingency_table().
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// double mi = emcluster::mutual_info_score(truth, found);  // 0 = independent labelings
/// @endcode
template <typename A, typename B>
double mutual_info_score(const Eigen::MatrixBase<A>& labels_true,
                         const Eigen::MatrixBase<B>& labels_pred, Noise noise = Noise::as_cluster) {
  const detail::EncodedPair p = detail::encode_pair("mutual_info_score", labels_true, labels_pred,
                                                    "labels_true", "labels_pred", noise);
  return detail::mutual_information(detail::sparse_contingency(p));
}

/// Normalized mutual information with the arithmetic mean of the entropies (scikit-learn's
/// default average_method): MI / ((H(true) + H(pred)) / 2), in [0, 1]. As scikit-learn, 1.0
/// when both labelings have a single label (n = 1 included) and 0.0 when the mutual
/// information is 0. Not corrected for chance (see adjusted_mutual_info_score()). Symmetric.
/// Noise as contingency_table().
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// double nmi = emcluster::normalized_mutual_info_score(truth, found);
/// @endcode
template <typename A, typename B>
double normalized_mutual_info_score(const Eigen::MatrixBase<A>& labels_true,
                                    const Eigen::MatrixBase<B>& labels_pred,
                                    Noise noise = Noise::as_cluster) {
  const detail::EncodedPair p =
      detail::encode_pair("normalized_mutual_info_score", labels_true, labels_pred, "labels_true",
                          "labels_pred", noise);
  if (p.values_a.size() == 1 && p.values_b.size() == 1) return 1.0;
  const detail::PairInformation info = detail::pair_information(p);
  if (info.mi == 0.0) return 0.0;
  return info.mi / (0.5 * (info.h_true + info.h_pred));
}

/// Adjusted mutual information with the arithmetic mean of the entropies (scikit-learn's
/// default): (MI - E[MI]) / ((H(true) + H(pred)) / 2 - E[MI]), where E[MI] is the expected
/// mutual information of two random labelings with the same label counts (hypergeometric
/// model). 1 for identical partitions, about 0 (possibly negative) for independent ones.
///
/// E[MI] is exact: every hypergeometric term is summed (those below the smallest normal
/// double aside), each computed in log space from Stirling's series, so nothing overflows and
/// the cost is about the number of significant terms (milliseconds for n = 10^6 with tens
/// of labels each, after the O(n) counting; clusters of equal size are evaluated once). As
/// scikit-learn: 1.0 when both labelings have a single label; the denominator is kept at least
/// machine epsilon in magnitude (its sign preserved). Symmetric. Noise as contingency_table().
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// double ami = emcluster::adjusted_mutual_info_score(truth, found);
/// @endcode
template <typename A, typename B>
double adjusted_mutual_info_score(const Eigen::MatrixBase<A>& labels_true,
                                  const Eigen::MatrixBase<B>& labels_pred,
                                  Noise noise = Noise::as_cluster) {
  const detail::EncodedPair p = detail::encode_pair(
      "adjusted_mutual_info_score", labels_true, labels_pred, "labels_true", "labels_pred", noise);
  if (p.values_a.size() == 1 && p.values_b.size() == 1) return 1.0;
  const detail::PairInformation info = detail::pair_information(p);
  const double emi = detail::expected_mutual_information(info.table);
  double denominator = 0.5 * (info.h_true + info.h_pred) - emi;
  constexpr double eps = std::numeric_limits<double>::epsilon();
  denominator = denominator < 0.0 ? std::min(denominator, -eps) : std::max(denominator, eps);
  return (info.mi - emi) / denominator;
}

/// Homogeneity, completeness and their weighted harmonic mean, the V-measure.
struct HomogeneityCompleteness {
  double homogeneity = 1.0;   ///< MI / H(true): each cluster holds members of one class only
  double completeness = 1.0;  ///< MI / H(pred): all members of a class are in one cluster
  double v_measure = 1.0;     ///< (1 + beta) h c / (beta h + c)
};

/// Homogeneity, completeness and V-measure in one pass (scikit-learn's
/// homogeneity_completeness_v_measure). Homogeneity is 1.0 when labels_true has one label,
/// completeness 1.0 when labels_pred has one label, and the V-measure 0.0 when both are 0.
/// beta (>= 0) weights completeness: beta > 1 favours it, beta < 1 homogeneity. Noise as
/// contingency_table().
/// @throws std::invalid_argument as contingency_table(), or if beta is negative or not finite.
///
/// @code
/// emcluster::HomogeneityCompleteness hc = emcluster::homogeneity_completeness_v_measure(truth,
/// found);
/// @endcode
template <typename A, typename B>
HomogeneityCompleteness homogeneity_completeness_v_measure(const Eigen::MatrixBase<A>& labels_true,
                                                           const Eigen::MatrixBase<B>& labels_pred,
                                                           double beta = 1.0,
                                                           Noise noise = Noise::as_cluster) {
  constexpr const char* where = "homogeneity_completeness_v_measure";
  if (!std::isfinite(beta) || beta < 0.0)
    detail::fail(where, "beta = ", beta, " must be finite and >= 0");
  const detail::PairInformation info = detail::pair_information(
      detail::encode_pair(where, labels_true, labels_pred, "labels_true", "labels_pred", noise));
  HomogeneityCompleteness out;
  out.homogeneity = info.h_true != 0.0 ? info.mi / info.h_true : 1.0;
  out.completeness = info.h_pred != 0.0 ? info.mi / info.h_pred : 1.0;
  if (out.homogeneity + out.completeness == 0.0) {
    out.v_measure = 0.0;
  } else {
    out.v_measure = (1.0 + beta) * out.homogeneity * out.completeness /
                    (beta * out.homogeneity + out.completeness);
  }
  return out;
}

/// Homogeneity: MI / H(labels_true), in [0, 1]; 1 when every cluster of labels_pred holds
/// samples of a single class. Not symmetric (swapping the arguments gives
/// completeness_score()). Edge cases and Noise as homogeneity_completeness_v_measure().
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// double h = emcluster::homogeneity_score(truth, found);
/// @endcode
template <typename A, typename B>
double homogeneity_score(const Eigen::MatrixBase<A>& labels_true,
                         const Eigen::MatrixBase<B>& labels_pred, Noise noise = Noise::as_cluster) {
  const detail::PairInformation info = detail::pair_information(detail::encode_pair(
      "homogeneity_score", labels_true, labels_pred, "labels_true", "labels_pred", noise));
  return info.h_true != 0.0 ? info.mi / info.h_true : 1.0;
}

/// Completeness: MI / H(labels_pred), in [0, 1]; 1 when all samples of each class of
/// labels_true are in one cluster. Edge cases and Noise as homogeneity_completeness_v_measure().
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// double c = emcluster::completeness_score(truth, found);
/// @endcode
template <typename A, typename B>
double completeness_score(const Eigen::MatrixBase<A>& labels_true,
                          const Eigen::MatrixBase<B>& labels_pred,
                          Noise noise = Noise::as_cluster) {
  const detail::PairInformation info = detail::pair_information(detail::encode_pair(
      "completeness_score", labels_true, labels_pred, "labels_true", "labels_pred", noise));
  return info.h_pred != 0.0 ? info.mi / info.h_pred : 1.0;
}

/// V-measure: (1 + beta) h c / (beta h + c) for homogeneity h and completeness c; with
/// beta = 1 it equals normalized_mutual_info_score() (arithmetic). Symmetric for beta = 1.
/// Edge cases and Noise as homogeneity_completeness_v_measure().
/// @throws std::invalid_argument as homogeneity_completeness_v_measure().
///
/// @code
/// double v = emcluster::v_measure_score(truth, found);         // beta = 1
/// double v2 = emcluster::v_measure_score(truth, found, 2.0);   // completeness weighs more
/// @endcode
template <typename A, typename B>
double v_measure_score(const Eigen::MatrixBase<A>& labels_true,
                       const Eigen::MatrixBase<B>& labels_pred, double beta = 1.0,
                       Noise noise = Noise::as_cluster) {
  if (!std::isfinite(beta) || beta < 0.0) {
    detail::fail("v_measure_score", "beta = ", beta, " must be finite and >= 0");
  }
  const detail::PairInformation info = detail::pair_information(detail::encode_pair(
      "v_measure_score", labels_true, labels_pred, "labels_true", "labels_pred", noise));
  const double h = info.h_true != 0.0 ? info.mi / info.h_true : 1.0;
  const double c = info.h_pred != 0.0 ? info.mi / info.h_pred : 1.0;
  if (h + c == 0.0) return 0.0;
  return (1.0 + beta) * h * c / (beta * h + c);
}

/// The Fowlkes-Mallows index: the geometric mean of pairwise precision and recall,
/// TP / sqrt((TP + FP)(TP + FN)) over pairs of samples, in [0, 1]; 0.0 when no pair is
/// together in both labelings (scikit-learn's fowlkes_mallows_score, n = 1 and
/// all-singletons included). Exact integer pair counts. Symmetric. Noise as
/// contingency_table().
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// double fmi = emcluster::fowlkes_mallows_score(truth, found);
/// @endcode
template <typename A, typename B>
double fowlkes_mallows_score(const Eigen::MatrixBase<A>& labels_true,
                             const Eigen::MatrixBase<B>& labels_pred,
                             Noise noise = Noise::as_cluster) {
  const PairConfusion c = detail::pair_confusion(detail::encode_pair(
      "fowlkes_mallows_score", labels_true, labels_pred, "labels_true", "labels_pred", noise));
  if (c.same_both == 0) return 0.0;
  const double tk = static_cast<double>(c.same_both);
  const double pk = static_cast<double>(c.same_both + c.same_b_only);  // together in labels_pred
  const double qk = static_cast<double>(c.same_both + c.same_a_only);  // together in labels_true
  return std::sqrt(tk / pk) * std::sqrt(tk / qk);
}

}  // namespace emcluster
