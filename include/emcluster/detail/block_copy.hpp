/// @file detail/block_copy.hpp
/// @brief Copying blocks of rows out of the caller's matrix: the trait that says whether its
/// rows are contiguous in memory, transposition of rows into the column-major block the
/// nearest-centre kernels read, double copies of rows for the statistics, prefetching.
#pragma once

#include <Eigen/Core>

#include <cstddef>

namespace emcluster::detail {

#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#define EMCLUSTER_RESTRICT __restrict
#else
#define EMCLUSTER_RESTRICT
#endif

/// Asks GCC to unroll the loop that follows (loops of a few iterations, known at compile time
/// in the kernels' common shapes, whose bodies hold accumulators that should stay in
/// registers). Clang unrolls such loops by itself, and warns where a requested unrolling of a
/// loop with a run-time count cannot be done, so the request is GCC's only.
#if defined(__GNUC__) && !defined(__clang__)
#define EMCLUSTER_UNROLL _Pragma("GCC unroll 16")
#else
#define EMCLUSTER_UNROLL
#endif

/// Whether the rows of a matrix expression of type Derived lie contiguously in memory (a
/// row-major matrix, Map or block with direct access and unit inner stride): row i then
/// starts at `X.derived().data() + i * X.derived().outerStride()`. The kernels read such rows
/// in place; every other expression goes through Eigen's own assignment.
template <typename Derived>
inline constexpr bool has_contiguous_rows = bool(Derived::IsRowMajor) &&
                                            (int(Eigen::internal::traits<Derived>::Flags) &
                                             Eigen::DirectAccessBit) &&
                                            int(Derived::InnerStrideAtCompileTime) == 1;

/// Bytes of one cache line: the stride of the prefetch loops and the alignment of the
/// register tiles.
inline constexpr int kCacheLineBytes = 64;

/// Tiles of rows transpose_rows prefetches ahead.
inline constexpr int kTransposeAhead = 2;

/// Features up to which copy_block transposes row-major data by a plain loop (which the
/// compiler vectorises better than register tiles for so few values per row).
inline constexpr Eigen::Index kPlainTransposeMaxFeatures = 8;

/// Row-major double copies of block rows, for the per-row statistics.
using RowBlockD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Fills the first `rows` rows of xr with rows row_of(0), ..., row_of(rows - 1) of X in
/// double: straight from X when its rows are contiguous in memory, else from the block copy
/// xb (column-major, leading dimension xb.rows()) that holds the same rows. Plain loops:
/// the compiler vectorises the conversion (Eigen 3.4 does not vectorise a float to double cast).
template <typename Derived, typename Scalar, typename RowOf>
void rows_in_double(const Eigen::MatrixBase<Derived>& X, Eigen::Index rows, RowOf&& row_of,
                    const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& xb,
                    RowBlockD& xr) {
  const Eigen::Index d = X.cols();
  if constexpr (has_contiguous_rows<Derived>) {
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

/// Asks the CPU to start loading row i of X (data with contiguous rows only; a no-op for
/// other expressions and for compilers without __builtin_prefetch).
template <typename Derived>
inline void prefetch_row(const Eigen::MatrixBase<Derived>& X, Eigen::Index i) {
#if defined(__GNUC__) || defined(__clang__)
  if constexpr (has_contiguous_rows<Derived>) {
    const char* p =
        reinterpret_cast<const char*>(X.derived().data() + i * X.derived().outerStride());
    const std::size_t bytes = static_cast<std::size_t>(X.cols()) * sizeof(typename Derived::Scalar);
    for (std::size_t b = 0; b < bytes; b += kCacheLineBytes) __builtin_prefetch(p + b);
  }
#else
  (void)X;
  (void)i;
#endif
}

// Packet code follows. GCC warns that a packet type's alignment attribute is dropped when it
// is a template argument; Eigen's own packet code silences that warning the same way.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

/// Writes rows row_of(0), ..., row_of(rows - 1) of a row-major matrix (contiguous rows, d
/// values each, row i starting at base + i * stride) transposed into the top of the columns
/// of dst (column-major, leading dimension ld). Square tiles of one SIMD packet of rows by one
/// packet of features are transposed in registers (Eigen's packet transpose); the features
/// and rows left over are copied one by one.
template <typename Scalar, typename RowOf>
void transpose_rows(const Scalar* base, Eigen::Index stride, Eigen::Index rows, Eigen::Index d,
                    RowOf&& row_of, Scalar* EMCLUSTER_RESTRICT dst, Eigen::Index ld) {
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
          const char* p =
              reinterpret_cast<const char*>(base + row_of(r + kTransposeAhead * N + i) * stride);
          for (Eigen::Index b = 0; b < d * Eigen::Index(sizeof(Scalar)); b += kCacheLineBytes) {
            __builtin_prefetch(p + b);
          }
        }
      }
#endif
      Eigen::Index f = 0;
      for (; f + N <= d; f += N) {
        Eigen::internal::PacketBlock<Packet, N> tile;
        for (int i = 0; i < N; ++i) tile.packet[i] = Eigen::internal::ploadu<Packet>(src[i] + f);
        Eigen::internal::ptranspose(tile);
        for (int i = 0; i < N; ++i)
          Eigen::internal::pstoreu(dst + (f + i) * ld + r, tile.packet[i]);
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
/// xb.rows()). Data with contiguous rows is transposed by a plain loop up to
/// kPlainTransposeMaxFeatures features (which the compiler vectorises far better than a
/// generic expression assignment), by register tiles (transpose_rows) above that.
template <typename Derived, typename Scalar>
void copy_block(const Eigen::MatrixBase<Derived>& X, Eigen::Index begin, Eigen::Index end,
                Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& xb) {
  const Eigen::Index rows = end - begin;
  if constexpr (has_contiguous_rows<Derived>) {
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
    if (d <= kPlainTransposeMaxFeatures) {
      for (Eigen::Index r = 0; r < rows; ++r) {
        for (Eigen::Index f = 0; f < d; ++f) dst[f * ld + r] = src[r * stride + f];
      }
      return;
    }
    transpose_rows(
        src, stride, rows, d, [](Eigen::Index r) { return r; }, dst, ld);
    return;
  }
  xb.topRows(rows) = X.derived().middleRows(begin, rows);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace emcluster::detail
