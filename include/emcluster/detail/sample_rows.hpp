/// @file detail/sample_rows.hpp
/// @brief Rows of the data by index: sample weights (nullptr meaning all ones), random draws
/// of rows with and without replacement (from detail::Random only), and gathering the drawn
/// rows and their weights into contiguous copies (subsamples, mini-batches).
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "random.hpp"

namespace emcluster::detail {

/// Sample weights: nullptr means every weight is 1.
inline double weight_of(const double* w, Eigen::Index i) { return w ? w[i] : 1.0; }

/// m distinct indices from [0, n), uniformly (Floyd's algorithm), in increasing order.
inline std::vector<Eigen::Index> sample_without_replacement(Eigen::Index n, Eigen::Index m,
                                                            Random& rng) {
  std::vector<char> taken(static_cast<std::size_t>(n), 0);
  for (Eigen::Index j = n - m; j < n; ++j) {
    const auto t = static_cast<Eigen::Index>(rng.uniform_index(static_cast<std::uint64_t>(j + 1)));
    taken[static_cast<std::size_t>(taken[static_cast<std::size_t>(t)] ? j : t)] = 1;
  }
  std::vector<Eigen::Index> out;
  out.reserve(static_cast<std::size_t>(m));
  for (Eigen::Index i = 0; i < n; ++i) {
    if (taken[static_cast<std::size_t>(i)]) out.push_back(i);
  }
  return out;
}

/// Fills rows with m indices drawn uniformly from [0, n) with replacement, in draw order.
inline void sample_with_replacement(Eigen::Index n, Eigen::Index m, Random& rng,
                                    std::vector<Eigen::Index>& rows) {
  rows.resize(static_cast<std::size_t>(m));
  for (auto& i : rows)
    i = static_cast<Eigen::Index>(rng.uniform_index(static_cast<std::uint64_t>(n)));
}

/// Copies row rows[r] of X into row r of out and its weight (1 without weights) into
/// out_w(r); out and out_w are resized to rows.size() rows (no allocation when they already
/// have that size).
template <typename Derived, typename Out>
void gather_rows(const Eigen::MatrixBase<Derived>& X, const double* w,
                 const std::vector<Eigen::Index>& rows, Out& out, Eigen::VectorXd& out_w) {
  const auto m = static_cast<Eigen::Index>(rows.size());
  out.resize(m, X.cols());
  out_w.resize(m);
  for (Eigen::Index r = 0; r < m; ++r) {
    const Eigen::Index i = rows[static_cast<std::size_t>(r)];
    out.row(r) = X.row(i);
    out_w(r) = weight_of(w, i);
  }
}

/// Weights of a subsample for a fit: all ones when the subsample drew only zero weights (a
/// fit needs a positive total).
inline void ones_if_weightless(Eigen::VectorXd& w) {
  if (!(w.sum() > 0)) w.setOnes();
}

}  // namespace emcluster::detail
