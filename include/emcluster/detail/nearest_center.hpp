/// @file detail/nearest_center.hpp
/// @brief Nearest-centre search by blocks of rows: the prepared centres, the per-thread
/// workspace, the direct (register-tiled) and GEMM kernels with their running minima, and the
/// whole-matrix helpers built on them (labels, distances to every centre).
///
/// Every kernel reads a block of at most kBlockRows rows copied column-major into its
/// workspace (block_copy.hpp) and computes partial distances ||c||^2 - 2 x.c in the data's
/// scalar type (||x||^2 does not change the argmin); ties go to the lowest centre index.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

#include "../options.hpp"
#include "block_copy.hpp"
#include "parallel.hpp"

namespace emcluster::detail {

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
  Matrix centers;                                          ///< k x d in the data's scalar type
  RowMatrix minus2_centers;                                ///< k x d, -2 c
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> squared_norms;  ///< k, ||c_j||^2
  RowMatrixD centers_d;                                    ///< k x d in double

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
      // xb starts as zeros: the tiles read past the rows in use.
      : xb(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Zero(kBlockRows, d)),
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

/// Bytes of one feature's values across a register tile of the direct kernel: 32 floats or
/// 16 doubles, two 64-byte vectors (four AVX ones) per centre held in registers.
inline constexpr Eigen::Index kTileBytes = 128;

/// Centres a register tile of the direct kernel holds at once (8 x 2 vectors of partial
/// distances); fewer centres than this take the one-centre-at-a-time loop instead.
inline constexpr Eigen::Index kTileCenters = 8;

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
inline constexpr Eigen::Index kMaxExactLabels = Eigen::Index(1)
                                                << std::numeric_limits<Scalar>::digits;

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
      if constexpr (Second)
        ei::pstoreu(second + r, ei::pmin(ei::ploadu<Packet>(second + r), ei::pselect(lower, b, c)));
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
inline PacketMinima<Packet> merge_minima(const PacketMinima<Packet>& lo,
                                         const PacketMinima<Packet>& hi) {
  namespace ei = Eigen::internal;
  const Packet lower = ei::pcmp_lt(hi.best, lo.best);
  PacketMinima<Packet> m;
  m.best = ei::pselect(lower, hi.best, lo.best);
  m.label = ei::pselect(lower, hi.label, lo.label);
  if constexpr (Second)
    m.second = ei::pmin(ei::pselect(lower, lo.best, hi.best), ei::pmin(lo.second, hi.second));
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
      const Packet c0 = ei::ploadu<Packet>(acc[2 * h] + p),
                   c1 = ei::ploadu<Packet>(acc[2 * h + 1] + p);
      const Packet lower = ei::pcmp_lt(c1, c0);
      pair[h].best = ei::pselect(lower, c1, c0);
      pair[h].label = ei::pselect(lower, ei::pset1<Packet>(j0 + Scalar(2 * h + 1)),
                                  ei::pset1<Packet>(j0 + Scalar(2 * h)));
      if constexpr (Second) pair[h].second = ei::pselect(lower, c0, c1);
    }
    const M block = merge_minima<Second>(merge_minima<Second>(pair[0], pair[1]),
                                         merge_minima<Second>(pair[2], pair[3]));
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
inline void fold_candidate(Eigen::Index rows, const Scalar* candidate, int j, bool second,
                           AssignWorkspace<Scalar>& ws) {
  Scalar* EMCLUSTER_RESTRICT best = ws.best.data();
  int* EMCLUSTER_RESTRICT label = ws.label.data();
  if (j == 0) {
    for (Eigen::Index r = 0; r < rows; ++r) {
      best[r] = candidate[r];
      label[r] = 0;
    }
    if (second)
      std::fill(ws.second.data(), ws.second.data() + rows, std::numeric_limits<Scalar>::infinity());
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
void assign_rows(Eigen::Index rows, const PreparedCenters<Scalar>& C, AssignKernel kernel,
                 AssignWorkspace<Scalar>& ws, bool second = false) {
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
  if (k < kTileCenters || k > kMaxExactLabels<Scalar>) {
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
  // Direct kernel for kTileCenters (8) centres or more: register-blocked, vectorised across
  // the rows of the block. A tile of kTileBytes (2 x 64 bytes) of rows against 8 centres at a
  // time keeps its 8 x 2 vectors of partial distances in registers through the loop over
  // features, so every feature costs one load per row vector and one broadcast per centre for
  // 16 fused multiply-adds. The 8 centres' partial distances are then folded into the tile's
  // running minima by a tree of merges in registers (fold_eight), labels carried as Scalar
  // values.
  constexpr Eigen::Index T = kTileBytes / Eigen::Index(sizeof(Scalar));
  constexpr Eigen::Index CB = kTileCenters;
  static_assert(CB == 8, "fold_eight merges the partial distances of 8 centres");
  static_assert(kBlockRows % T == 0, "a block must hold whole tiles");
  const Scalar* xb = ws.xb.data();
  const Scalar* m2c = C.minus2_centers.data();
  const Scalar* c2 = C.squared_norms.data();
  const Scalar inf = std::numeric_limits<Scalar>::infinity();
  using Tile = Eigen::Array<Scalar, T, 1>;  // fixed size: Eigen keeps it in vector registers
  constexpr Eigen::Index N = kPacketSize<Scalar>;
  for (Eigen::Index r0 = 0; r0 < rows; r0 += T) {
    alignas(kCacheLineBytes) Scalar best[T], sec[T], acc[CB][T], lab[T];
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
          for (Eigen::Index f = 0; f < d; ++f)
            a += Eigen::Map<const Tile>(xb + f * ld + r0) * m2c[(j0 + q) * d + f];
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
                  const PreparedCenters<Scalar>& C, AssignKernel kernel,
                  AssignWorkspace<Scalar>& ws) {
  copy_block(X, begin, end, ws.xb);
  assign_rows(end - begin, C, kernel, ws);
}

/// Exact squared distance between row i of X and a centre held in double.
template <typename Derived, typename CentersD>
double squared_distance(const Eigen::MatrixBase<Derived>& X, Eigen::Index i,
                        const CentersD& centers_d, int label) {
  return (X.row(i).template cast<double>() - centers_d.row(label)).squaredNorm();
}

/// Nearest centre of every row of X (the predict of KMeans and MiniBatchKMeans).
template <typename Derived, typename Scalar>
Eigen::VectorXi nearest_centers(const Eigen::MatrixBase<Derived>& X,
                                const PreparedCenters<Scalar>& C, AssignKernel kernel) {
  const Eigen::Index d = X.cols(), k = C.k();
  kernel = choose_kernel(kernel, k, d);
  Eigen::VectorXi labels(X.rows());
  const auto chunks = make_chunks(X.rows(), 0);
  for_each_chunk(chunks, [&](std::size_t, const Chunk& chunk) {
    AssignWorkspace<Scalar> ws(d, k, kernel == AssignKernel::gemm);
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      assign_block(X, begin, end, C, kernel, ws);
      labels.segment(begin, end - begin) = ws.label.head(end - begin);
    });
  });
  return labels;
}

/// Euclidean distance from every row of X to every centre (n x k), from exact differences
/// in double, by chunks in parallel.
template <typename Derived, typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> center_distances(
    const Eigen::MatrixBase<Derived>& X, const PreparedCenters<Scalar>& C) {
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

}  // namespace emcluster::detail
