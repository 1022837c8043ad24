/// @file metrics.hpp
/// @brief Comparing two labelings of the same samples: the contingency table, the Rand index
/// and the adjusted Rand index (Hubert and Arabie 1985), with scikit-learn's semantics.
///
/// Labels are arbitrary integers (any integral Eigen vector, -1 for noise included); only
/// which samples share a label matters, so permuting the label values changes nothing.
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

#include "detail/validation.hpp"

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
  std::int64_t same_both = 0;     ///< together in both labelings (true positives)
  std::int64_t same_a_only = 0;   ///< together in labeling a, apart in b (false negatives)
  std::int64_t same_b_only = 0;   ///< apart in labeling a, together in b (false positives)
  std::int64_t apart_both = 0;    ///< apart in both (true negatives)
};

namespace detail {

/// Checks that labels is a non-empty vector of integers that fit in int, with at most
/// INT_MAX entries, and copies it.
template <typename Derived>
std::vector<int> label_vector(const char* where, const char* name, const Eigen::MatrixBase<Derived>& labels) {
  using T = typename Derived::Scalar;
  static_assert(std::is_integral<T>::value, "emcluster metrics: labels must have an integral scalar type");
  if (labels.rows() != 1 && labels.cols() != 1) {
    fail(where, name, " is ", labels.rows(), " x ", labels.cols(), "; it must be a vector");
  }
  const Eigen::Index n = labels.size();
  if (n == 0) fail(where, name, " is empty");
  if (n > std::numeric_limits<int>::max()) {
    fail(where, name, " has ", n, " entries; at most ", std::numeric_limits<int>::max(), " are supported");
  }
  std::vector<int> out(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    const T v = labels.coeff(i);
    if constexpr (std::numeric_limits<T>::digits > std::numeric_limits<int>::digits ||
                  std::numeric_limits<T>::is_signed != std::numeric_limits<int>::is_signed) {
      const bool fits = std::is_signed<T>::value
                            ? (static_cast<long long>(v) >= std::numeric_limits<int>::min() &&
                               static_cast<long long>(v) <= std::numeric_limits<int>::max())
                            : (static_cast<unsigned long long>(v) <=
                               static_cast<unsigned long long>(std::numeric_limits<int>::max()));
      if (!fits) fail(where, name, "(", i, ") = ", v, " does not fit in int");
    }
    out[static_cast<std::size_t>(i)] = static_cast<int>(v);
  }
  return out;
}

/// Replaces every label by its rank among the distinct values; returns the distinct values.
inline std::vector<int> encode_labels(std::vector<int>& labels) {
  std::vector<int> values = labels;
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  for (int& v : labels) {
    v = static_cast<int>(std::lower_bound(values.begin(), values.end(), v) - values.begin());
  }
  return values;
}

/// Both labelings checked, of equal length, encoded as ranks.
struct EncodedPair {
  std::vector<int> a, b, values_a, values_b;
};

/// Checks and encodes two labelings of the same samples; messages use name_a / name_b.
template <typename A, typename B>
EncodedPair encode_pair(const char* where, const Eigen::MatrixBase<A>& labels_a, const Eigen::MatrixBase<B>& labels_b,
                        const char* name_a, const char* name_b) {
  EncodedPair p;
  p.a = label_vector(where, name_a, labels_a);
  p.b = label_vector(where, name_b, labels_b);
  if (p.a.size() != p.b.size()) {
    fail(where, name_a, " has ", p.a.size(), " entries but ", name_b, " has ", p.b.size());
  }
  p.values_a = encode_labels(p.a);
  p.values_b = encode_labels(p.b);
  return p;
}

/// Pair counts from the sum of squared cell counts, row sums and column sums, without a
/// dense table: the (row, column) codes are sorted and the runs counted. O(n log n), O(n).
inline PairConfusion pair_confusion(const EncodedPair& p) {
  const std::size_t n = p.a.size();
  const auto nb = static_cast<std::uint64_t>(p.values_b.size());
  std::vector<std::uint64_t> cells(n);
  std::vector<std::int64_t> row_sum(p.values_a.size(), 0), col_sum(p.values_b.size(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    cells[i] = static_cast<std::uint64_t>(p.a[i]) * nb + static_cast<std::uint64_t>(p.b[i]);
    ++row_sum[static_cast<std::size_t>(p.a[i])];
    ++col_sum[static_cast<std::size_t>(p.b[i])];
  }
  std::sort(cells.begin(), cells.end());
  // n < 2^31, so every sum of squares is below 2^62.
  std::int64_t sum_cells = 0, sum_rows = 0, sum_cols = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && cells[j] == cells[i]) ++j;
    const auto c = static_cast<std::int64_t>(j - i);
    sum_cells += c * c;
    i = j;
  }
  for (std::int64_t r : row_sum) sum_rows += r * r;
  for (std::int64_t c : col_sum) sum_cols += c * c;
  const auto nn = static_cast<std::int64_t>(n);
  PairConfusion out;
  out.same_both = sum_cells - nn;
  out.same_a_only = sum_rows - sum_cells;
  out.same_b_only = sum_cols - sum_cells;
  out.apart_both = nn * nn - sum_rows - sum_cols + sum_cells;
  return out;
}

}  // namespace detail

/// The contingency table of two labelings of the same n samples (dense: one int per pair of
/// distinct labels, so keep the number of distinct labels moderate).
/// @throws std::invalid_argument if a labeling is empty or not a vector, the lengths differ,
///         or a label does not fit in int.
///
/// @code
/// Eigen::VectorXi a(4), b(4);
/// a << 0, 0, 1, 1;
/// b << 7, -1, 7, 7;
/// auto t = emcluster::contingency_table(a, b);  // values_b = {-1, 7}; counts = [[1, 1], [0, 2]]
/// @endcode
template <typename A, typename B>
ContingencyTable contingency_table(const Eigen::MatrixBase<A>& labels_a, const Eigen::MatrixBase<B>& labels_b) {
  const detail::EncodedPair p = detail::encode_pair("contingency_table", labels_a, labels_b, "labels_a", "labels_b");
  ContingencyTable table;
  table.values_a = p.values_a;
  table.values_b = p.values_b;
  table.counts = Eigen::MatrixXi::Zero(static_cast<Eigen::Index>(p.values_a.size()),
                                       static_cast<Eigen::Index>(p.values_b.size()));
  for (std::size_t i = 0; i < p.a.size(); ++i) ++table.counts(p.a[i], p.b[i]);
  return table;
}

/// Pair confusion counts of two labelings (scikit-learn's pair_confusion_matrix: ordered
/// pairs, so the four counts sum to n (n - 1)).
/// @throws std::invalid_argument as contingency_table().
template <typename A, typename B>
PairConfusion pair_confusion(const Eigen::MatrixBase<A>& labels_true, const Eigen::MatrixBase<B>& labels_pred) {
  return detail::pair_confusion(
      detail::encode_pair("pair_confusion", labels_true, labels_pred, "labels_true", "labels_pred"));
}

/// The Rand index: the fraction of sample pairs on which the two labelings agree (together in
/// both or apart in both), in [0, 1]. As scikit-learn, 1.0 when there are no pairs (n = 1).
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// double ri = emcluster::rand_score(truth, found);
/// @endcode
template <typename A, typename B>
double rand_score(const Eigen::MatrixBase<A>& labels_true, const Eigen::MatrixBase<B>& labels_pred) {
  const PairConfusion c = detail::pair_confusion(
      detail::encode_pair("rand_score", labels_true, labels_pred, "labels_true", "labels_pred"));
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
/// Symmetric in its arguments.
/// @throws std::invalid_argument as contingency_table().
///
/// @code
/// Eigen::VectorXi truth(4), found(4);
/// truth << 0, 0, 1, 1;
/// found << 1, 1, 0, 0;
/// double ari = emcluster::adjusted_rand_score(truth, found);  // 1.0: same partition
/// @endcode
template <typename A, typename B>
double adjusted_rand_score(const Eigen::MatrixBase<A>& labels_true, const Eigen::MatrixBase<B>& labels_pred) {
  const PairConfusion c = detail::pair_confusion(
      detail::encode_pair("adjusted_rand_score", labels_true, labels_pred, "labels_true", "labels_pred"));
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

}  // namespace emcluster
