/// @file detail/kmeans_kernels.hpp
/// @brief The numerical kernels behind KMeans: nearest-centre assignment by blocks of rows,
/// the per-chunk sufficient statistics of a Lloyd step and their deterministic combination.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <type_traits>
#include <vector>

#include "../options.hpp"
#include "parallel.hpp"

namespace emcluster::detail {

#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#define EMCLUSTER_RESTRICT __restrict
#else
#define EMCLUSTER_RESTRICT
#endif

/// Features up to which the automatic choice uses the direct kernel: its tile of rows (32
/// floats or 16 doubles by d) then stays in L1 while every block of 8 centres reads it;
/// beyond, the cache-blocked GEMM wins.
inline constexpr Eigen::Index kDirectKernelMaxFeatures = 256;

/// Centres prepared for a nearest-centre search: -2 c in the data's scalar type (row-major,
/// one centre per contiguous row) for the distance kernels, ||c||^2, and a double copy for
/// exact distances.
template <typename Scalar>
struct PreparedCenters {
  using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  Matrix centers;                 ///< k x d in the data's scalar type
  RowMatrix minus2_centers;       ///< k x d, -2 c
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> squared_norms;  ///< k, ||c_j||^2
  RowMatrixD centers_d;           ///< k x d in double

  PreparedCenters() = default;
  explicit PreparedCenters(const Eigen::MatrixXd& c)
      : centers(c.cast<Scalar>()),
        minus2_centers(Scalar(-2) * centers),
        squared_norms(centers.rowwise().squaredNorm()),
        centers_d(centers.template cast<double>()) {}
  Eigen::Index k() const { return centers.rows(); }
  Eigen::Index d() const { return centers.cols(); }
};

/// Scratch space of one thread for the assignment of one block of rows.
template <typename Scalar>
struct AssignWorkspace {
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> xb;    ///< kBlockRows x d copy of the block
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> dist;  ///< kBlockRows x k (GEMM kernel)
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> acc, best, second;  ///< partial distances
  Eigen::VectorXi label;                                       ///< nearest centre per row

  AssignWorkspace(Eigen::Index d, Eigen::Index k, bool gemm)
      : xb(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Zero(kBlockRows, d)),  // tiles read past the rows in use
        acc(kBlockRows),
        best(kBlockRows),
        second(kBlockRows),
        label(kBlockRows) {
    if (gemm) dist.resize(kBlockRows, k);
  }
};

/// Resolves AssignKernel::automatic for k centres in d dimensions.
inline AssignKernel choose_kernel(AssignKernel requested, Eigen::Index k, Eigen::Index d) {
  if (requested != AssignKernel::automatic) return requested;
  (void)k;
  return d <= kDirectKernelMaxFeatures ? AssignKernel::direct : AssignKernel::gemm;
}

/// Row-major double copies of block rows, for the per-row statistics.
using RowBlockD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Fills the first `rows` rows of xr with rows row_of(0), ..., row_of(rows - 1) of X in
/// double: straight from X when its rows are contiguous in memory, else from the block copy
/// xb (column-major, leading dimension xb.rows()) that holds the same rows. Plain loops:
/// the compiler vectorises the conversion (Eigen 3.4 does not vectorise a float to double cast).
template <typename Derived, typename Scalar, typename RowOf>
void rows_in_double(const Eigen::MatrixBase<Derived>& X, Eigen::Index rows, RowOf&& row_of,
                    const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& xb, RowBlockD& xr) {
  const Eigen::Index d = X.cols();
  if constexpr (bool(Derived::IsRowMajor) && (int(Eigen::internal::traits<Derived>::Flags) & Eigen::DirectAccessBit) &&
                int(Derived::InnerStrideAtCompileTime) == 1) {
    const Eigen::Index stride = X.derived().outerStride();
    for (Eigen::Index q = 0; q < rows; ++q) {
      const Scalar* EMCLUSTER_RESTRICT src = X.derived().data() + row_of(q) * stride;
      double* EMCLUSTER_RESTRICT dst = xr.data() + q * d;
      for (Eigen::Index f = 0; f < d; ++f) dst[f] = static_cast<double>(src[f]);
    }
  } else {
    const Eigen::Index ld = xb.rows();
    for (Eigen::Index f = 0; f < d; ++f) {
      const Scalar* EMCLUSTER_RESTRICT src = xb.data() + f * ld;
      double* EMCLUSTER_RESTRICT dst = xr.data() + f;
      for (Eigen::Index q = 0; q < rows; ++q) dst[q * d] = static_cast<double>(src[q]);
    }
  }
}

// Packet code follows. GCC warns that a packet type's alignment attribute is dropped when it
// is a template argument; Eigen's own packet code silences that warning the same way.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
/// Scalars in one SIMD packet of Eigen's (1 without vectorisation).
template <typename Scalar>
inline constexpr Eigen::Index kPacketSize =
    Eigen::internal::unpacket_traits<typename Eigen::internal::packet_traits<Scalar>::type>::size;

/// Most centres whose indices a Scalar holds exactly (2^24 for float, 2^53 for double): the
/// kernels carry labels as Scalar values.
template <typename Scalar>
inline constexpr Eigen::Index kMaxExactLabels = Eigen::Index(1) << std::numeric_limits<Scalar>::digits;

/// Folds the partial distances `candidate` of centre j into the running minima of `rows`
/// rows: best, the label of best and, with Second, the second smallest value. Labels are
/// carried as Scalar values (exact below kMaxExactLabels) so that one comparison mask selects
/// distance and label alike (Eigen's packet primitives, no branches). Ties keep the lower
/// index. The register tiles use it for their last group of fewer than 8 centres.
template <bool Second, typename Scalar>
inline void fold_minima(Eigen::Index rows, const Scalar* EMCLUSTER_RESTRICT candidate, Scalar j,
                        Scalar* EMCLUSTER_RESTRICT best, Scalar* EMCLUSTER_RESTRICT second,
                        Scalar* EMCLUSTER_RESTRICT label) {
  namespace ei = Eigen::internal;
  using Packet = typename ei::packet_traits<Scalar>::type;
  constexpr Eigen::Index N = ei::unpacket_traits<Packet>::size;
  Eigen::Index r = 0;
  if constexpr (N > 1) {
    const Packet pj = ei::pset1<Packet>(j);
    for (; r + N <= rows; r += N) {
      const Packet c = ei::ploadu<Packet>(candidate + r), b = ei::ploadu<Packet>(best + r);
      const Packet lower = ei::pcmp_lt(c, b);
      // The new second smallest: the smaller of the old one and max(best, candidate).
      if constexpr (Second) ei::pstoreu(second + r, ei::pmin(ei::ploadu<Packet>(second + r), ei::pselect(lower, b, c)));
      ei::pstoreu(best + r, ei::pselect(lower, c, b));
      ei::pstoreu(label + r, ei::pselect(lower, pj, ei::ploadu<Packet>(label + r)));
    }
  }
  for (; r < rows; ++r) {
    const Scalar c = candidate[r], b = best[r];
    const bool lower = c < b;
    if constexpr (Second) second[r] = std::min(second[r], lower ? b : c);
    best[r] = lower ? c : b;
    label[r] = lower ? j : label[r];
  }
}

/// Smallest value, its label and (with Second) the second smallest value of some candidates,
/// one SIMD packet of rows at a time.
template <typename Packet>
struct PacketMinima {
  Packet best, second, label;
};

/// Merges the minima of two groups of centres, `lo` holding the lower centre indices (it
/// wins ties).
template <bool Second, typename Packet>
inline PacketMinima<Packet> merge_minima(const PacketMinima<Packet>& lo, const PacketMinima<Packet>& hi) {
  namespace ei = Eigen::internal;
  const Packet lower = ei::pcmp_lt(hi.best, lo.best);
  PacketMinima<Packet> m;
  m.best = ei::pselect(lower, hi.best, lo.best);
  m.label = ei::pselect(lower, hi.label, lo.label);
  if constexpr (Second) m.second = ei::pmin(ei::pselect(lower, lo.best, hi.best), ei::pmin(lo.second, hi.second));
  return m;
}

/// Folds the partial distances of 8 consecutive centres j0, ..., j0 + 7 (acc[q] holds T rows
/// for centre j0 + q) into the running minima of T rows: a tree of pairwise merges in
/// registers, then one merge with the running values, instead of 8 read-modify-write folds.
template <bool Second, Eigen::Index T, typename Scalar>
inline void fold_eight(const Scalar (*acc)[T], Scalar j0, Scalar* EMCLUSTER_RESTRICT best,
                       Scalar* EMCLUSTER_RESTRICT second, Scalar* EMCLUSTER_RESTRICT label) {
  namespace ei = Eigen::internal;
  using Packet = typename ei::packet_traits<Scalar>::type;
  using M = PacketMinima<Packet>;
  constexpr Eigen::Index N = ei::unpacket_traits<Packet>::size;
  static_assert(T % N == 0, "a tile must hold whole packets");
  for (Eigen::Index p = 0; p < T; p += N) {
    M pair[4];
    for (int h = 0; h < 4; ++h) {  // leaves: centres j0 + 2h and j0 + 2h + 1
      const Packet c0 = ei::ploadu<Packet>(acc[2 * h] + p), c1 = ei::ploadu<Packet>(acc[2 * h + 1] + p);
      const Packet lower = ei::pcmp_lt(c1, c0);
      pair[h].best = ei::pselect(lower, c1, c0);
      pair[h].label = ei::pselect(lower, ei::pset1<Packet>(j0 + Scalar(2 * h + 1)), ei::pset1<Packet>(j0 + Scalar(2 * h)));
      if constexpr (Second) pair[h].second = ei::pselect(lower, c0, c1);
    }
    const M block = merge_minima<Second>(merge_minima<Second>(pair[0], pair[1]), merge_minima<Second>(pair[2], pair[3]));
    M run;
    run.best = ei::ploadu<Packet>(best + p);
    run.label = ei::ploadu<Packet>(label + p);
    if constexpr (Second) run.second = ei::ploadu<Packet>(second + p);
    run = merge_minima<Second>(run, block);
    ei::pstoreu(best + p, run.best);
    ei::pstoreu(label + p, run.label);
    if constexpr (Second) ei::pstoreu(second + p, run.second);
  }
}

/// Tiles of rows transpose_rows prefetches ahead.
inline constexpr int kTransposeAhead = 2;

/// Writes rows row_of(0), ..., row_of(rows - 1) of a row-major matrix (contiguous rows, d
/// values each, row i starting at base + i * stride) transposed into the top of the columns
/// of dst (column-major, leading dimension ld). Square tiles of one SIMD packet of rows by one
/// packet of features are transposed in registers (Eigen's packet transpose); the features
/// and rows left over are copied one by one.
template <typename Scalar, typename RowOf>
void transpose_rows(const Scalar* base, Eigen::Index stride, Eigen::Index rows, Eigen::Index d, RowOf&& row_of,
                    Scalar* EMCLUSTER_RESTRICT dst, Eigen::Index ld) {
  using Packet = typename Eigen::internal::packet_traits<Scalar>::type;
  constexpr int N = Eigen::internal::unpacket_traits<Packet>::size;
  Eigen::Index r = 0;
  if constexpr (N > 1) {
    for (; r + N <= rows; r += N) {
      const Scalar* src[N];
      for (int i = 0; i < N; ++i) src[i] = base + row_of(r + i) * stride;
#if defined(__GNUC__) || defined(__clang__)
      // Ask for the rows of a later tile now: a tile's loads alone keep too few cache
      // misses in flight to reach the memory's bandwidth.
      if (r + (kTransposeAhead + 1) * N <= rows) {
        for (int i = 0; i < N; ++i) {
          const char* p = reinterpret_cast<const char*>(base + row_of(r + kTransposeAhead * N + i) * stride);
          for (Eigen::Index b = 0; b < d * Eigen::Index(sizeof(Scalar)); b += 64) __builtin_prefetch(p + b);
        }
      }
#endif
      Eigen::Index f = 0;
      for (; f + N <= d; f += N) {
        Eigen::internal::PacketBlock<Packet, N> tile;
        for (int i = 0; i < N; ++i) tile.packet[i] = Eigen::internal::ploadu<Packet>(src[i] + f);
        Eigen::internal::ptranspose(tile);
        for (int i = 0; i < N; ++i) Eigen::internal::pstoreu(dst + (f + i) * ld + r, tile.packet[i]);
      }
      for (; f < d; ++f)
        for (int i = 0; i < N; ++i) dst[f * ld + r + i] = src[i][f];
    }
  }
  for (; r < rows; ++r) {
    const Scalar* src = base + row_of(r) * stride;
    for (Eigen::Index f = 0; f < d; ++f) dst[f * ld + r] = src[f];
  }
}

/// Copies rows [begin, end) of X into the top of xb (column-major, leading dimension
/// xb.rows()). Row-major data with direct access is transposed by a plain loop, which the
/// compiler vectorises for d <= 8 far better than a generic expression assignment, and by
/// register tiles (transpose_rows) above that.
template <typename Derived, typename Scalar>
void copy_block(const Eigen::MatrixBase<Derived>& X, Eigen::Index begin, Eigen::Index end,
                Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& xb) {
  const Eigen::Index rows = end - begin;
  if constexpr (bool(Derived::IsRowMajor) && (int(Eigen::internal::traits<Derived>::Flags) & Eigen::DirectAccessBit) &&
                int(Derived::InnerStrideAtCompileTime) == 1) {
    const Eigen::Index d = X.cols(), ld = xb.rows(), stride = X.derived().outerStride();
    const Scalar* src = X.derived().data() + begin * stride;
    Scalar* EMCLUSTER_RESTRICT dst = xb.data();
    if (d == 2) {
      for (Eigen::Index r = 0; r < rows; ++r) {
        dst[r] = src[r * stride];
        dst[ld + r] = src[r * stride + 1];
      }
      return;
    }
    if (d <= 8) {
      for (Eigen::Index r = 0; r < rows; ++r) {
        for (Eigen::Index f = 0; f < d; ++f) dst[f * ld + r] = src[r * stride + f];
      }
      return;
    }
    transpose_rows(src, stride, rows, d, [](Eigen::Index r) { return r; }, dst, ld);
    return;
  }
  xb.topRows(rows) = X.derived().middleRows(begin, rows);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Keeps, row by row, the smaller of best and candidate and the label it came from. (Plain
/// loops: compilers turn them into masked stores that skip the vectors where no row
/// improves, which is most of them on clustered data.)
template <typename Scalar>
inline void keep_minimum(Eigen::Index rows, const Scalar* EMCLUSTER_RESTRICT candidate, int j,
                         Scalar* EMCLUSTER_RESTRICT best, int* EMCLUSTER_RESTRICT label) {
  for (Eigen::Index r = 0; r < rows; ++r) {
    const bool lower = candidate[r] < best[r];
    best[r] = lower ? candidate[r] : best[r];
    label[r] = lower ? j : label[r];
  }
}

/// Keeps, row by row, the two smallest candidates seen so far (best, second) and the label
/// of the best.
template <typename Scalar>
inline void keep_two_minima(Eigen::Index rows, const Scalar* EMCLUSTER_RESTRICT candidate, int j,
                            Scalar* EMCLUSTER_RESTRICT best, Scalar* EMCLUSTER_RESTRICT second,
                            int* EMCLUSTER_RESTRICT label) {
  for (Eigen::Index r = 0; r < rows; ++r) {
    const bool lower = candidate[r] < best[r];
    second[r] = lower ? best[r] : std::min(second[r], candidate[r]);
    best[r] = lower ? candidate[r] : best[r];
    label[r] = lower ? j : label[r];
  }
}

/// Folds the partial distances `candidate` of centre j into the running minimum (and the
/// second smallest when `second` is set).
template <typename Scalar>
inline void fold_candidate(Eigen::Index rows, const Scalar* candidate, int j, bool second, AssignWorkspace<Scalar>& ws) {
  Scalar* EMCLUSTER_RESTRICT best = ws.best.data();
  int* EMCLUSTER_RESTRICT label = ws.label.data();
  if (j == 0) {
    for (Eigen::Index r = 0; r < rows; ++r) {
      best[r] = candidate[r];
      label[r] = 0;
    }
    if (second) std::fill(ws.second.data(), ws.second.data() + rows, std::numeric_limits<Scalar>::infinity());
  } else if (second) {
    keep_two_minima(rows, candidate, j, best, ws.second.data(), label);
  } else {
    keep_minimum(rows, candidate, j, best, label);
  }
}

/// Finds the nearest centre of the first `rows` rows of ws.xb (column-major, contiguous per
/// feature): leaves in ws.label the nearest centre and in ws.best the partial distance
/// ||c||^2 - 2 x.c (||x||^2 dropped: it does not change the argmin); with `second`, also the
/// second smallest partial distance in ws.second (+inf for k = 1). Ties go to the lowest
/// centre index.
template <typename Scalar>
void assign_rows(Eigen::Index rows, const PreparedCenters<Scalar>& C, AssignKernel kernel, AssignWorkspace<Scalar>& ws,
                 bool second = false) {
  const Eigen::Index k = C.k(), d = C.d(), ld = ws.xb.rows();
  if (kernel == AssignKernel::gemm) {
    auto D = ws.dist.topRows(rows);
    D.noalias() = ws.xb.topRows(rows) * C.minus2_centers.transpose();
    for (Eigen::Index j = 0; j < k; ++j) {
      Scalar* EMCLUSTER_RESTRICT col = D.col(j).data();
      const Scalar c2 = C.squared_norms(j);
      for (Eigen::Index r = 0; r < rows; ++r) col[r] += c2;
      fold_candidate(rows, col, static_cast<int>(j), second, ws);
    }
    return;
  }
  if (k < 8 || k > kMaxExactLabels<Scalar>) {
    // Direct kernel for a few centres: one centre at a time over the whole block. (Also
    // for more centres than the tiles' Scalar labels count exactly, 2^24 in float.)
    Scalar* EMCLUSTER_RESTRICT acc = ws.acc.data();
    const Scalar* xb = ws.xb.data();
    for (Eigen::Index j = 0; j < k; ++j) {
      const Scalar c2 = C.squared_norms(j);
      for (Eigen::Index r = 0; r < rows; ++r) acc[r] = c2;
      const Scalar* m2c = C.minus2_centers.row(j).data();
      for (Eigen::Index f = 0; f < d; ++f) {
        const Scalar m = m2c[f];
        const Scalar* EMCLUSTER_RESTRICT xf = xb + f * ld;
        for (Eigen::Index r = 0; r < rows; ++r) acc[r] += xf[r] * m;
      }
      fold_candidate(rows, acc, static_cast<int>(j), second, ws);
    }
    return;
  }
  // Direct kernel for 8 centres or more: register-blocked, vectorised across the rows of the
  // block. A tile of 2 x 64 bytes of rows against 8 centres at a time keeps its 8 x 2 vectors of partial
  // distances in registers through the loop over features, so every feature costs one load
  // per row vector and one broadcast per centre for 16 fused multiply-adds. The 8 centres'
  // partial distances are then folded into the tile's running minima by a tree of merges in
  // registers (fold_eight), labels carried as Scalar values.
  constexpr Eigen::Index L = 64 / Eigen::Index(sizeof(Scalar));
  constexpr Eigen::Index T = 2 * L;
  constexpr Eigen::Index CB = 8;
  static_assert(kBlockRows % T == 0, "a block must hold whole tiles");
  const Scalar* xb = ws.xb.data();
  const Scalar* m2c = C.minus2_centers.data();
  const Scalar* c2 = C.squared_norms.data();
  const Scalar inf = std::numeric_limits<Scalar>::infinity();
  using Tile = Eigen::Array<Scalar, T, 1>;  // fixed size: Eigen keeps it in vector registers
  constexpr Eigen::Index N = kPacketSize<Scalar>;
  for (Eigen::Index r0 = 0; r0 < rows; r0 += T) {
    alignas(64) Scalar best[T], sec[T], acc[CB][T], lab[T];
    for (Eigen::Index l = 0; l < T; ++l) {
      best[l] = inf;
      sec[l] = inf;
      lab[l] = 0;
    }
    for (Eigen::Index j0 = 0; j0 < k; j0 += CB) {
      const Eigen::Index nb = std::min(CB, k - j0);
      if (nb == CB) {
        Tile a[CB];
        for (Eigen::Index q = 0; q < CB; ++q) a[q].setConstant(c2[j0 + q]);
        for (Eigen::Index f = 0; f < d; ++f) {
          const Eigen::Map<const Tile> xf(xb + f * ld + r0);
          for (Eigen::Index q = 0; q < CB; ++q) a[q] += xf * m2c[(j0 + q) * d + f];
        }
        for (Eigen::Index q = 0; q < CB; ++q) Eigen::Map<Tile>{acc[q]} = a[q];
      } else {
        for (Eigen::Index q = 0; q < nb; ++q) {
          Tile a = Tile::Constant(c2[j0 + q]);
          for (Eigen::Index f = 0; f < d; ++f) a += Eigen::Map<const Tile>(xb + f * ld + r0) * m2c[(j0 + q) * d + f];
          Eigen::Map<Tile>{acc[q]} = a;
        }
      }
      if constexpr (N > 1) {
        if (nb == CB) {
          if (second) {
            fold_eight<true, T>(acc, static_cast<Scalar>(j0), best, sec, lab);
          } else {
            fold_eight<false, T>(acc, static_cast<Scalar>(j0), best, sec, lab);
          }
          continue;
        }
      }
      for (Eigen::Index q = 0; q < nb; ++q) {
        const auto j = static_cast<Scalar>(j0 + q);
        if (second) {
          fold_minima<true>(T, acc[q], j, best, sec, lab);
        } else {
          fold_minima<false>(T, acc[q], j, best, static_cast<Scalar*>(nullptr), lab);
        }
      }
    }
    const Eigen::Index n_out = std::min(T, rows - r0);
    std::copy(best, best + n_out, ws.best.data() + r0);
    for (Eigen::Index l = 0; l < n_out; ++l) ws.label(r0 + l) = static_cast<int>(lab[l]);
    if (second) std::copy(sec, sec + n_out, ws.second.data() + r0);
  }
}

/// Copies rows [begin, end) of X into ws.xb and finds their nearest centres (assign_rows).
template <typename Derived, typename Scalar>
void assign_block(const Eigen::MatrixBase<Derived>& X, Eigen::Index begin, Eigen::Index end,
                  const PreparedCenters<Scalar>& C, AssignKernel kernel, AssignWorkspace<Scalar>& ws) {
  copy_block(X, begin, end, ws.xb);
  assign_rows(end - begin, C, kernel, ws);
}

/// Exact squared distance between row i of X and a centre held in double.
template <typename Derived, typename CentersD>
double squared_distance(const Eigen::MatrixBase<Derived>& X, Eigen::Index i, const CentersD& centers_d, int label) {
  return (X.row(i).template cast<double>() - centers_d.row(label)).squaredNorm();
}

/// What one chunk of rows contributes to a Lloyd step. Everything is accumulated in double,
/// whatever the data's scalar type.
struct LloydStats {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> sums;  ///< k x d: weighted sum of the points assigned to each centre
  Eigen::VectorXd weights;    ///< k: total weight assigned to each centre
  double inertia = 0.0;       ///< sum of w ||x - c||^2 under the centres used for assignment
  Eigen::Index changed = 0;   ///< labels that differ from the previous assignment

  LloydStats() = default;
  LloydStats(Eigen::Index k, Eigen::Index d)
      : sums(Eigen::MatrixXd::Zero(k, d)), weights(Eigen::VectorXd::Zero(k)) {}

  /// Adds another chunk's statistics (call in chunk order for reproducible bits).
  void add(const LloydStats& other) {
    sums += other.sums;
    weights += other.weights;
    inertia += other.inertia;
    changed += other.changed;
  }
};

/// Sample weights: nullptr means every weight is 1.
inline double weight_of(const double* w, Eigen::Index i) { return w ? w[i] : 1.0; }

/// Row-by-row accumulation of the M-step statistics into interleaved copies: row r of a block
/// goes to copy r mod copies(), so consecutive rows of the same centre (sorted or clustered
/// data) do not wait for each other's stores to the same sums. With few features one row's
/// update is a short dependency chain through memory, and that chain, not arithmetic, bounds
/// the pass; four copies let four rows proceed at once. The copies are added in a fixed order
/// by flush(), so the bits depend on the rows' positions only, never on the thread count.
class RowStats {
 public:
  RowStats(Eigen::Index k, Eigen::Index d)
      : k_(k),
        d_(d),
        mask_(d <= 64 && k * d <= 4096 ? 3 : 0),
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
      if (s.sums.size() > 0) {
        s.sums += Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            sums_.data() + at * std::size_t(d_), k_, d_);
        s.weights += Eigen::Map<const Eigen::VectorXd>(weights_.data() + at, k_);
      }
      if (counts)
        for (Eigen::Index j = 0; j < k_; ++j) (*counts)[std::size_t(j)] += counts_[at + std::size_t(j)];
      s.inertia += inertia_[std::size_t(copy)];
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
  std::vector<double> x;     ///< d x kBlockRows: the block, converted to double, one feature after another
  std::vector<double> lab;   ///< kBlockRows: the labels, as doubles
  std::vector<double> w;     ///< kBlockRows: the weights (1 without weights)
  std::vector<double> wm;    ///< kBlockRows: the weights of the rows of the current centre, 0 elsewhere
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
    for (Eigen::Index c = 0; c < k; ++c) {
      double w = 0, in = 0;
      for (Eigen::Index l = 0; l < kStatLanes; ++l) {
        w += wsum[std::size_t(c * kStatLanes + l)];
        in += dist[std::size_t(c * kStatLanes + l)];
      }
      s.inertia += in;
      if (!accumulate) continue;
      s.weights(c) += w;
      for (Eigen::Index f = 0; f < d; ++f) {
        double t = 0;
        for (Eigen::Index l = 0; l < kStatLanes; ++l) t += sums[std::size_t((c * d + f) * kStatLanes + l)];
        s.sums(c, f) += t;
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
void masked_block_stats(Eigen::Index rows, const Scalar* xb, Eigen::Index ld, const int* label, const double* wb,
                        const typename PreparedCenters<Scalar>::RowMatrixD& centers_d, bool accumulate,
                        MaskedStatsWorkspace& ws) {
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
    Lanes wsum0 = Lanes::Zero(), wsum1 = Lanes::Zero(), dsum0 = Lanes::Zero(), dsum1 = Lanes::Zero();
    for (Eigen::Index r0 = 0; r0 < padded; r0 += 2 * L) {
      // w where the label is c, else 0: labels are small integers, so 1 - |label - c| is 1
      // on a match and <= 0 otherwise (an arithmetic mask Eigen vectorises; select does not).
      const Lanes m0 = ConstLaneMap(w + r0) * (1.0 - (ConstLaneMap(lab + r0) - cd).abs()).max(0.0);
      const Lanes m1 = ConstLaneMap(w + r0 + L) * (1.0 - (ConstLaneMap(lab + r0 + L) - cd).abs()).max(0.0);
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

/// One E-step over all rows: assigns each row to its nearest centre, writes labels (counting
/// those that changed), the inertia (exact distances, in double) and, when `accumulate` is
/// set, the sufficient statistics of the M-step. Returns the chunks' statistics combined in
/// chunk order.
template <typename Derived, typename Scalar>
LloydStats lloyd_pass(const Eigen::MatrixBase<Derived>& X, const double* w, const PreparedCenters<Scalar>& C,
                      int* labels, bool accumulate, AssignKernel kernel = AssignKernel::automatic) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = C.k();
  kernel = choose_kernel(kernel, k, d);
  const bool masked = k * (3 * d + 2) <= kMaskedStatsMaxWork;
  const std::size_t stat_bytes = accumulate ? sizeof(double) * std::size_t(k * (d + 1)) : 64;
  const auto chunks = make_chunks(n, stat_bytes);
  std::vector<LloydStats> stats(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    LloydStats s = accumulate ? LloydStats(k, d) : LloydStats();
    AssignWorkspace<Scalar> ws(d, k, kernel == AssignKernel::gemm);
    const Eigen::Index ld = ws.xb.rows();
    RowBlockD xrows(masked ? 0 : kBlockRows, d);
    std::vector<MaskedStatsWorkspace> mws;
    if (masked) mws.emplace_back(k, d);
    std::vector<RowStats> rs;
    if (!masked) rs.emplace_back(accumulate ? k : 0, d);
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      assign_block(X, begin, end, C, kernel, ws);
      const Eigen::Index rows = end - begin;
      const int* label = ws.label.data();
      Eigen::Index changed = 0;
      for (Eigen::Index r = 0; r < rows; ++r) {
        changed += labels[begin + r] != label[r];
        labels[begin + r] = label[r];
      }
      s.changed += changed;
      if (masked) {
        masked_block_stats(rows, ws.xb.data(), ld, ws.label.data(), w ? w + begin : nullptr, C.centers_d,
                           accumulate, mws.front());
        return;
      }
      // Row by row, on a row-major double copy of the block (contiguous rows): the exact
      // distance to the assigned centre and the weighted sums.
      rows_in_double(X, rows, [begin](Eigen::Index q) { return begin + q; }, ws.xb, xrows);
      for (Eigen::Index r = 0; r < rows; ++r) {
        const int lab = label[r];
        const double wi = weight_of(w, begin + r);
        rs.front().add_inertia(r, wi * (xrows.row(r) - C.centers_d.row(lab)).squaredNorm());
        if (accumulate) rs.front().add(r, lab, wi, xrows.data() + r * d);
      }
    });
    if (masked) mws.front().flush(s, accumulate);
    if (!masked) rs.front().flush(s);
    stats[c] = std::move(s);
  });
  LloydStats total = accumulate ? LloydStats(k, d) : LloydStats();
  for (const auto& s : stats) {
    if (accumulate) {
      total.add(s);
    } else {
      total.inertia += s.inertia;
      total.changed += s.changed;
    }
  }
  return total;
}

/// Nearest centre of every row of X (the predict of KMeans and MiniBatchKMeans).
template <typename Derived, typename Scalar>
Eigen::VectorXi nearest_centers(const Eigen::MatrixBase<Derived>& X, const PreparedCenters<Scalar>& C,
                                AssignKernel kernel) {
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
  lloyd_pass(X, nullptr, C, labels.data(), false, kernel);
  return labels;
}

/// Inertia of X (weights w, nullptr = 1) under fixed centres.
template <typename Derived, typename Scalar>
double inertia_of(const Eigen::MatrixBase<Derived>& X, const double* w, const PreparedCenters<Scalar>& C,
                  AssignKernel kernel) {
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
  return lloyd_pass(X, w, C, labels.data(), false, kernel).inertia;
}

/// Euclidean distance from every row of X to every centre (n x k), from exact differences
/// in double, by chunks in parallel.
template <typename Derived, typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> center_distances(const Eigen::MatrixBase<Derived>& X,
                                                                       const PreparedCenters<Scalar>& C) {
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> out(X.rows(), C.k());
  const auto chunks = make_chunks(X.rows(), 0);
  for_each_chunk(chunks, [&](std::size_t, const Chunk& chunk) {
    const Eigen::MatrixXd block = X.middleRows(chunk.begin, chunk.size()).template cast<double>();
    for (Eigen::Index j = 0; j < C.k(); ++j) {
      out.col(j).segment(chunk.begin, chunk.size()) =
          (block.rowwise() - C.centers_d.row(j)).rowwise().norm().template cast<Scalar>();
    }
  });
  return out;
}

/// Per-feature variance of X (population, unweighted), averaged over features, computed in
/// two chunked passes in double. Used to scale the convergence tolerance.
template <typename Derived>
double mean_feature_variance(const Eigen::MatrixBase<Derived>& X) {
  const Eigen::Index n = X.rows(), d = X.cols();
  const auto chunks = make_chunks(n, sizeof(double) * std::size_t(d));
  std::vector<Eigen::VectorXd> part(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    part[c] = X.middleRows(chunk.begin, chunk.size()).template cast<double>().colwise().sum().transpose();
  });
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(d);
  for (const auto& p : part) mean += p;
  mean /= static_cast<double>(n);
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    part[c] = (X.middleRows(chunk.begin, chunk.size()).template cast<double>().rowwise() - mean.transpose())
                  .colwise()
                  .squaredNorm()
                  .transpose();
  });
  Eigen::VectorXd ss = Eigen::VectorXd::Zero(d);
  for (const auto& p : part) ss += p;
  return ss.mean() / static_cast<double>(n);
}

}  // namespace emcluster::detail
