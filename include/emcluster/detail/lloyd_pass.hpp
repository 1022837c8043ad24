/// @file detail/lloyd_pass.hpp
/// @brief One plain Lloyd E-step over all rows: every chunk of rows is assigned to its
/// nearest centres (nearest_center.hpp) and accumulates its own statistics (lloyd_stats.hpp),
/// then the chunks' statistics are combined in chunk order. Also the inertia of data under
/// fixed centres, which is the same pass without the M-step statistics.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <vector>

#include "../options.hpp"
#include "block_copy.hpp"
#include "lloyd_stats.hpp"
#include "nearest_center.hpp"
#include "parallel.hpp"
#include "sample_rows.hpp"

namespace emcluster::detail {

/// Whether lloyd_pass accumulates the statistics of k centres in d dimensions with the
/// vectorised masked sums (small k and d) rather than row by row.
inline bool uses_masked_stats(Eigen::Index k, Eigen::Index d) {
  return k * (3 * d + 2) <= kMaskedStatsMaxWork;
}

/// The E-step on one chunk of rows (kernel already resolved by choose_kernel): assigns each
/// row, writes its label and returns the chunk's statistics (k = 0 without `accumulate`).
/// Few centres and features take the single sweep (sweep_small_block) unless `sweep` is
/// false, which runs its reference, the separate passes, instead (for tests and profiles).
template <typename Derived, typename Scalar>
LloydStats lloyd_chunk(const Eigen::MatrixBase<Derived>& X, const double* w,
                       const PreparedCenters<Scalar>& C, int* labels, bool accumulate,
                       AssignKernel kernel, const Chunk& chunk, bool sweep_allowed = true) {
  const Eigen::Index d = X.cols(), k = C.k();
  const bool masked = uses_masked_stats(k, d);
  const bool sweep = sweep_allowed && uses_single_sweep(k, d, kernel);
  LloydStats s(accumulate ? k : 0, d);
  AssignWorkspace<Scalar> ws(d, k, kernel == AssignKernel::gemm);
  const Eigen::Index ld = ws.xb.rows();
  RowBlockD xrows(masked ? 0 : kBlockRows, d);
  std::vector<MaskedStatsWorkspace> mws;
  if (masked) mws.emplace_back(k, d);
  std::vector<RowStats> rs;
  if (!masked) rs.emplace_back(accumulate ? k : 0, d);
  for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
    const Eigen::Index rows = end - begin;
    if (sweep) {
      // Few centres and features: one sweep does what the rest of this loop does
      // (sweep_small_block, tested against it to the bit).
      copy_block(X, begin, end, ws.xb);
      s.changed() +=
          static_cast<double>(sweep_small_block(rows, ws.xb.data(), ld, C, w ? w + begin : nullptr,
                                                labels + begin, accumulate, mws.front()));
      return;
    }
    assign_block(X, begin, end, C, kernel, ws);
    const int* label = ws.label.data();
    Eigen::Index changed = 0;
    for (Eigen::Index r = 0; r < rows; ++r) {
      changed += labels[begin + r] != label[r];
      labels[begin + r] = label[r];
    }
    s.changed() += static_cast<double>(changed);
    if (masked) {
      masked_block_stats(rows, ws.xb.data(), ld, ws.label.data(), w ? w + begin : nullptr,
                         C.centers_d, accumulate, mws.front());
      return;
    }
    // Row by row, on a row-major double copy of the block (contiguous rows): the exact
    // distance to the assigned centre and the weighted sums.
    rows_in_double(
        X, rows, [begin](Eigen::Index q) { return begin + q; }, ws.xb, xrows);
    for (Eigen::Index r = 0; r < rows; ++r) {
      const int lab = label[r];
      const double wi = weight_of(w, begin + r);
      rs.front().add_inertia(r, wi * (xrows.row(r) - C.centers_d.row(lab)).squaredNorm());
      if (accumulate) rs.front().add(r, lab, wi, xrows.data() + r * d);
    }
  });
  if (masked) mws.front().flush(s, accumulate);
  if (!masked) rs.front().flush(s);
  return s;
}

/// One E-step over all rows: assigns each row to its nearest centre, writes labels (counting
/// those that changed), the inertia (exact distances, in double) and, when `accumulate` is
/// set, the sufficient statistics of the M-step. Statistics are accumulated per chunk and
/// combined in chunk order: the same bits for any thread count. `sweep` = false runs the
/// reference of the single sweep for few centres and features (see lloyd_chunk).
template <typename Derived, typename Scalar>
LloydStats lloyd_pass(const Eigen::MatrixBase<Derived>& X, const double* w,
                      const PreparedCenters<Scalar>& C, int* labels, bool accumulate,
                      AssignKernel kernel = AssignKernel::automatic, bool sweep = true) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = C.k();
  kernel = choose_kernel(kernel, k, d);
  const std::size_t stat_bytes = accumulate ? sizeof(double) * std::size_t(k * (d + 1)) : 64;
  const auto chunks = make_chunks(n, stat_bytes);
  std::vector<LloydStats> parts(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    parts[c] = lloyd_chunk(X, w, C, labels, accumulate, kernel, chunk, sweep);
  });
  return combine_in_order(parts, accumulate ? k : 0, d);
}

/// Inertia of X (weights w, nullptr = 1) under fixed centres.
template <typename Derived, typename Scalar>
double inertia_of(const Eigen::MatrixBase<Derived>& X, const double* w,
                  const PreparedCenters<Scalar>& C, AssignKernel kernel) {
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
  return lloyd_pass(X, w, C, labels.data(), false, kernel).inertia();
}

}  // namespace emcluster::detail
