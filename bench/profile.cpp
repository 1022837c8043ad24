/// @file bench/profile.cpp
/// @brief Where one K-means iteration and one EM iteration spend their time, phase by phase,
/// on the comparison's workloads, each phase beside the ceiling that bounds it
/// (bench/ceilings.hpp, measured by this program first).
///
///   emcluster_bench_profile [--quick] [--reps N] [--only TEXT] [--kernel auto|gemm|direct]
///   scripts/bench --profile [--quick] ...
///
/// The phases are timed inside one pass over the data, block by block (kBlockRows rows),
/// with the library's own detail kernels called in the order its passes call them:
///
///  - K-means, one plain Lloyd pass (detail::lloyd_chunk; the assignment kernel the library
///    chooses, or the one --kernel names) and the M-step: copy (copy_block:
///    the block transposed into the kernel's column-major workspace: the reads of the data),
///    distances and arg-min (assign_rows), labels, accumulation (masked_block_stats or the
///    row-by-row RowStats), reductions (the chunks' flush, combine_in_order,
///    updated_centers). Where the library runs the single sweep instead (few centres and
///    features, sweep_small_block), these are the phases of its reference, the separate
///    passes; the sweep's own two phases (the copy, and the one kernel that does the rest)
///    and the wall time of both passes are printed below them. The direct kernel fuses distances
///    and arg-min in registers: its distances are timed by a re-composition of its tile loop
///    without the fold (the same loads and multiply-adds, the partial distances summed instead of
///    folded), and its arg-min is the fused kernel's time minus that. The GEMM kernel's two halves
///    are separate calls and are timed as such.
///  - EM, one pass of detail::em_pass and the M-step: copy (the block in double), log-densities
///    (MixtureDensity::log_prob: the Mahalanobis terms), then log_prob_to_responsibilities
///    re-composed with the same Eigen expressions in three groups: exp (the exp of every
///    column, into a block buffer), log (the row sums' log), the rest of the normalisation
///    (row maximum, subtraction, underflow select, sums, scaling); accumulation
///    (accumulate_block and the log-likelihood sum); reductions (combine, m_step).
///
/// Beside the phases: a streaming sum over the data (the read floor, wall time), the sum of
/// the phases, and the library's own pass (lloyd_pass + updated_centers, em_pass + combine +
/// m_step) timed alone, so that the re-composition can be checked against what it mirrors.
/// Phase times are per-thread sums divided by the threads that took part, minus the cost of
/// the clock reads (calibrated); the repetition with the smallest sum of phases is shown.
#include <emcluster/detail/lloyd_pass.hpp>
#include <emcluster/detail/mixture_init.hpp>
#include <emcluster/detail/mixture_mstep.hpp>
#include <emcluster/detail/mixture_stats.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ceilings.hpp"
#include "worker.hpp"
#include "workloads.hpp"

using namespace emcluster_bench;
namespace ed = emcluster::detail;

namespace {

int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/// Seconds of one clock read (the phases subtract it once per block).
double clock_cost() {
  const int calls = 200000;
  double sink = 0;
  const double t0 = now_seconds();
  for (int i = 0; i < calls; ++i) sink += now_seconds();
  const double t = (now_seconds() - t0) / calls;
  if (sink == 42.4242) std::fprintf(stderr, " ");  // keeps the reads
  return t;
}

/// Per-thread phase clocks: add(p) charges the time since the last mark to phase p.
class PhaseClock {
 public:
  PhaseClock(int phases, int threads)
      : phases_(phases),
        seconds_(std::size_t(phases * threads), 0.0),
        calls_(std::size_t(phases * threads), 0),
        last_(std::size_t(threads), 0.0) {}
  void mark() { last_[std::size_t(thread_id())] = now_seconds(); }
  void add(int phase) {
    const int t = thread_id();
    const double now = now_seconds();
    seconds_[std::size_t(t * phases_ + phase)] += now - last_[std::size_t(t)];
    ++calls_[std::size_t(t * phases_ + phase)];
    last_[std::size_t(t)] = now;
  }
  /// Seconds of phase p: per-thread sums minus the clock reads, over the threads that ran.
  double seconds(int p, double clock) const {
    double sum = 0;
    int used = 0;
    const int threads = static_cast<int>(last_.size());
    for (int t = 0; t < threads; ++t) {
      const std::size_t at = std::size_t(t * phases_ + p);
      sum += std::max(0.0, seconds_[at] - static_cast<double>(calls_[at]) * clock);
      bool ran = false;
      for (int q = 0; q < phases_; ++q) ran = ran || calls_[std::size_t(t * phases_ + q)] > 0;
      used += ran ? 1 : 0;
    }
    return sum / std::max(1, used);
  }

 private:
  int phases_;
  std::vector<double> seconds_;
  std::vector<long> calls_;
  std::vector<double> last_;
};

/// One phase's line: name, milliseconds, share of the sum, and the floor beside it.
struct Line {
  std::string name;
  double seconds = 0;
  std::string floor;
};

void print_lines(const std::string& title, const std::vector<Line>& phases,
                 const std::vector<Line>& extra) {
  double sum = 0;
  for (const Line& l : phases) sum += l.seconds;
  std::printf(
      "\n%s\n\n| phase | ms / iteration | share | floor (ceiling of this run) |\n"
      "|---|---:|---:|---|\n",
      title.c_str());
  for (const Line& l : phases) {
    std::printf("| %s | %.3f | %.0f%% | %s |\n", l.name.c_str(), l.seconds * 1e3,
                100.0 * l.seconds / sum, l.floor.c_str());
  }
  std::printf("| **sum of the phases** | %.3f | 100%% | |\n", sum * 1e3);
  for (const Line& l : extra) {
    std::printf("| %s | %.3f | | %s |\n", l.name.c_str(), l.seconds * 1e3, l.floor.c_str());
  }
}

/// Whether the instrumented pass computed what the library's pass computes: the largest
/// difference between their M-steps' results, relative to the largest value.
void print_agreement(const Eigen::MatrixXd& mine, const Eigen::MatrixXd& theirs) {
  const double diff = (mine - theirs).cwiseAbs().maxCoeff();
  std::printf(
      "\nThe instrumented pass's M-step result differs from the library's by %.3g "
      "(relative to the largest value; 0: the same bits).\n",
      diff / std::max(theirs.cwiseAbs().maxCoeff(), 1e-300));
}

std::string floor_text(double seconds, const std::string& what) {
  char buf[200];
  std::snprintf(buf, sizeof(buf), "%.3f ms: %s", seconds * 1e3, what.c_str());
  return buf;
}

std::string rate_text(double value, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3g G%s", value / 1e9, unit);
  return buf;
}

/// Wall seconds of a streaming sum over X's data (all threads, by the library's chunks).
template <typename Scalar>
double streaming_read(const RowMatrix<Scalar>& X) {
  const auto chunks = ed::make_chunks(X.rows(), 0);
  std::vector<double> part(chunks.size(), 0.0);
  const double t0 = now_seconds();
  ed::for_each_chunk(chunks, [&](std::size_t c, const ed::Chunk& chunk) {
    const Eigen::Index d = X.cols();
    part[c] = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>(X.data() + chunk.begin * d,
                                                                        chunk.size() * d)
                  .sum();
  });
  const double t = now_seconds() - t0;
  if (part[0] == Scalar(42.4242)) std::fprintf(stderr, " ");
  return t;
}

/// The direct kernel's distances alone: assign_rows' loops over centres and features for
/// the first `rows` rows of ws.xb, with the partial distances stored (one centre at a time)
/// or summed into a checksum (the register tiles) instead of folded into the minima. Mirrors
/// nearest_center.hpp's two branches (one centre at a time below 8 centres; register tiles of 8
/// centres otherwise).
template <typename Scalar>
Scalar distances_only(Eigen::Index rows, const ed::PreparedCenters<Scalar>& C,
                      ed::AssignWorkspace<Scalar>& ws) {
  const Eigen::Index k = C.k(), d = C.d(), ld = ws.xb.rows();
  const Scalar* xb = ws.xb.data();
  Scalar check = 0;
  if (k < ed::kTileCenters) {
    Scalar* EMCLUSTER_RESTRICT acc = ws.acc.data();
    for (Eigen::Index j = 0; j < k; ++j) {
      const Scalar c2 = C.squared_norms(j);
      for (Eigen::Index r = 0; r < rows; ++r) acc[r] = c2;
      const Scalar* m2c = C.minus2_centers.row(j).data();
      for (Eigen::Index f = 0; f < d; ++f) {
        const Scalar m = m2c[f];
        const Scalar* EMCLUSTER_RESTRICT xf = xb + f * ld;
        for (Eigen::Index r = 0; r < rows; ++r) acc[r] += xf[r] * m;
      }
      check += acc[j % rows];
    }
    return check;
  }
  constexpr Eigen::Index T = ed::kTileBytes / Eigen::Index(sizeof(Scalar));
  constexpr Eigen::Index CB = ed::kTileCenters;
  using Tile = Eigen::Array<Scalar, T, 1>;
  const Scalar* m2c = C.minus2_centers.data();
  const Scalar* c2 = C.squared_norms.data();
  // Every partial distance is added into `total` (one vector add each, where the real
  // kernel folds them), so that the compiler cannot drop any of them.
  Tile total = Tile::Zero();
  for (Eigen::Index r0 = 0; r0 < rows; r0 += T) {
    for (Eigen::Index j0 = 0; j0 < k; j0 += CB) {
      const Eigen::Index nb = std::min(CB, k - j0);
      if (nb == CB) {
        Tile a[CB];
        for (Eigen::Index q = 0; q < CB; ++q) a[q].setConstant(c2[j0 + q]);
        for (Eigen::Index f = 0; f < d; ++f) {
          const Eigen::Map<const Tile> xf(xb + f * ld + r0);
          for (Eigen::Index q = 0; q < CB; ++q) a[q] += xf * m2c[(j0 + q) * d + f];
        }
        for (Eigen::Index q = 0; q < CB; ++q) total += a[q];
      } else {
        for (Eigen::Index q = 0; q < nb; ++q) {
          Tile a = Tile::Constant(c2[j0 + q]);
          for (Eigen::Index f = 0; f < d; ++f)
            a += Eigen::Map<const Tile>(xb + f * ld + r0) * m2c[(j0 + q) * d + f];
          total += a;
        }
      }
    }
  }
  return check + total.sum();
}

enum KPhase { kCopy, kDist, kArgmin, kLabels, kAccum, kReduce, kKPhases };

/// One plain Lloyd pass over X from centres C0, phase by phase (see the file comment).
template <typename Scalar>
std::vector<double> kmeans_phases(const RowMatrix<Scalar>& X, const Eigen::MatrixXd& C0,
                                  emcluster::AssignKernel kernel, double clock,
                                  Eigen::MatrixXd& result) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = C0.rows();
  const ed::PreparedCenters<Scalar> C(C0);
  const bool gemm = kernel == emcluster::AssignKernel::gemm;
  const bool masked = ed::uses_masked_stats(k, d);
  std::vector<int> labels(std::size_t(n), -1);
  const auto chunks = ed::make_chunks(n, sizeof(double) * std::size_t(k * (d + 1)));
  std::vector<ed::LloydStats> parts(chunks.size());
  PhaseClock pc(kKPhases, ed::max_threads());
  Scalar check = 0;
  const double t0 = now_seconds();
  ed::for_each_chunk(chunks, [&](std::size_t c, const ed::Chunk& chunk) {
    ed::LloydStats s(k, d);
    ed::AssignWorkspace<Scalar> ws(d, k, gemm);
    const Eigen::Index ld = ws.xb.rows();
    ed::RowBlockD xrows(masked ? 0 : ed::kBlockRows, d);
    ed::MaskedStatsWorkspace mws(masked ? k : 0, masked ? d : 0);
    ed::RowStats rs(masked ? 0 : k, d);
    Scalar local = 0;
    ed::for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      const Eigen::Index rows = end - begin;
      pc.mark();
      ed::copy_block(X, begin, end, ws.xb);
      pc.add(kCopy);
      if (gemm) {
        auto D = ws.dist.topRows(rows);
        D.noalias() = ws.xb.topRows(rows) * C.minus2_centers.transpose();
        for (Eigen::Index j = 0; j < k; ++j) {
          Scalar* col = D.col(j).data();
          const Scalar c2 = C.squared_norms(j);
          for (Eigen::Index r = 0; r < rows; ++r) col[r] += c2;
        }
        pc.add(kDist);
        for (Eigen::Index j = 0; j < k; ++j)
          ed::fold_candidate(rows, D.col(j).data(), static_cast<int>(j), false, ws);
        pc.add(kArgmin);
      } else {
        local += distances_only(rows, C, ws);
        pc.add(kDist);
        ed::assign_rows(rows, C, kernel, ws);
        pc.add(kArgmin);  // the fused kernel; its distances are subtracted below
      }
      Eigen::Index changed = 0;
      for (Eigen::Index r = 0; r < rows; ++r) {
        changed += labels[std::size_t(begin + r)] != ws.label(r);
        labels[std::size_t(begin + r)] = ws.label(r);
      }
      s.changed() += static_cast<double>(changed);
      pc.add(kLabels);
      if (masked) {
        ed::masked_block_stats(rows, ws.xb.data(), ld, ws.label.data(), nullptr, C.centers_d, true,
                               mws);
      } else {
        ed::rows_in_double(
            X, rows, [begin](Eigen::Index q) { return begin + q; }, ws.xb, xrows);
        for (Eigen::Index r = 0; r < rows; ++r) {
          const int lab = ws.label(r);
          rs.add_inertia(r, (xrows.row(r) - C.centers_d.row(lab)).squaredNorm());
          rs.add(r, lab, 1.0, xrows.data() + r * d);
        }
      }
      pc.add(kAccum);
    });
    pc.mark();
    if (masked) {
      mws.flush(s, true);
    } else {
      rs.flush(s);
    }
    parts[c] = std::move(s);
    pc.add(kReduce);
#ifdef _OPENMP
#pragma omp critical(emcluster_profile_check)
#endif
    check += local;
  });
  const double t1 = now_seconds();
  const Eigen::MatrixXd updated =
      ed::updated_centers(ed::combine_in_order(parts, k, d), C.centers_d);
  const double reduce = now_seconds() - t1;
  std::vector<double> out(kKPhases + 1);
  for (int p = 0; p < kKPhases; ++p) out[std::size_t(p)] = pc.seconds(p, clock);
  if (!gemm) out[kArgmin] = std::max(0.0, out[kArgmin] - out[kDist]);
  out[kReduce] += reduce;
  out[kKPhases] = t1 - t0 + reduce;  // wall of the whole instrumented pass
  if (check == Scalar(42.4242)) std::fprintf(stderr, " ");
  result = updated;
  return out;
}

/// The library's single sweep for few centres and features (sweep_small_block), in two
/// phases per block: the copy and the sweep (distances, arg-min, labels and accumulation in
/// one kernel). Returns {copy, sweep} seconds.
template <typename Scalar>
std::vector<double> sweep_phases(const RowMatrix<Scalar>& X, const Eigen::MatrixXd& C0,
                                 double clock) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = C0.rows();
  const ed::PreparedCenters<Scalar> C(C0);
  std::vector<int> labels(std::size_t(n), -1);
  const auto chunks = ed::make_chunks(n, sizeof(double) * std::size_t(k * (d + 1)));
  std::vector<ed::LloydStats> parts(chunks.size());
  PhaseClock pc(2, ed::max_threads());
  ed::for_each_chunk(chunks, [&](std::size_t c, const ed::Chunk& chunk) {
    ed::LloydStats s(k, d);
    ed::AssignWorkspace<Scalar> ws(d, k, false);
    ed::MaskedStatsWorkspace mws(k, d);
    ed::for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      pc.mark();
      ed::copy_block(X, begin, end, ws.xb);
      pc.add(0);
      s.changed() += static_cast<double>(ed::sweep_small_block(
          end - begin, ws.xb.data(), ws.xb.rows(), C, nullptr, labels.data() + begin, true, mws));
      pc.add(1);
    });
    mws.flush(s, true);
    parts[c] = std::move(s);
  });
  return {pc.seconds(0, clock), pc.seconds(1, clock)};
}

/// Wall seconds of the library's own plain Lloyd pass and M-step (`sweep` false: the
/// reference of the single sweep, the separate passes).
template <typename Scalar>
double library_lloyd(const RowMatrix<Scalar>& X, const Eigen::MatrixXd& C0,
                     emcluster::AssignKernel kernel, Eigen::MatrixXd& result, bool sweep = true) {
  const ed::PreparedCenters<Scalar> C(C0);
  std::vector<int> labels(std::size_t(X.rows()), -1);
  const double t0 = now_seconds();
  const ed::LloydStats s = ed::lloyd_pass(X, nullptr, C, labels.data(), true, kernel, sweep);
  const Eigen::MatrixXd updated = ed::updated_centers(s, C.centers_d);
  const double t = now_seconds() - t0;
  result = updated;
  return t;
}

struct Options {
  emcluster::AssignKernel kernel = emcluster::AssignKernel::automatic;
  bool quick = false;
  int reps = 5;
  std::string only;
};

template <typename Scalar>
void profile_kmeans(const std::string& label, const RowMatrix<Scalar>& X, Eigen::Index k,
                    const Options& opt, double clock) {
  const Eigen::Index n = X.rows(), d = X.cols();
  const char* type = sizeof(Scalar) == 4 ? "f32" : "f64";
  const std::string title = "K-means, " + label + " " + type;
  if (!opt.only.empty() && title.find(opt.only) == std::string::npos) return;
  const Eigen::MatrixXd C0 = random_rows(X, k, 1);
  const auto kernel = ed::choose_kernel(opt.kernel, k, d);
  const int threads = ed::max_threads();
  // Ceilings at this shape and size, all threads.
  const double bytes = static_cast<double>(n * d) * sizeof(Scalar);
  const double bw = read_bandwidth(static_cast<std::size_t>(bytes), threads);
  // The flop peak as the comparison takes it (bench/bounds.hpp), without the peers' BLAS.
  const double gemm =
      std::max({eigen_gemm_rate<Scalar>(ed::kBlockRows, d, k, threads),
                eigen_gemm_rate<Scalar>(kSquareGemm, kSquareGemm, kSquareGemm, threads),
                fma_rate<Scalar>(threads)});
  const bool sweep = ed::uses_single_sweep(k, d, kernel);
  std::vector<double> best, best_sweep;
  Eigen::MatrixXd mine, theirs, reference;  // the M-step's new centres or means, each way
  double best_sum = std::numeric_limits<double>::infinity(), lib = best_sum, read = best_sum,
         ref = best_sum;
  for (int rep = 0; rep < opt.reps; ++rep) {
    const std::vector<double> p = kmeans_phases(X, C0, kernel, clock, mine);
    double sum = 0;
    for (int q = 0; q < kKPhases; ++q) sum += p[std::size_t(q)];
    if (sum < best_sum) {
      best_sum = sum;
      best = p;
    }
    lib = std::min(lib, library_lloyd(X, C0, kernel, theirs));
    if (sweep) {
      ref = std::min(ref, library_lloyd(X, C0, kernel, reference, false));
      const std::vector<double> q = sweep_phases(X, C0, clock);
      if (best_sweep.empty() || q[0] + q[1] < best_sweep[0] + best_sweep[1]) best_sweep = q;
    }
    read = std::min(read, streaming_read(X));
  }
  const double flops = 2.0 * static_cast<double>(n * k * d);
  std::vector<Line> phases = {
      {"copy (reads, transposed into the block)", best[kCopy],
       floor_text(bytes / bw, "data bytes / " + rate_text(bw, "B/s"))},
      {std::string("distances (") +
           (kernel == emcluster::AssignKernel::gemm ? "GEMM"
                                                    : "direct kernel's tile loop, re-composed") +
           ")",
       best[kDist], floor_text(flops / gemm, "2nkd / flop peak " + rate_text(gemm, "FLOP/s"))},
      {"arg-min (fold of the minima)", best[kArgmin], ""},
      {"labels (changed count, write)", best[kLabels], ""},
      {std::string("accumulation (") +
           (ed::uses_masked_stats(k, d) ? "masked lane sums" : "row by row") + ", inertia)",
       best[kAccum], ""},
      {"reductions (flush, combine, M-step)", best[kReduce], ""},
  };
  char title_buf[256];
  std::snprintf(title_buf, sizeof(title_buf),
                "### %s (one plain Lloyd pass + M-step, %s kernel, %d threads)", title.c_str(),
                kernel == emcluster::AssignKernel::gemm ? "GEMM" : "direct", threads);
  std::vector<Line> extra = {{"instrumented pass, wall", best[kKPhases], ""}};
  if (sweep) {
    // The phases above are those of the separate passes, the single sweep's reference; the
    // library runs the sweep, whose two phases follow.
    extra.push_back(
        {"reference (separate passes): lloyd_pass(sweep = false) + updated_centers, wall", ref,
         ""});
    extra.push_back({"single sweep (the library's pass here): copy", best_sweep[0],
                     floor_text(bytes / bw, "data bytes / bandwidth")});
    extra.push_back({"single sweep: distances, arg-min, labels, accumulation in one kernel",
                     best_sweep[1], ""});
  }
  extra.push_back({"library: lloyd_pass + updated_centers, wall", lib, ""});
  extra.push_back({"streaming sum over the data, wall", read,
                   floor_text(bytes / bw, "data bytes / bandwidth")});
  print_lines(title_buf, phases, extra);
  print_agreement(mine, theirs);  // with the sweep: the reference's bits against the sweep's
}

enum EPhase { eCopy, eLogDensity, eExp, eLog, eNormalise, eAccum, eReduce, eEPhases };

/// One EM pass (em_pass, log_prob_to_responsibilities re-composed) and the M-step.
std::vector<double> em_phases(const RowMatrix<double>& X, const ed::MixtureDensity& density,
                              double clock, Eigen::MatrixXd& result) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = density.k();
  const auto type = density.params.type;
  const auto chunks = ed::stats_chunks(n, type, k, d);
  std::vector<ed::MixtureStats> partial(chunks.size());
  PhaseClock pc(eEPhases, ed::max_threads());
  const double t0 = now_seconds();
  ed::for_each_chunk(chunks, [&](std::size_t c, const ed::Chunk& chunk) {
    ed::MixtureStats s(type, k, d);
    Eigen::MatrixXd xd, resp, scratch, expo;
    ed::EmWorkspace ws;
    ed::for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      const Eigen::Index rows = end - begin;
      pc.mark();
      xd = X.middleRows(begin, rows).cast<double>();
      pc.add(eCopy);
      density.log_prob(xd, resp, ws);
      pc.add(eLogDensity);
      const Eigen::Index cols = resp.cols();
      ws.top = resp.col(0).array();
      for (Eigen::Index j = 1; j < cols; ++j) ws.top = ws.top.max(resp.col(j).array());
      if (!ws.top.isFinite().all()) throw std::runtime_error("a row of zero density");
      for (Eigen::Index j = 0; j < cols; ++j) resp.col(j).array() -= ws.top;
      expo.resize(rows, cols);
      pc.add(eNormalise);
      for (Eigen::Index j = 0; j < cols; ++j) {
        ws.expo = resp.col(j).array().max(ed::kExpUnderflow).exp();
        expo.col(j) = ws.expo.matrix();
      }
      pc.add(eExp);
      ws.sum = Eigen::ArrayXd::Zero(rows);
      for (Eigen::Index j = 0; j < cols; ++j) {
        auto col = resp.col(j).array();
        col = (col < ed::kExpUnderflow).select(0.0, expo.col(j).array());
        ws.sum += col;
      }
      pc.add(eNormalise);
      ws.lse = ws.top + ws.sum.log();
      pc.add(eLog);
      ws.scale = ws.sum.inverse();
      for (Eigen::Index j = 0; j < cols; ++j) resp.col(j).array() *= ws.scale;
      pc.add(eNormalise);
      s.log_likelihood() += ws.lse.sum();
      s.weight() += static_cast<double>(rows);
      ed::accumulate_block(xd, resp, density.params.means, density.reference, s, ws, scratch);
      pc.add(eAccum);
    });
    partial[c] = std::move(s);
  });
  const double t1 = now_seconds();
  const ed::MixtureParams next = ed::m_step(ed::combine(partial), density.params.means,
                                            density.reference, 1e-6, false, "profile");
  const double reduce = now_seconds() - t1;
  std::vector<double> out(eEPhases + 1);
  for (int p = 0; p < eEPhases; ++p) out[std::size_t(p)] = pc.seconds(p, clock);
  out[eReduce] += reduce;
  out[eEPhases] = t1 - t0 + reduce;
  result = next.means;
  return out;
}

/// Wall seconds of the library's own EM pass, combination and M-step.
double library_em(const RowMatrix<double>& X, const ed::MixtureDensity& density,
                  Eigen::MatrixXd& result) {
  const double t0 = now_seconds();
  Eigen::Index bad = -1;
  const auto partial = ed::em_pass(X, nullptr, density, bad);
  const ed::MixtureParams next = ed::m_step(ed::combine(partial), density.params.means,
                                            density.reference, 1e-6, false, "profile");
  const double t = now_seconds() - t0;
  if (bad >= 0) throw std::runtime_error("a row of zero density");
  result = next.means;
  return t;
}

void profile_em(const std::string& label, const RowMatrix<double>& X, Eigen::Index k,
                emcluster::CovarianceType type, const Options& opt, double clock) {
  const Eigen::Index n = X.rows(), d = X.cols();
  const std::string cov = ed::covariance_type_name(type);
  const std::string title = "EM " + cov + ", " + label + " f64";
  if (!opt.only.empty() && title.find(opt.only) == std::string::npos) return;
  // The comparison's start: the mixture of the clusters of k random rows (one M-step).
  const Eigen::MatrixXd C0 = random_rows(X, k, 1);
  const Eigen::VectorXi labels = ed::nearest_means(X, C0);
  const ed::MixtureDensity density(ed::params_from_labels(X, nullptr, type, C0, labels, 1e-6,
                                                          "profile", ed::LocalReducer(X.rows())),
                                   ed::NoiseBox{});
  const int threads = ed::max_threads();
  const double bytes = static_cast<double>(n * d) * sizeof(double);
  const double bw = read_bandwidth(static_cast<std::size_t>(bytes), threads);
  const double exp_rate = transcendental_rate(Transcendental::exp, threads);
  const double log_rate = transcendental_rate(Transcendental::log, threads);
  std::vector<double> best;
  Eigen::MatrixXd mine, theirs;  // the M-step's new centres or means, both ways
  double best_sum = std::numeric_limits<double>::infinity(), lib = best_sum, read = best_sum;
  for (int rep = 0; rep < opt.reps; ++rep) {
    const std::vector<double> p = em_phases(X, density, clock, mine);
    double sum = 0;
    for (int q = 0; q < eEPhases; ++q) sum += p[std::size_t(q)];
    if (sum < best_sum) {
      best_sum = sum;
      best = p;
    }
    lib = std::min(lib, library_em(X, density, theirs));
    read = std::min(read, streaming_read(X));
  }
  const double nk = static_cast<double>(n * k), nn = static_cast<double>(n);
  std::vector<Line> phases = {
      {"copy (reads, block in double)", best[eCopy],
       floor_text(bytes / bw, "data bytes / " + rate_text(bw, "B/s"))},
      {"log-densities (Mahalanobis terms)", best[eLogDensity], ""},
      {"exp (every column)", best[eExp],
       floor_text(nk / exp_rate, "nk / " + rate_text(exp_rate, "exp/s"))},
      {"log (row sums)", best[eLog],
       floor_text(nn / log_rate, "n / " + rate_text(log_rate, "log/s"))},
      {"rest of the normalisation (max, select, sums, scaling)", best[eNormalise], ""},
      {"accumulation (statistics, log-likelihood)", best[eAccum], ""},
      {"reductions (combine, M-step)", best[eReduce], ""},
  };
  char title_buf[256];
  std::snprintf(title_buf, sizeof(title_buf), "### %s (one EM pass + M-step, %d threads)",
                title.c_str(), threads);
  print_lines(title_buf, phases,
              {{"instrumented pass, wall", best[eEPhases], ""},
               {"library: em_pass + combine + m_step, wall", lib, ""},
               {"streaming sum over the data, wall", read,
                floor_text(bytes / bw, "data bytes / bandwidth")}});
  print_agreement(mine, theirs);
}

int profile_main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--reps" && i + 1 < argc) {
      opt.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--only" && i + 1 < argc) {
      opt.only = argv[++i];
    } else if (a == "--kernel" && i + 1 < argc) {
      const std::string k = argv[++i];
      opt.kernel = k == "gemm"     ? emcluster::AssignKernel::gemm
                   : k == "direct" ? emcluster::AssignKernel::direct
                                   : emcluster::AssignKernel::automatic;
    } else {
      std::fprintf(a == "--help" ? stdout : stderr,
                   "usage: emcluster_bench_profile [--quick] [--reps N] [--only TEXT] "
                   "[--kernel auto|gemm|direct]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  const Eigen::Index scale = opt.quick ? 10 : 1;
  const double clock = clock_cost();
  std::printf(
      "# emcluster phase profile (bench/profile.cpp)\n\n- %d threads; clock read %.1f ns "
      "(subtracted once per block and phase); best of %d passes\n",
      ed::max_threads(), clock * 1e9, opt.reps);
  using emcluster::CovarianceType;
  auto suffix = [&](Eigen::Index n) {
    return n >= 999000 ? std::to_string((n + 500000) / 1000000) + "M"
                       : std::to_string((n + 500) / 1000) + "k";
  };
  {
    const RowMatrix<double> X = article_data<double>(1000000 / scale, 42);
    const std::string label = "article " + suffix(X.rows()) + " x 2, k=3";
    profile_kmeans<float>(label, X.cast<float>(), 3, opt, clock);
    profile_kmeans<double>(label, X, 3, opt, clock);
    for (auto t : {CovarianceType::full, CovarianceType::diagonal, CovarianceType::spherical})
      profile_em(label, X, 3, t, opt, clock);
  }
  {
    const RowMatrix<float> X = blobs<float>(1000000 / scale, 16, 16, 1.5, 1);
    profile_kmeans<float>("blobs " + suffix(X.rows()) + " x 16, k=16", X, 16, opt, clock);
  }
  {
    const RowMatrix<float> X = blobs<float>(200000 / scale, 128, 256, 1.5, 2);
    profile_kmeans<float>("blobs " + suffix(X.rows()) + " x 128, k=256", X, 256, opt, clock);
  }
  {
    const RowMatrix<double> X = blobs<double>(200000 / scale, 8, 8, 1.5, 3);
    const std::string label = "blobs " + suffix(X.rows()) + " x 8, k=8";
    profile_kmeans<double>(label, X, 8, opt, clock);
    for (auto t : {CovarianceType::full, CovarianceType::diagonal, CovarianceType::spherical})
      profile_em(label, X, 8, t, opt, clock);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return profile_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emcluster_bench_profile: %s\n", e.what());
    return 1;
  }
}
