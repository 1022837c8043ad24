/// @file detail/lloyd_stats.hpp
/// @brief The sufficient statistics of a Lloyd step (per-centre weighted sums and weights,
/// inertia, changed labels) as one flat buffer of doubles, the two ways a block of assigned
/// rows is accumulated into them (row by row, or vectorised across rows with lane masks), and
/// the M-step that turns them into centres.
///
/// A pass accumulates statistics per chunk of rows, combines the chunks' buffers by
/// elementwise sums in chunk order (combine_in_order), then updates the centres
/// (updated_centers). Elementwise sums of buffers are what a distributed pass needs too: the
/// statistics of several processes combine by one reduction with MPI_SUM over data().
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "block_copy.hpp"
#include "nearest_center.hpp"
#include "parallel.hpp"

namespace emcluster::detail {

/// What a set of rows contributes to a Lloyd step, accumulated in double whatever the data's
/// scalar type: one buffer of k (d + 1) + 2 doubles laid out as
///
///     [ sums: k x d, row-major | weights: k | inertia | changed ]
///
/// sums(j) is the weighted sum of the rows assigned to centre j, weights(j) their total
/// weight, inertia the sum of w ||x - c||^2 under the centres used for the assignment (NaN
/// where a step does not compute it) and changed the number of labels that differ from the
/// previous assignment (a count, exact in double). Statistics of the same k and d add
/// elementwise (add), so partial statistics of chunks, threads or processes combine by
/// summing buffers; adding them in a fixed order gives the same bits every time.
/// LloydStats() (k = 0) holds inertia and changed only, for passes that need no M-step.
class LloydStats {
 public:
  using Sums = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
  using ConstSums =
      Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
  using Weights = Eigen::Map<Eigen::VectorXd>;
  using ConstWeights = Eigen::Map<const Eigen::VectorXd>;

  /// Inertia and changed only (no per-centre statistics), both zero.
  LloydStats() : LloydStats(0, 0) {}
  /// Zero statistics for k centres in d dimensions.
  LloydStats(Eigen::Index k, Eigen::Index d)
      : k_(k), d_(d), buffer_(std::size_t(k * (d + 1) + 2), 0.0) {}

  Eigen::Index k() const { return k_; }
  Eigen::Index d() const { return d_; }

  /// k x d: the weighted sum of the rows assigned to each centre.
  Sums sums() { return Sums(buffer_.data(), k_, d_); }
  ConstSums sums() const { return ConstSums(buffer_.data(), k_, d_); }
  /// k: the total weight assigned to each centre.
  Weights weights() { return Weights(buffer_.data() + k_ * d_, k_); }
  ConstWeights weights() const { return ConstWeights(buffer_.data() + k_ * d_, k_); }
  /// Sum of w ||x - c||^2 over the rows (NaN when the step did not compute it).
  double& inertia() { return buffer_[std::size_t(k_ * (d_ + 1))]; }
  double inertia() const { return buffer_[std::size_t(k_ * (d_ + 1))]; }
  /// Labels that differ from the previous assignment.
  double& changed() { return buffer_[std::size_t(k_ * (d_ + 1) + 1)]; }
  double changed() const { return buffer_[std::size_t(k_ * (d_ + 1) + 1)]; }

  /// The whole buffer, k (d + 1) + 2 doubles (for a reduction across processes).
  double* data() { return buffer_.data(); }
  const double* data() const { return buffer_.data(); }
  std::size_t size() const { return buffer_.size(); }

  /// Adds other's buffer elementwise (same k and d; call in a fixed order for reproducible
  /// bits).
  void add(const LloydStats& other) {
    Eigen::Map<Eigen::VectorXd>(buffer_.data(), Eigen::Index(buffer_.size())) +=
        Eigen::Map<const Eigen::VectorXd>(other.buffer_.data(), Eigen::Index(other.buffer_.size()));
  }

 private:
  Eigen::Index k_, d_;
  std::vector<double> buffer_;
};

/// Sum of the parts' statistics, added in the parts' order to zero statistics of k centres
/// in d dimensions (k = 0: inertia and changed only): the same bits for any thread count.
inline LloydStats combine_in_order(const std::vector<LloydStats>& parts, Eigen::Index k,
                                   Eigen::Index d) {
  LloydStats total(k, d);
  for (const auto& part : parts) total.add(part);
  return total;
}

/// The M-step of Lloyd's algorithm: every centre with weight moves to the weighted mean of
/// its rows; a centre without weight stays where it was (old, k x d in double).
template <typename Old>
Eigen::MatrixXd updated_centers(const LloydStats& stats, const Old& old) {
  Eigen::MatrixXd updated = old;
  const auto sums = stats.sums();
  const auto weights = stats.weights();
  for (Eigen::Index j = 0; j < updated.rows(); ++j) {
    if (weights(j) > 0) updated.row(j) = sums.row(j) / weights(j);
  }
  return updated;
}

/// Row-by-row accumulation of the M-step statistics into interleaved copies: row r of a block
/// goes to copy r mod copies(), so consecutive rows of the same centre (sorted or clustered
/// data) do not wait for each other's stores to the same sums. With few features one row's
/// update is a short dependency chain through memory, and that chain, not arithmetic, bounds
/// the pass; four copies let four rows proceed at once. The copies are added in a fixed order
/// by flush(), so the bits depend on the rows' positions only, never on the thread count.
/// Only small statistics are copied (at most kMaxFeatures features and
/// kMaxValues values per copy), so that the copies stay in L1.
class RowStats {
 public:
  /// Interleaved copies of small statistics (a power of two: row r goes to r & (copies - 1)).
  static constexpr Eigen::Index kCopies = 4;
  static_assert((kCopies & (kCopies - 1)) == 0, "the copies are chosen by a mask");
  /// Most features for which the statistics are copied.
  static constexpr Eigen::Index kMaxFeatures = 64;
  /// Most values k * d of one copy of the sums.
  static constexpr Eigen::Index kMaxValues = 4096;

  RowStats(Eigen::Index k, Eigen::Index d)
      : k_(k),
        d_(d),
        mask_(d <= kMaxFeatures && k * d <= kMaxValues ? kCopies - 1 : 0),
        sums_(std::size_t((mask_ + 1) * k * d), 0.0),
        weights_(std::size_t((mask_ + 1) * k), 0.0),
        counts_(std::size_t((mask_ + 1) * k), 0),
        inertia_(std::size_t(mask_ + 1), 0.0) {}

  /// Adds (sign +1) or removes (sign -1) w x, given as d values of type T, to centre lab's
  /// sums, as row r of the block.
  template <typename T>
  void add(Eigen::Index r, int lab, double w, const T* EMCLUSTER_RESTRICT x, int sign = 1) {
    const Eigen::Index copy = r & mask_;
    double* EMCLUSTER_RESTRICT sum = sums_.data() + (copy * k_ + lab) * d_;
    const double sw = sign * w;
    for (Eigen::Index f = 0; f < d_; ++f) sum[f] += sw * static_cast<double>(x[f]);
    weights_[std::size_t(copy * k_ + lab)] += sw;
    counts_[std::size_t(copy * k_ + lab)] += sign;
  }

  /// Adds a row's contribution to the objective.
  void add_inertia(Eigen::Index r, double value) { inertia_[std::size_t(r & mask_)] += value; }

  /// Adds the copies, in order, into s (sums, weights, inertia) and counts (when given), then
  /// resets them to zero.
  void flush(LloydStats& s, std::vector<Eigen::Index>* counts = nullptr) {
    for (Eigen::Index copy = 0; copy <= mask_; ++copy) {
      const std::size_t at = std::size_t(copy * k_);
      if (s.sums().size() > 0) {
        s.sums() += LloydStats::ConstSums(sums_.data() + at * std::size_t(d_), k_, d_);
        s.weights() += LloydStats::ConstWeights(weights_.data() + at, k_);
      }
      if (counts)
        for (Eigen::Index j = 0; j < k_; ++j)
          (*counts)[std::size_t(j)] += counts_[at + std::size_t(j)];
      s.inertia() += inertia_[std::size_t(copy)];
    }
    std::fill(sums_.begin(), sums_.end(), 0.0);
    std::fill(weights_.begin(), weights_.end(), 0.0);
    std::fill(counts_.begin(), counts_.end(), 0);
    std::fill(inertia_.begin(), inertia_.end(), 0.0);
  }

 private:
  Eigen::Index k_, d_, mask_;
  std::vector<double> sums_, weights_;
  std::vector<Eigen::Index> counts_;
  std::vector<double> inertia_;
};

/// Lanes of the vectorised per-centre statistics: 8 doubles (one AVX-512 register, two AVX).
inline constexpr Eigen::Index kStatLanes = 8;
static_assert(kBlockRows % (2 * kStatLanes) == 0, "a block must hold whole pairs of lane groups");

/// Largest k * (3 d + 2) for which lloyd_pass accumulates the statistics of a block with
/// vectorised masked sums (one pass per centre over the block, lanes across rows) instead
/// of one row at a time. The row loop costs a few scalar operations per feature and row; the
/// masked sums cost about k (3 d + 2) / kStatLanes vector operations per row, so they win
/// for small k and d (the article's k = 3, d = 2 runs 4-5 times faster).
inline constexpr Eigen::Index kMaskedStatsMaxWork = 64;

/// Scratch space of the masked statistics of one chunk: lane accumulators in double.
struct MaskedStatsWorkspace {
  std::vector<double>
      x;  ///< d x kBlockRows: the block, converted to double, one feature after another
  std::vector<double> lab;  ///< kBlockRows: the labels, as doubles
  std::vector<double> w;    ///< kBlockRows: the weights (1 without weights)
  std::vector<double>
      wm;  ///< kBlockRows: the weights of the rows of the current centre, 0 elsewhere
  std::vector<double> sums;  ///< k x d x kStatLanes: lane sums of w x per centre and feature
  std::vector<double> wsum;  ///< k x kStatLanes: lane sums of w per centre
  std::vector<double> dist;  ///< k x kStatLanes: lane sums of w ||x - c||^2 per centre
  MaskedStatsWorkspace(Eigen::Index k, Eigen::Index d)
      : x(std::size_t(d * kBlockRows)),
        lab(std::size_t(kBlockRows)),
        w(std::size_t(kBlockRows)),
        wm(std::size_t(kBlockRows)),
        sums(std::size_t(k * d * kStatLanes), 0.0),
        wsum(std::size_t(k * kStatLanes), 0.0),
        dist(std::size_t(k * kStatLanes), 0.0) {}

  /// Adds the lane sums into s (lanes in order, then reset to zero).
  void flush(LloydStats& s, bool accumulate) {
    const Eigen::Index k = static_cast<Eigen::Index>(wsum.size()) / kStatLanes;
    const Eigen::Index d = k > 0 ? static_cast<Eigen::Index>(sums.size()) / (k * kStatLanes) : 0;
    auto s_sums = s.sums();
    auto s_weights = s.weights();
    for (Eigen::Index c = 0; c < k; ++c) {
      double w = 0, in = 0;
      for (Eigen::Index l = 0; l < kStatLanes; ++l) {
        w += wsum[std::size_t(c * kStatLanes + l)];
        in += dist[std::size_t(c * kStatLanes + l)];
      }
      s.inertia() += in;
      if (!accumulate) continue;
      s_weights(c) += w;
      for (Eigen::Index f = 0; f < d; ++f) {
        double t = 0;
        for (Eigen::Index l = 0; l < kStatLanes; ++l)
          t += sums[std::size_t((c * d + f) * kStatLanes + l)];
        s_sums(c, f) += t;
      }
    }
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(wsum.begin(), wsum.end(), 0.0);
    std::fill(dist.begin(), dist.end(), 0.0);
  }
};

/// Statistics of one assigned block, vectorised across rows: for every centre c, one sweep
/// over the block in groups of kStatLanes rows, where a lane mask (label == c) selects w,
/// w ||x - c||^2 (exact differences in double) and then w x into lane accumulators held in
/// registers. Rows past `rows` up to the next multiple of kStatLanes are masked out (label
/// -1, values 0).
template <typename Scalar>
void masked_block_stats(Eigen::Index rows, const Scalar* xb, Eigen::Index ld, const int* label,
                        const double* wb,
                        const typename PreparedCenters<Scalar>::RowMatrixD& centers_d,
                        bool accumulate, MaskedStatsWorkspace& ws) {
  constexpr Eigen::Index L = kStatLanes;
  using Lanes = Eigen::Array<double, L, 1>;
  using LaneMap = Eigen::Map<Lanes>;
  using ConstLaneMap = Eigen::Map<const Lanes>;
  const Eigen::Index k = centers_d.rows(), d = centers_d.cols();
  const Eigen::Index padded = (rows + 2 * L - 1) / (2 * L) * (2 * L);
  double* lab = ws.lab.data();
  double* w = ws.w.data();
  double* wm = ws.wm.data();
  // The block in double, feature f at x + f * xs. Double data are read in place: the rows
  // past `rows` hold zeros or earlier finite rows, and their lanes are masked out.
  const double* x = nullptr;
  Eigen::Index xs = kBlockRows;
  if constexpr (std::is_same<Scalar, double>::value) {
    x = xb;
    xs = ld;
  } else {
    for (Eigen::Index f = 0; f < d; ++f) {
      double* xf = ws.x.data() + f * kBlockRows;
      for (Eigen::Index r = 0; r < rows; ++r) xf[r] = static_cast<double>(xb[f * ld + r]);
      for (Eigen::Index r = rows; r < padded; ++r) xf[r] = 0.0;
    }
    x = ws.x.data();
  }
  for (Eigen::Index r = 0; r < rows; ++r) {
    lab[r] = static_cast<double>(label[r]);
    w[r] = wb ? wb[r] : 1.0;
  }
  for (Eigen::Index r = rows; r < padded; ++r) {
    lab[r] = -1.0;
    w[r] = 0.0;
  }
  // Two groups of lanes per step (independent accumulators hide the FMA latency); padded
  // is a multiple of 2 L (kBlockRows is).
  for (Eigen::Index c = 0; c < k; ++c) {
    const double* cc = centers_d.row(c).data();
    const double cd = static_cast<double>(c);
    Lanes wsum0 = Lanes::Zero(), wsum1 = Lanes::Zero(), dsum0 = Lanes::Zero(),
          dsum1 = Lanes::Zero();
    for (Eigen::Index r0 = 0; r0 < padded; r0 += 2 * L) {
      // w where the label is c, else 0: labels are small integers, so 1 - |label - c| is 1
      // on a match and <= 0 otherwise (an arithmetic mask Eigen vectorises; select does not).
      const Lanes m0 = ConstLaneMap(w + r0) * (1.0 - (ConstLaneMap(lab + r0) - cd).abs()).max(0.0);
      const Lanes m1 =
          ConstLaneMap(w + r0 + L) * (1.0 - (ConstLaneMap(lab + r0 + L) - cd).abs()).max(0.0);
      Lanes dist0 = Lanes::Zero(), dist1 = Lanes::Zero();
      for (Eigen::Index f = 0; f < d; ++f) {
        dist0 += (ConstLaneMap(x + f * xs + r0) - cc[f]).square();
        dist1 += (ConstLaneMap(x + f * xs + r0 + L) - cc[f]).square();
      }
      wsum0 += m0;
      wsum1 += m1;
      dsum0 += m0 * dist0;
      dsum1 += m1 * dist1;
      LaneMap(wm + r0) = m0;
      LaneMap(wm + r0 + L) = m1;
    }
    LaneMap(ws.wsum.data() + c * L) += wsum0 + wsum1;
    LaneMap(ws.dist.data() + c * L) += dsum0 + dsum1;
    if (!accumulate) continue;
    for (Eigen::Index f = 0; f < d; ++f) {
      const double* xf = x + f * xs;
      Lanes sum0 = Lanes::Zero(), sum1 = Lanes::Zero();
      for (Eigen::Index r0 = 0; r0 < padded; r0 += 2 * L) {
        sum0 += ConstLaneMap(wm + r0) * ConstLaneMap(xf + r0);
        sum1 += ConstLaneMap(wm + r0 + L) * ConstLaneMap(xf + r0 + L);
      }
      LaneMap(ws.sums.data() + (c * d + f) * L) += sum0 + sum1;
    }
  }
}

/// Rows of one step of sweep_small_block: two groups of kStatLanes rows, the two lane
/// accumulators of masked_block_stats (16 floats, one AVX-512 vector, or 2 x 8 doubles).
inline constexpr Eigen::Index kSweepRows = 2 * kStatLanes;

/// Most centres and most values k * d for which sweep_small_block holds its lane
/// accumulators (uses_masked_stats bounds k (3 d + 2) by kMaskedStatsMaxWork).
inline constexpr Eigen::Index kSweepMaxCenters = kMaskedStatsMaxWork / 5;
inline constexpr Eigen::Index kSweepMaxValues = kMaskedStatsMaxWork / 3;
inline constexpr Eigen::Index kSweepMaxFeatures = (kMaskedStatsMaxWork - 2) / 3;

/// Whether lloyd_pass runs sweep_small_block for k centres in d dimensions with `kernel`
/// (resolved): small statistics (uses_masked_stats, the same bound), the direct kernel's
/// one-centre-at-a-time branch (fewer than kTileCenters centres).
inline bool uses_single_sweep(Eigen::Index k, Eigen::Index d, AssignKernel kernel) {
  return kernel == AssignKernel::direct && k < kTileCenters &&
         k * (3 * d + 2) <= kMaskedStatsMaxWork;
}

/// The body of sweep_small_block for K centres and D features known at compile time (0:
/// given at run time as k, d), so that the common small shapes keep every accumulator in a
/// register.
template <int K, int D, bool Accumulate, typename Scalar>
Eigen::Index sweep_block_of(Eigen::Index rows, const Scalar* xb, Eigen::Index ld,
                            const PreparedCenters<Scalar>& C, const double* wb,
                            int* EMCLUSTER_RESTRICT labels, MaskedStatsWorkspace& ws) {
  constexpr Eigen::Index L = kStatLanes, S = kSweepRows;
  constexpr Eigen::Index MK = K > 0 ? K : kSweepMaxCenters, MD = D > 0 ? D : kSweepMaxFeatures;
  constexpr Eigen::Index MV = K > 0 && D > 0 ? K * D : kSweepMaxValues;
  using Lanes = Eigen::Array<double, L, 1>;
  using LaneMap = Eigen::Map<Lanes>;
  namespace ei = Eigen::internal;
  using PS = typename ei::packet_traits<Scalar>::type;
  using PD = typename ei::packet_traits<double>::type;
  constexpr Eigen::Index ND = kPacketSize<double>;
  constexpr Eigen::Index N = kPacketSize<Scalar>;
  static_assert(S % N == 0, "a step must hold whole packets");
  const Eigen::Index k = K > 0 ? K : C.k(), d = D > 0 ? D : C.d();
  // The centres as local values: -2 c and ||c||^2 in Scalar, c in double.
  Scalar m2c[MV], c2[MK];
  double cd[MV];
  for (Eigen::Index c = 0; c < k; ++c) {
    c2[c] = C.squared_norms(c);
    for (Eigen::Index f = 0; f < d; ++f) {
      m2c[c * d + f] = C.minus2_centers(c, f);
      cd[c * d + f] = C.centers_d(c, f);
    }
  }
  // The block's lane accumulators: [group][centre] and [group][centre * d + feature].
  Lanes wsum[2][MK], dsum[2][MK], sums[2][MV];
  for (int h = 0; h < 2; ++h) {
    for (Eigen::Index c = 0; c < k; ++c) wsum[h][c] = dsum[h][c] = Lanes::Zero();
    for (Eigen::Index v = 0; v < k * d; ++v) sums[h][v] = Lanes::Zero();
  }
  // The block's labels as Scalar values, written out (with the count of changes) after the
  // sweep: a loop of integers alone, which the compiler vectorises.
  alignas(kCacheLineBytes) Scalar block_lab[kBlockRows];
  // Steps of S rows from r0; `live` of them are rows of the block (S but in the last).
  for (Eigen::Index r0 = 0; r0 < rows; r0 += S) {
    const Eigen::Index live = std::min(S, rows - r0);
    // Nearest centre: the partial distances in assign_rows' operation order, kept as
    // fold_minima keeps them (labels as Scalar values; ties keep the lower index).
    const Scalar* EMCLUSTER_RESTRICT x = xb + r0;
    alignas(kCacheLineBytes) Scalar lab[S];
    if constexpr (N > 1) {
      PS xs[MD][S / N], best[S / N], lp[S / N];
      for (Eigen::Index f = 0; f < d; ++f)
        for (Eigen::Index p = 0; p < S / N; ++p) xs[f][p] = ei::ploadu<PS>(x + f * ld + p * N);
      for (Eigen::Index p = 0; p < S / N; ++p) {
        PS a = ei::pset1<PS>(c2[0]);
        for (Eigen::Index f = 0; f < d; ++f) a = ei::pmadd(xs[f][p], ei::pset1<PS>(m2c[f]), a);
        best[p] = a;
        lp[p] = ei::pset1<PS>(Scalar(0));
      }
      for (Eigen::Index c = 1; c < k; ++c) {
        const PS pc = ei::pset1<PS>(static_cast<Scalar>(c));
        for (Eigen::Index p = 0; p < S / N; ++p) {
          PS a = ei::pset1<PS>(c2[c]);
          for (Eigen::Index f = 0; f < d; ++f)
            a = ei::pmadd(xs[f][p], ei::pset1<PS>(m2c[c * d + f]), a);
          const PS lower = ei::pcmp_lt(a, best[p]);
          best[p] = ei::pselect(lower, a, best[p]);
          lp[p] = ei::pselect(lower, pc, lp[p]);
        }
      }
      for (Eigen::Index p = 0; p < S / N; ++p) ei::pstore(lab + p * N, lp[p]);
    } else {
      Scalar best[S];
      for (Eigen::Index l = 0; l < S; ++l) {
        for (Eigen::Index c = 0; c < k; ++c) {
          Scalar a = c2[c];
          for (Eigen::Index f = 0; f < d; ++f) a += x[f * ld + l] * m2c[c * d + f];
          const bool lower = c == 0 || a < best[l];
          best[l] = lower ? a : best[l];
          lab[l] = lower ? static_cast<Scalar>(c) : lab[l];
        }
      }
    }
    // The lanes of the statistics: label (-1 past the block's rows) and weight (0 there).
    alignas(kCacheLineBytes) double labd[S], wd[S];
    std::copy(lab, lab + S, block_lab + r0);
    if (live == S) {
      for (Eigen::Index l = 0; l < S; ++l) labd[l] = static_cast<double>(lab[l]);
      if (wb) {
        for (Eigen::Index l = 0; l < S; ++l) wd[l] = wb[r0 + l];
      } else {
        for (Eigen::Index l = 0; l < S; ++l) wd[l] = 1.0;
      }
    } else {
      for (Eigen::Index l = 0; l < S; ++l) {
        labd[l] = l < live ? static_cast<double>(lab[l]) : -1.0;
        wd[l] = l < live ? (wb ? wb[r0 + l] : 1.0) : 0.0;
      }
    }
    // Statistics in double, group by group, with masked_block_stats' expressions.
    EMCLUSTER_UNROLL
    for (int h = 0; h < 2; ++h) {
      Lanes xd[MD];
      for (Eigen::Index f = 0; f < d; ++f)
        for (Eigen::Index l = 0; l < L; ++l) xd[f](l) = static_cast<double>(x[f * ld + h * L + l]);
      const Eigen::Map<const Lanes> lab_h(labd + h * L), w_h(wd + h * L);
      EMCLUSTER_UNROLL
      for (Eigen::Index c = 0; c < k; ++c) {
        // w where the label is c, else +0: masked_block_stats' arithmetic mask gives the
        // same values (w * 1 and w * 0 for w >= 0), a comparison mask costs fewer operations.
        Lanes m;
        for (Eigen::Index p = 0; p < L; p += ND)
          ei::pstore(m.data() + p, ei::pand(ei::pcmp_eq(ei::pload<PD>(labd + h * L + p),
                                                        ei::pset1<PD>(static_cast<double>(c))),
                                            ei::pload<PD>(wd + h * L + p)));
        Lanes dist = Lanes::Zero();
        for (Eigen::Index f = 0; f < d; ++f) dist += (xd[f] - cd[c * d + f]).square();
        wsum[h][c] += m;
        dsum[h][c] += m * dist;
        if constexpr (Accumulate)
          for (Eigen::Index f = 0; f < d; ++f) sums[h][c * d + f] += m * xd[f];
      }
    }
  }
  Eigen::Index changed = 0;
  for (Eigen::Index r = 0; r < rows; ++r) {
    const int nl = static_cast<int>(block_lab[r]);
    changed += labels[r] != nl;
    labels[r] = nl;
  }
  for (Eigen::Index c = 0; c < k; ++c) {
    LaneMap(ws.wsum.data() + c * L) += wsum[0][c] + wsum[1][c];
    LaneMap(ws.dist.data() + c * L) += dsum[0][c] + dsum[1][c];
    if constexpr (Accumulate)
      for (Eigen::Index f = 0; f < d; ++f)
        LaneMap(ws.sums.data() + (c * d + f) * L) += sums[0][c * d + f] + sums[1][c * d + f];
  }
  return changed;
}

/// One Lloyd E-step on a block for few centres and features (uses_single_sweep), in a single
/// sweep over the block copy xb (column-major, leading dimension ld, the rows past `rows` up
/// to the next multiple of kSweepRows finite): for each step of kSweepRows rows, the nearest
/// centre (in Scalar), the labels (written to labels[0, rows), with the count of changes)
/// and the masked statistics (in double, into ws), all from the rows' values while they are
/// in registers. Returns the number of labels that changed.
///
/// Written for the read bound: with k and d this small the separate passes (assign_rows, the
/// label loop, masked_block_stats) spend most of their time storing and re-reading the block,
/// its partial distances, labels and masks, not computing; here the block is read from L1
/// once and every intermediate stays in a register. The reference it is tested against is
/// that sequence of separate passes (assign_rows' branch for fewer than kTileCenters centres,
/// then masked_block_stats), and it reproduces its results to the bit: the same partial
/// distances in the same operation order, the same lane masks, and the same lane
/// accumulators (one for the first and one for the second group of kStatLanes rows of every
/// step, added in row order, flushed into ws once per block). The shapes of the article
/// and its neighbours (k 2 to 4, d 1 to 4) are compiled for their sizes.
template <typename Scalar>
Eigen::Index sweep_small_block(Eigen::Index rows, const Scalar* xb, Eigen::Index ld,
                               const PreparedCenters<Scalar>& C, const double* wb, int* labels,
                               bool accumulate, MaskedStatsWorkspace& ws) {
  const Eigen::Index k = C.k(), d = C.d();
  // The shapes compiled for their sizes accumulate (the passes of a fit); a pass for the
  // inertia alone takes the general body.
#define EMCLUSTER_SWEEP_CASE(KK, DD)    \
  if (accumulate && k == KK && d == DD) \
    return sweep_block_of<KK, DD, true>(rows, xb, ld, C, wb, labels, ws);
  EMCLUSTER_SWEEP_CASE(2, 1)
  EMCLUSTER_SWEEP_CASE(2, 2)
  EMCLUSTER_SWEEP_CASE(2, 3)
  EMCLUSTER_SWEEP_CASE(2, 4)
  EMCLUSTER_SWEEP_CASE(3, 1)
  EMCLUSTER_SWEEP_CASE(3, 2)
  EMCLUSTER_SWEEP_CASE(3, 3)
  EMCLUSTER_SWEEP_CASE(3, 4)
  EMCLUSTER_SWEEP_CASE(4, 1)
  EMCLUSTER_SWEEP_CASE(4, 2)
  EMCLUSTER_SWEEP_CASE(4, 3)
  EMCLUSTER_SWEEP_CASE(4, 4)
#undef EMCLUSTER_SWEEP_CASE
  return accumulate ? sweep_block_of<0, 0, true>(rows, xb, ld, C, wb, labels, ws)
                    : sweep_block_of<0, 0, false>(rows, xb, ld, C, wb, labels, ws);
}

}  // namespace emcluster::detail
