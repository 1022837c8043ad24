/// @file detail/parallel.hpp
/// @brief Deterministic data-parallel passes over the rows of a matrix.
///
/// Every EM-style pass in emcluster has the same shape: split the rows into chunks, let each
/// chunk compute its own sufficient statistics (counts, sums, scatter, objective), then
/// combine the chunks' statistics in chunk order. The chunking depends only on the number of
/// rows and on the size of one chunk's statistics, never on the number of threads, so the
/// result is bit-for-bit the same on 1 thread, on 16, and (later) across MPI ranks that each
/// own a run of chunks.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace emcluster::detail {

/// Rows a kernel processes at a time inside a chunk (fits a block of distances in L1/L2).
inline constexpr Eigen::Index kBlockRows = 256;
/// At most this many chunks per pass: enough to balance threads, few enough to combine.
inline constexpr Eigen::Index kMaxChunks = 64;
/// Passes over fewer rows than this run on the calling thread: waking a thread team costs
/// more than it saves on small data, and much more when the other cores are busy. The
/// chunking (and so the result) is the same either way.
inline constexpr Eigen::Index kMinParallelRows = 16384;
/// The chunks' statistics together stay under this many bytes (fewer chunks otherwise).
inline constexpr std::size_t kMaxStatBytes = std::size_t(8) << 20;

/// A half-open run of rows [begin, end).
struct Chunk {
  Eigen::Index begin = 0;
  Eigen::Index end = 0;
  Eigen::Index size() const { return end - begin; }
};

/// Splits [0, n) into contiguous chunks, a multiple of kBlockRows long (but the last).
/// Depends only on n and stat_bytes (the bytes one chunk's statistics take).
inline std::vector<Chunk> make_chunks(Eigen::Index n, std::size_t stat_bytes) {
  std::vector<Chunk> chunks;
  if (n <= 0) return chunks;
  const Eigen::Index blocks = (n + kBlockRows - 1) / kBlockRows;
  Eigen::Index max_chunks = kMaxChunks;
  if (stat_bytes > 0) {
    const auto by_memory = static_cast<Eigen::Index>(kMaxStatBytes / stat_bytes);
    max_chunks = std::max<Eigen::Index>(1, std::min(max_chunks, by_memory));
  }
  const Eigen::Index n_chunks = std::min(blocks, max_chunks);
  const Eigen::Index blocks_per_chunk = (blocks + n_chunks - 1) / n_chunks;
  for (Eigen::Index b = 0; b < blocks; b += blocks_per_chunk) {
    const Eigen::Index begin = b * kBlockRows;
    const Eigen::Index end = std::min(n, (b + blocks_per_chunk) * kBlockRows);
    chunks.push_back({begin, end});
  }
  return chunks;
}

/// Number of threads a parallel pass may use (1 without OpenMP).
inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/// Calls body(c, chunks[c]) for every chunk, on the OpenMP threads when `parallel` is set
/// (and there is more than one chunk). The first exception thrown by any body is rethrown
/// here after all threads have finished.
template <typename Body>
void for_each_chunk_if(const std::vector<Chunk>& chunks, bool parallel, Body&& body) {
  const auto count = static_cast<long>(chunks.size());
  parallel = parallel && count > 1;
  std::exception_ptr error;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
#else
  (void)parallel;
#endif
  for (long c = 0; c < count; ++c) {
    try {
      body(static_cast<std::size_t>(c), chunks[static_cast<std::size_t>(c)]);
    } catch (...) {
#ifdef _OPENMP
#pragma omp critical(emcluster_for_each_chunk_error)
#endif
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

/// Calls body(c, chunks[c]) for every chunk, in parallel when OpenMP is on and the chunks
/// hold at least kMinParallelRows rows (a thread team costs more than it saves below that).
template <typename Body>
void for_each_chunk(const std::vector<Chunk>& chunks, Body&& body) {
  const bool large =
      !chunks.empty() && chunks.back().end - chunks.front().begin >= kMinParallelRows;
  for_each_chunk_if(chunks, large, std::forward<Body>(body));
}

/// Calls body(begin, end) for every block of at most kBlockRows rows inside a chunk.
template <typename Body>
void for_each_block(const Chunk& chunk, Body&& body) {
  for (Eigen::Index b = chunk.begin; b < chunk.end; b += kBlockRows) {
    body(b, std::min(chunk.end, b + kBlockRows));
  }
}

}  // namespace emcluster::detail
