/// @file detail/kmeans_hamerly.hpp
/// @brief Hamerly's accelerated Lloyd step: one bound per sample skips the samples whose
/// nearest centre cannot have changed, and the M-step statistics are kept up to date from the
/// samples that changed cluster only.
///
/// For every sample i with label a(i) the state keeps one number, the gap
/// g(i) <= min_{j != a(i)} ||x_i - c_j|| - ||x_i - c_a(i)|| (a lower bound on how much closer
/// its own centre is than any other). When the centres move by delta_j, the triangle
/// inequality gives g(i) >= g_old(i) - delta_a(i) - max_{j != a(i)} delta_j; while that stays
/// positive the label is certainly unchanged, and neither the sample's distances nor its data
/// are touched. Samples whose gap is not positive are gathered into blocks and assigned by the
/// same kernels as a plain Lloyd pass (GEMM or direct), which also return the second nearest
/// centre to rebuild the gap. Only samples that change cluster move their weighted values
/// between the running per-centre sums.
///
/// This is Hamerly's algorithm (2010) with the two bounds folded into their difference, so the
/// extra memory is one float per sample. Bounds are kept conservative against rounding: the
/// GEMM partial distances carry an error bound, the centre movements are rounded up and the
/// stored gap is rounded down, so a skipped sample is one whose label a plain pass could not
/// change (short of an exact tie within rounding).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "../options.hpp"
#include "block_copy.hpp"
#include "lloyd_stats.hpp"
#include "nearest_center.hpp"
#include "parallel.hpp"
#include "sample_rows.hpp"

namespace emcluster::detail {

/// Relative margin added to every centre movement (its norm is rounded, and the bound must
/// not shrink by less than the true movement).
inline constexpr double kMovementRoundUp = 1 + 1e-12;

/// Multiple of the rounding error bound (d + 2) eps (||x||^2 + ||c||^2) of a partial distance
/// that the fresh gaps leave as margin.
inline constexpr double kPartialDistanceErrorMargin = 4.0;

/// Relative slack taken off every fresh gap, covering its rounding to float (2^-20).
inline constexpr double kFreshGapSlack = 1.0 / (1 << 20);

/// Relative slack taken off every updated gap: float subtraction rounds to within 2^-24 of
/// the result, so shrinking by 2^-22 of the magnitude keeps the stored gap a lower bound.
inline constexpr float kGapRoundDown = 1.0f / (1 << 22);

/// Data without contiguous rows: when more than 1 / kCopyBlockFailingShare of a block's rows
/// fail their bound and a row takes at most kCopyBlockMaxRowBytes, the whole block is copied
/// sequentially (cheaper than scattered loads of one or two cache lines each).
inline constexpr Eigen::Index kCopyBlockFailingShare = 4;
inline constexpr Eigen::Index kCopyBlockMaxRowBytes = 128;

/// What the Hamerly passes of one Lloyd run carry from one iteration to the next.
struct HamerlyState {
  std::vector<float> gap;  ///< n: lower bound of (second nearest - own centre distance)
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>
      sums;                          ///< k x d: sum of w x per label
  Eigen::VectorXd weights;           ///< k: sum of w per label
  std::vector<Eigen::Index> counts;  ///< k: samples per label (an emptied centre gets exact zeros)
  std::vector<float> drop;    ///< k: how much the gap of a sample labelled j shrinks this pass
  bool rebuild = true;        ///< next pass recomputes every sample and the sums from scratch
  Eigen::Index assigned = 0;  ///< samples the last pass had to assign (the others were skipped)

  HamerlyState(Eigen::Index n, Eigen::Index k, Eigen::Index d)
      : gap(static_cast<std::size_t>(n), -1.0f),
        sums(Eigen::MatrixXd::Zero(k, d)),
        weights(Eigen::VectorXd::Zero(k)),
        counts(static_cast<std::size_t>(k), 0),
        drop(static_cast<std::size_t>(k), 0.0f) {}

  /// Records that the centres moved from `from` to `to` (the centres the kernels used, in
  /// double): every gap of a sample labelled j will shrink by ||to_j - from_j|| plus the
  /// largest movement of any other centre, rounded up.
  template <typename A, typename B>
  void centres_moved(const Eigen::MatrixBase<A>& from, const Eigen::MatrixBase<B>& to) {
    const Eigen::Index k = from.rows();
    Eigen::VectorXd delta(k);
    for (Eigen::Index j = 0; j < k; ++j)
      delta(j) = (to.row(j) - from.row(j)).norm() * kMovementRoundUp;
    // The largest and second largest movements give max over j' != j for every j.
    Eigen::Index top = 0;
    for (Eigen::Index j = 1; j < k; ++j) top = delta(j) > delta(top) ? j : top;
    double runner_up = 0;
    for (Eigen::Index j = 0; j < k; ++j)
      runner_up = j != top ? std::max(runner_up, delta(j)) : runner_up;
    for (Eigen::Index j = 0; j < k; ++j) {
      const double total = delta(j) + (j == top ? runner_up : delta(top));
      float f = static_cast<float>(total);
      if (static_cast<double>(f) < total)
        f = std::nextafter(f, std::numeric_limits<float>::infinity());
      drop[static_cast<std::size_t>(j)] = f;
    }
  }
};

/// One Hamerly E-step over all rows of X: re-assigns the samples whose bound fails, updates
/// labels, gaps and the running sums in `state` and returns the number of changed labels.
/// On `state.rebuild` every sample is assigned and the sums are rebuilt from zero (the first
/// pass of a run, and after empty clusters were relocated). Chunks' changes to the sums are
/// combined in chunk order: the same bits for any thread count.
template <typename Derived, typename Scalar>
Eigen::Index hamerly_pass(const Eigen::MatrixBase<Derived>& X, const double* w,
                          const PreparedCenters<Scalar>& C, int* labels, HamerlyState& state,
                          AssignKernel kernel) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = C.k();
  kernel = choose_kernel(kernel, k, d);
  const bool rebuild = state.rebuild;
  // Error bound of a partial distance ||c||^2 - 2 x.c computed in Scalar over d terms:
  // (d + 2) eps (||x||^2 + ||c||^2) covers the products and sums (2 |x.c| <= ||x||^2 + ||c||^2);
  // kPartialDistanceErrorMargin (4) times that is the margin.
  const double eps = static_cast<double>(std::numeric_limits<Scalar>::epsilon());
  const double err_scale = kPartialDistanceErrorMargin * static_cast<double>(d + 2) * eps;
  const double max_c2 = k > 0 ? C.centers_d.rowwise().squaredNorm().maxCoeff() : 0.0;
  const auto chunks = make_chunks(n, sizeof(double) * std::size_t(k * (d + 1)));
  // Rows contiguous in memory: the failing rows are gathered straight from X by index.
  constexpr bool contiguous = has_contiguous_rows<Derived>;
  struct Delta {
    LloydStats s;
    std::vector<Eigen::Index> counts;
    Eigen::Index assigned = 0;
    Eigen::Index changed = 0;
  };
  std::vector<Delta> deltas(chunks.size());
  float* gap = state.gap.data();
  const float* drop = state.drop.data();
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    LloydStats s(k, d);
    RowStats rs(k, d);
    std::vector<Eigen::Index> counts(static_cast<std::size_t>(k), 0);
    AssignWorkspace<Scalar> ws(d, k, kernel == AssignKernel::gemm);
    const Eigen::Index ld = ws.xb.rows();
    std::vector<Eigen::Index>
        queued;  // rows of X waiting for the kernel (copied into `staged` unless contiguous)
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> staged(
        contiguous ? 0 : kBlockRows, d);
    queued.reserve(static_cast<std::size_t>(kBlockRows));
    Eigen::ArrayXd x2(kBlockRows), best(kBlockRows), sec(kBlockRows), fresh(kBlockRows);
    RowBlockD xrows(kBlockRows, d);
    // Assigns the rows held in ws.xb (row q of the block is row row_of(q) of X), refreshes
    // their gaps and moves their weighted values between the sums.
    Eigen::Index assigned = 0, changed = 0;
    const auto process = [&](Eigen::Index rows, auto&& row_of) {
      assigned += rows;
      assign_rows(rows, C, kernel, ws, true);
      // Fresh gaps, vectorised across the rows, from the kernel's partial distances
      // p = ||c||^2 - 2 x.c of the nearest and second nearest centres and ||x||^2 (double):
      // sqrt(x2 + second - err) - sqrt(x2 + best + err), err bounding the rounding error of a
      // partial distance, less a relative slack of 2^-20 that covers the rounding to float.
      // (k = 1: second is +inf, and so is the gap.)
      double* EMCLUSTER_RESTRICT xx = x2.data();
      double* EMCLUSTER_RESTRICT b = best.data();
      double* EMCLUSTER_RESTRICT s2 = sec.data();
      for (Eigen::Index q = 0; q < rows; ++q) {
        xx[q] = 0;
        b[q] = static_cast<double>(ws.best(q));
        s2[q] = static_cast<double>(ws.second(q));
      }
      for (Eigen::Index f = 0; f < d; ++f) {
        const Scalar* EMCLUSTER_RESTRICT xf = ws.xb.data() + f * ld;
        for (Eigen::Index q = 0; q < rows; ++q)
          xx[q] += static_cast<double>(xf[q]) * static_cast<double>(xf[q]);
      }
      const auto x2a = x2.head(rows);
      const Eigen::ArrayXd err = err_scale * (x2a + max_c2);
      fresh.head(rows) = (x2a + sec.head(rows) - err).max(0.0).sqrt() -
                         (x2a + best.head(rows) + err).max(0.0).sqrt();
      fresh.head(rows) -= fresh.head(rows).abs().min(1e300) * kFreshGapSlack;
      bool moves = rebuild;
      for (Eigen::Index q = 0; q < rows; ++q) {
        const Eigen::Index i = row_of(q);
        gap[i] = static_cast<float>(fresh(q));
        moves = moves || labels[i] != ws.label(q);
      }
      if (!moves) return;
      // Samples that change cluster move their weighted values between the sums, read in
      // double from X's contiguous rows (or from a double copy of the block otherwise).
      if constexpr (!contiguous) rows_in_double(X, rows, row_of, ws.xb, xrows);
      for (Eigen::Index q = 0; q < rows; ++q) {
        const Eigen::Index i = row_of(q);
        const int lab = ws.label(q), old = labels[i];
        labels[i] = lab;
        if (!rebuild && old == lab) continue;
        const double wi = weight_of(w, i);
        if constexpr (contiguous) {
          const Scalar* x = X.derived().data() + i * X.derived().outerStride();
          rs.add(q, lab, wi, x);
          if (!rebuild && old >= 0) rs.add(q, old, wi, x, -1);
        } else {
          const double* x = xrows.data() + q * d;
          rs.add(q, lab, wi, x);
          if (!rebuild && old >= 0) rs.add(q, old, wi, x, -1);
        }
        changed += old != lab;
      }
    };
    const auto flush = [&]() {
      const auto rows = static_cast<Eigen::Index>(queued.size());
      if (rows == 0) return;
      if constexpr (contiguous) {  // gathered and transposed in one go
        transpose_rows(
            X.derived().data(), X.derived().outerStride(), rows, d,
            [&](Eigen::Index q) { return queued[static_cast<std::size_t>(q)]; }, ws.xb.data(), ld);
      } else {
        copy_block(staged, 0, rows, ws.xb);  // one transposition for the whole block
      }
      process(rows, [&](Eigen::Index q) { return queued[static_cast<std::size_t>(q)]; });
      queued.clear();
    };
    std::vector<Eigen::Index> failing(static_cast<std::size_t>(kBlockRows) + 1);
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      Eigen::Index failed = end - begin;
      if (!rebuild) {  // (labels are all >= 0 after the first pass, which rebuilds)
        failed = 0;
        for (Eigen::Index i = begin; i < end; ++i) {
          float g = gap[i] - drop[labels[i]];
          g -= std::abs(g) * kGapRoundDown;
          gap[i] = g;
          failing[static_cast<std::size_t>(failed)] = i;  // branch-free list of the failing rows
          failed += g <= 0;
        }
      }
      if (failed == 0) return;
      if (failed == end - begin) {  // the whole block: no gather needed
        copy_block(X, begin, end, ws.xb);
        process(end - begin, [&](Eigen::Index q) { return begin + q; });
        return;
      }
      if constexpr (contiguous) {  // queue the failing rows; flush() gathers them
        for (Eigen::Index f = 0; f < failed; ++f) {
          prefetch_row(X, failing[static_cast<std::size_t>(f)]);
          queued.push_back(failing[static_cast<std::size_t>(f)]);
          if (static_cast<Eigen::Index>(queued.size()) == kBlockRows) flush();
        }
        return;
      }
      if (failed * kCopyBlockFailingShare > end - begin &&
          d * Eigen::Index(sizeof(Scalar)) <= kCopyBlockMaxRowBytes) {
        // Many short rows: a sequential copy of the block (cheaper than scattered loads of
        // one or two cache lines each), then the failing rows moved to its top, in place.
        copy_block(X, begin, end, ws.xb);
        for (Eigen::Index f = 0; f < d; ++f) {
          Scalar* col = ws.xb.data() + f * ld;
          for (Eigen::Index q = 0; q < failed; ++q)
            col[q] = col[failing[static_cast<std::size_t>(q)] - begin];
        }
        process(failed, [&](Eigen::Index q) { return failing[static_cast<std::size_t>(q)]; });
        return;
      }
      // Few failing rows of data without contiguous rows: copy them into a row-major stage.
      for (Eigen::Index f = 0; f < failed; ++f) {
        const Eigen::Index i = failing[static_cast<std::size_t>(f)];
        staged.row(static_cast<Eigen::Index>(queued.size())) = X.row(i);
        queued.push_back(i);
        if (static_cast<Eigen::Index>(queued.size()) == kBlockRows) flush();
      }
    });
    flush();
    rs.flush(s, &counts);
    deltas[c] = Delta{std::move(s), std::move(counts), assigned, changed};
  });
  if (rebuild) {
    state.sums.setZero();
    state.weights.setZero();
    std::fill(state.counts.begin(), state.counts.end(), 0);
  }
  Eigen::Index changed = 0;
  state.assigned = 0;
  for (const auto& delta : deltas) {
    state.assigned += delta.assigned;
    state.sums += delta.s.sums();
    state.weights += delta.s.weights();
    for (Eigen::Index j = 0; j < k; ++j)
      state.counts[static_cast<std::size_t>(j)] += delta.counts[static_cast<std::size_t>(j)];
    changed += delta.changed;
  }
  // A centre that lost all its samples gets exact zeros (not the residue of adding and
  // subtracting their weights), as a plain pass would give it.
  for (Eigen::Index j = 0; j < k; ++j) {
    if (state.counts[static_cast<std::size_t>(j)] == 0) {
      state.sums.row(j).setZero();
      state.weights(j) = 0;
    }
  }
  state.rebuild = false;
  return changed;
}

}  // namespace emcluster::detail
