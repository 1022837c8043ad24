/// @file bench/ceilings.hpp
/// @brief The machine's own ceilings, measured in the run that makes the table: sustained
/// read bandwidth (a streaming sum over a buffer of a given size), the throughput of the
/// vectorised exp and log the mixture's E-step uses (Eigen's .exp() and .log() on blocks of
/// doubles, written as in detail/mixture_estep.hpp), GEMM rates with Eigen (the block
/// product of the K-means distance step, and a square one) and the cores' multiply-add peak.
///
/// Every ceiling is measured on 1 thread and on `threads` threads at once (OpenMP, each
/// thread with its own operands, as the library's chunks run), best of several repetitions:
/// a ceiling is what the machine can do, so the best time is the one that counts. All rates
/// are totals over the threads.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <emcluster/detail/mixture_estep.hpp>
#include <emcluster/detail/parallel.hpp>

#include "worker.hpp"

namespace emcluster_bench {

/// Repetitions of every ceiling measurement (the best one counts).
inline constexpr int kCeilingReps = 7;

/// Least time one repetition of a throughput measurement runs (seconds).
inline constexpr double kCeilingMinSeconds = 0.02;

/// Runs body(thread, repeat) on `threads` threads at once, `repeat` times each, for
/// kCeilingReps repetitions, and returns the best wall time of one repetition. The repeat
/// count is doubled until one repetition takes kCeilingMinSeconds (on the first
/// repetitions), so that each repetition times a long enough stretch of work; `repeat` is
/// returned through `repeat_out`.
template <typename Body>
double best_time(int threads, long& repeat_out, Body&& body) {
  long repeat = std::max(1L, repeat_out);
  double best = std::numeric_limits<double>::infinity();
  for (int rep = 0; rep < kCeilingReps;) {
    const double t0 = now_seconds();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    body(omp_get_thread_num(), repeat);
#else
    (void)threads;
    body(0, repeat);
#endif
    const double dt = now_seconds() - t0;
    if (dt < kCeilingMinSeconds && repeat < (1L << 30)) {
      repeat *= 2;  // too short to time: start again with more work
      best = std::numeric_limits<double>::infinity();
      rep = 0;
      continue;
    }
    best = std::min(best, dt);
    ++rep;
  }
  repeat_out = repeat;
  return best;
}

/// Most threads a ceiling uses (1 without OpenMP).
inline int ceiling_threads() { return emcluster::detail::max_threads(); }

/// Sustained read bandwidth in bytes per second: a vectorised sum over a buffer of `bytes`
/// bytes (doubles), split into `threads` contiguous parts summed at once. The buffer is
/// written once (by the threads that read it) before the timed passes, so a buffer that fits
/// the caches is read from them, as the data of a workload that size is.
inline double read_bandwidth(std::size_t bytes, int threads) {
  using Lanes = Eigen::Array<double, 32, 1>;  // several independent vector accumulators
  const auto n = static_cast<Eigen::Index>(std::max<std::size_t>(bytes / sizeof(double), 64));
  const Eigen::Index lanes = Lanes::SizeAtCompileTime;
  const Eigen::Index parts = (n / lanes + threads - 1) / threads * lanes;  // per thread
  std::vector<double> buffer(static_cast<std::size_t>(parts * threads), 0.0);
  std::vector<double> sink(static_cast<std::size_t>(threads) * 8, 0.0);
  auto part = [&](int t) { return buffer.data() + static_cast<std::ptrdiff_t>(t) * parts; };
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    std::fill(part(t), part(t) + parts, 1.0 + t);
  }
#else
  std::fill(buffer.begin(), buffer.end(), 1.0);
#endif
  long repeat = 1;
  const double t = best_time(threads, repeat, [&](int thread, long times) {
    const double* p = part(thread);
    Lanes acc = Lanes::Zero();
    for (long r = 0; r < times; ++r) {
      for (Eigen::Index i = 0; i < parts; i += lanes) acc += Eigen::Map<const Lanes>(p + i);
    }
    sink[static_cast<std::size_t>(thread) * 8] += acc.sum();
  });
  if (sink[0] == 42.4242) std::fprintf(stderr, " ");  // keeps the sums alive
  return static_cast<double>(parts * threads) * sizeof(double) * static_cast<double>(repeat) / t;
}

/// Which of the E-step's transcendental functions transcendental_rate times.
enum class Transcendental { exp, log };

/// Values per second of the E-step's vectorised exp or log, on blocks of kBlockRows doubles
/// held in cache, written as detail::log_prob_to_responsibilities writes them:
/// `expo = col.max(kExpUnderflow).exp()` on log-densities minus the row maximum (here spread
/// over [-30, 0]) and `lse = top + sum.log()` on sums of responsibilities (in [1, 4]).
inline double transcendental_rate(Transcendental which, int threads) {
  const Eigen::Index rows = emcluster::detail::kBlockRows;
  std::vector<double> sink(static_cast<std::size_t>(threads) * 8, 0.0);
  long repeat = 1;
  const double t = best_time(threads, repeat, [&](int thread, long times) {
    Eigen::ArrayXd in(rows), top = Eigen::ArrayXd::Constant(rows, -1.0), out(rows);
    for (Eigen::Index r = 0; r < rows; ++r) {
      const double u = static_cast<double>(r) / static_cast<double>(rows);
      in(r) = which == Transcendental::exp ? -30.0 * u : 1.0 + 3.0 * u;
    }
    double acc = 0;
    for (long r = 0; r < times; ++r) {
      if (which == Transcendental::exp) {
        out = in.max(emcluster::detail::kExpUnderflow).exp();
      } else {
        out = top + in.log();
      }
      acc += out(r % rows);
      in(0) += 1e-300;  // an input the compiler cannot prove unchanged
    }
    sink[static_cast<std::size_t>(thread) * 8] += acc;
  });
  if (sink[0] == 42.4242) std::fprintf(stderr, " ");
  return static_cast<double>(rows) * threads * static_cast<double>(repeat) / t;
}

/// Flops per second of Eigen's GEMM D = A B^T with A rows x d (column-major) and B k x d
/// (row-major), as the GEMM kernel of the K-means distance step computes a block's partial
/// distances (detail::assign_rows: the block copy times -2 C^T), in Scalar; every thread
/// multiplies its own operands. Eigen's own threading is off meanwhile (the library's
/// products run inside its parallel chunks, where Eigen does not thread either).
template <typename Scalar>
double eigen_gemm_rate(Eigen::Index rows, Eigen::Index d, Eigen::Index k, int threads) {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int eigen_threads = Eigen::nbThreads();
  Eigen::setNbThreads(1);
  std::vector<double> sink(static_cast<std::size_t>(threads) * 8, 0.0);
  long repeat = 1;
  const double t = best_time(threads, repeat, [&](int thread, long times) {
    Matrix A = Matrix::Random(rows, d), D(rows, k);
    const RowMatrix B = RowMatrix::Random(k, d);
    double acc = 0;
    for (long r = 0; r < times; ++r) {
      D.noalias() = A * B.transpose();
      acc += static_cast<double>(D(r % rows, r % k));
      A(0, 0) += Scalar(1e-3);
    }
    sink[static_cast<std::size_t>(thread) * 8] += acc;
  });
  Eigen::setNbThreads(eigen_threads);
  if (sink[0] == 42.4242) std::fprintf(stderr, " ");
  return 2.0 * static_cast<double>(rows * d * k) * threads * static_cast<double>(repeat) / t;
}

/// Square block product each thread runs beside the distance steps' shapes.
inline constexpr Eigen::Index kSquareGemm = 256;

/// Flops per second of fused multiply-adds on values held in registers: 12 independent
/// 64-byte vectors of Scalar (enough to cover the latency of two FMA units), each updated
/// a = a * m + c. The arithmetic ceiling of the cores, which a register-blocked kernel (the
/// direct distance kernel) can approach more closely than a general GEMM at small shapes.
template <typename Scalar>
double fma_rate(int threads) {
  using V = Eigen::Array<Scalar, 64 / sizeof(Scalar), 1>;
  constexpr int kAcc = 12;
  std::vector<double> sink(static_cast<std::size_t>(threads) * 8, 0.0);
  long repeat = 1;
  const double t = best_time(threads, repeat, [&](int thread, long times) {
    V a[kAcc];
    for (int i = 0; i < kAcc; ++i) a[i].setConstant(Scalar(i) / Scalar(kAcc));
    const V m = V::Constant(Scalar(0.999)), c = V::Constant(Scalar(1e-3));
    for (long r = 0; r < times; ++r) {
      for (int u = 0; u < 64; ++u) {
        for (int i = 0; i < kAcc; ++i) a[i] = a[i] * m + c;
      }
    }
    double acc = 0;
    for (int i = 0; i < kAcc; ++i) acc += static_cast<double>(a[i].sum());
    sink[static_cast<std::size_t>(thread) * 8] += acc;
  });
  if (sink[0] == 42.4242) std::fprintf(stderr, " ");
  return 2.0 * V::SizeAtCompileTime * kAcc * 64.0 * threads * static_cast<double>(repeat) / t;
}

}  // namespace emcluster_bench
