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

}  // namespace emcluster::detail
