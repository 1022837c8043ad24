/// @file detail/labels.hpp
/// @brief Label vectors for the metrics: checks, encoding as ranks, the noise label, and the
/// sparse contingency table of two labelings.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "../options.hpp"
#include "validation.hpp"

namespace emcluster::detail {

/// The label that Noise::exclude leaves out.
inline constexpr int kNoiseLabel = -1;

/// Checks that labels is a non-empty vector of integers that fit in int, with at most
/// INT_MAX entries, and copies it.
template <typename Derived>
std::vector<int> label_vector(const char* where, const char* name,
                              const Eigen::MatrixBase<Derived>& labels) {
  using T = typename Derived::Scalar;
  static_assert(std::is_integral<T>::value,
                "emcluster metrics: labels must have an integral scalar type");
  if (labels.rows() != 1 && labels.cols() != 1) {
    fail(where, name, " is ", labels.rows(), " x ", labels.cols(), "; it must be a vector");
  }
  const Eigen::Index n = labels.size();
  if (n == 0) fail(where, name, " is empty");
  if (n > std::numeric_limits<int>::max()) {
    fail(where, name, " has ", n, " entries; at most ", std::numeric_limits<int>::max(),
         " are supported");
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

/// Ranges of label values (or of table cells) up to this many per sample are counted in an
/// array (O(n)); wider ones are sorted (O(n log n)). Both give the same result.
inline constexpr std::int64_t kDenseSlotsPerSample = 4;
inline constexpr std::int64_t kDenseSlotsMin = 1024;

/// Replaces every label by its rank among the distinct values; returns the distinct values.
inline std::vector<int> encode_labels(std::vector<int>& labels) {
  std::vector<int> values;
  if (labels.empty()) return values;
  const auto [lo, hi] = std::minmax_element(labels.begin(), labels.end());
  const int low = *lo;
  const std::int64_t range = static_cast<std::int64_t>(*hi) - low + 1;
  const auto n = static_cast<std::int64_t>(labels.size());
  if (range <= kDenseSlotsPerSample * n + kDenseSlotsMin) {
    std::vector<int> rank(static_cast<std::size_t>(range), -1);
    for (int v : labels) rank[static_cast<std::size_t>(static_cast<std::int64_t>(v) - low)] = 0;
    for (std::int64_t r = 0; r < range; ++r) {
      if (rank[static_cast<std::size_t>(r)] < 0) continue;
      rank[static_cast<std::size_t>(r)] = static_cast<int>(values.size());
      values.push_back(static_cast<int>(low + r));
    }
    for (int& v : labels) v = rank[static_cast<std::size_t>(static_cast<std::int64_t>(v) - low)];
    return values;
  }
  values = labels;
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

/// Checks and encodes two labelings of the same samples; messages use name_a / name_b. With
/// Noise::exclude the samples labelled -1 in either labeling are dropped first (an error if
/// none is left).
template <typename A, typename B>
EncodedPair encode_pair(const char* where, const Eigen::MatrixBase<A>& labels_a,
                        const Eigen::MatrixBase<B>& labels_b, const char* name_a,
                        const char* name_b, Noise noise = Noise::as_cluster) {
  EncodedPair p;
  p.a = label_vector(where, name_a, labels_a);
  p.b = label_vector(where, name_b, labels_b);
  if (p.a.size() != p.b.size()) {
    fail(where, name_a, " has ", p.a.size(), " entries but ", name_b, " has ", p.b.size());
  }
  if (noise == Noise::exclude) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < p.a.size(); ++i) {
      if (p.a[i] == kNoiseLabel || p.b[i] == kNoiseLabel) continue;
      p.a[kept] = p.a[i];
      p.b[kept] = p.b[i];
      ++kept;
    }
    if (kept == 0) {
      fail(where, "every sample is labelled -1 (noise) in ", name_a, " or ", name_b,
           "; none is left with Noise::exclude");
    }
    p.a.resize(kept);
    p.b.resize(kept);
  }
  p.values_a = encode_labels(p.a);
  p.values_b = encode_labels(p.b);
  return p;
}

/// The non-zero cells of the contingency table of an encoded pair, in (row, column) order,
/// with the row and column sums (rows: labeling a). Exact 64-bit counts; O(n) time when the
/// table has at most ~4n cells (counted densely), else O(n log n) (sorted); O(n) memory.
struct SparseContingency {
  std::int64_t n = 0;
  std::vector<std::int64_t> row_sums, col_sums;
  std::vector<int> cell_row, cell_col;
  std::vector<std::int64_t> cell_count;
};

inline SparseContingency sparse_contingency(const EncodedPair& p) {
  const std::size_t n = p.a.size();
  const auto nb = static_cast<std::uint64_t>(p.values_b.size());
  SparseContingency t;
  t.n = static_cast<std::int64_t>(n);
  t.row_sums.assign(p.values_a.size(), 0);
  t.col_sums.assign(p.values_b.size(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    ++t.row_sums[static_cast<std::size_t>(p.a[i])];
    ++t.col_sums[static_cast<std::size_t>(p.b[i])];
  }
  auto code = [&](std::size_t i) {
    return static_cast<std::uint64_t>(p.a[i]) * nb + static_cast<std::uint64_t>(p.b[i]);
  };
  const std::uint64_t slots = static_cast<std::uint64_t>(p.values_a.size()) * nb;
  if (slots <= static_cast<std::uint64_t>(kDenseSlotsPerSample * t.n + kDenseSlotsMin)) {
    std::vector<std::int64_t> dense(static_cast<std::size_t>(slots), 0);
    for (std::size_t i = 0; i < n; ++i) ++dense[static_cast<std::size_t>(code(i))];
    for (std::uint64_t c = 0; c < slots; ++c) {
      if (dense[static_cast<std::size_t>(c)] == 0) continue;
      t.cell_row.push_back(static_cast<int>(c / nb));
      t.cell_col.push_back(static_cast<int>(c % nb));
      t.cell_count.push_back(dense[static_cast<std::size_t>(c)]);
    }
    return t;
  }
  std::vector<std::uint64_t> cells(n);
  for (std::size_t i = 0; i < n; ++i) cells[i] = code(i);
  std::sort(cells.begin(), cells.end());
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && cells[j] == cells[i]) ++j;
    t.cell_row.push_back(static_cast<int>(cells[i] / nb));
    t.cell_col.push_back(static_cast<int>(cells[i] % nb));
    t.cell_count.push_back(static_cast<std::int64_t>(j - i));
    i = j;
  }
  return t;
}

}  // namespace emcluster::detail
