/// @file bench/report.hpp
/// @brief What the driver prints: the machine's ceilings measured in this run, the table (one
/// row per run, with the ratio to scikit-learn and the row's bound, bench/bounds.hpp) and the
/// check of every performance target against this run's numbers.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bounds.hpp"
#include "runs.hpp"

namespace emcluster_bench {

/// "1.23 ms", "1.23 s", or with total = true "1.23 s total".
inline std::string fmt_time(double seconds, bool total) {
  char buf[64];
  if (total) {
    std::snprintf(buf, sizeof(buf), "%.2f s total", seconds);
  } else if (seconds >= 1.0) {
    std::snprintf(buf, sizeof(buf), "%.2f s", seconds);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f ms", seconds * 1e3);
  }
  return buf;
}

/// A rate with its unit scaled: "23.4 GB/s", "612 M/s".
inline std::string fmt_rate(double value, const char* unit) {
  char buf[64];
  if (value >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%.1f G%s", value / 1e9, unit);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f M%s", value / 1e6, unit);
  }
  return buf;
}

/// The ceilings of this run, as lines of the table's header (every measured value).
inline void print_ceilings(const Ceilings& c) {
  const int all = c.threads;
  std::printf(
      "- ceilings measured in this run (bench/ceilings.hpp; 1 thread / %d threads, best "
      "of 7):\n",
      all);
  std::vector<std::string> sizes;  // bytes, smallest first
  for (const std::string& key : c.keys("bw.")) {
    if (key.size() > 5 && key.compare(key.size() - 2, 2, ".1") == 0)
      sizes.push_back(key.substr(3, key.size() - 5));
  }
  std::sort(sizes.begin(), sizes.end(),
            [](const std::string& a, const std::string& b) { return std::stod(a) < std::stod(b); });
  for (const std::string& bytes : sizes) {
    std::printf("  - read bandwidth over %.1f MB: %s / %s\n", std::stod(bytes) / 1e6,
                fmt_rate(c.get("bw." + bytes + ".1"), "B/s").c_str(),
                fmt_rate(c.get("bw." + bytes + "." + std::to_string(all)), "B/s").c_str());
  }
  std::printf("  - E-step exp (Eigen, double): %s / %s; log: %s / %s\n",
              fmt_rate(c.exp_rate(1), "/s").c_str(), fmt_rate(c.exp_rate(all), "/s").c_str(),
              fmt_rate(c.log_rate(1), "/s").c_str(), fmt_rate(c.log_rate(all), "/s").c_str());
  for (const char* source : {"eigen", "blas"}) {
    std::string line;
    for (const std::string& key : c.keys(std::string(source) + ".gemm.")) {
      const std::string tail = key.substr(std::string(source).size() + 6);  // f32.RxDxK.T
      if (source == std::string("eigen") && tail.compare(tail.size() - 2, 2, ".1") != 0) continue;
      const std::string shape =
          source == std::string("eigen") ? tail.substr(0, tail.size() - 2) : tail;
      line += (line.empty() ? "" : ", ") + shape + " " + fmt_rate(c.get(key), "FLOP/s");
      if (source == std::string("eigen")) {
        line += " / " +
                fmt_rate(c.get(std::string(source) + ".gemm." + shape + "." + std::to_string(all)),
                         "FLOP/s");
      }
    }
    if (source == std::string("eigen")) {
      std::printf("  - Eigen GEMM (block x d times d x k; square block): %s\n", line.c_str());
    } else if (!line.empty()) {
      std::printf("  - peers' BLAS GEMM (numpy, all threads): %s\n", line.c_str());
    } else {
      std::printf("  - peers' BLAS GEMM: not measured (%s)\n", c.blas_note.c_str());
    }
  }
  std::printf("  - multiply-add peak (registers only): f32 %s / %s, f64 %s / %s\n",
              fmt_rate(c.get("fma.f32.1"), "FLOP/s").c_str(),
              fmt_rate(c.get("fma.f32." + std::to_string(all)), "FLOP/s").c_str(),
              fmt_rate(c.get("fma.f64.1"), "FLOP/s").c_str(),
              fmt_rate(c.get("fma.f64." + std::to_string(all)), "FLOP/s").c_str());
  for (const char* dtype : {"f32", "f64"}) {
    std::string which1, which;
    const double p1 = c.gemm_peak(dtype, 1, &which1), p = c.gemm_peak(dtype, all, &which);
    std::printf("  - flop peak %s (the fastest above): %s (%s) / %s (%s)\n", dtype,
                fmt_rate(p1, "FLOP/s").c_str(), which1.c_str(), fmt_rate(p, "FLOP/s").c_str(),
                which.c_str());
  }
  std::printf(
      "- bound per row (docs/performance.md, \"Bounds\"): K-means max(data bytes / "
      "bandwidth, 2nkd / flop peak); EM max(data bytes / bandwidth, nk / exp rate + n / "
      "log rate, flops / flop peak f64); the ceilings of the row's threads\n");
}

/// "0.41 ms mem": a row's bound and its limiting term ("" when there is none).
inline std::string fmt_bound(const Bound& b) {
  if (!b.valid) return "";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3g ms %s", b.seconds() * 1e3, b.limit());
  return buf;
}

/// The Markdown table of every run, in the order they ran.
inline void print_table(const std::vector<Run>& runs, const Ceilings& ceilings) {
  std::printf(
      "\n| workload | task | implementation | iters | time / iteration | sklearn / this | "
      "bound | x bound | objective | peak MB (data MB) |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Run& r : runs) {
    const Bound bound = bound_of(r, ceilings);
    if (!r.ok) {
      std::printf("| %s | %s | %s | | %s | | %s | | | |\n", r.w->label.c_str(),
                  r.task_label().c_str(), r.impl_label().c_str(), r.error.c_str(),
                  fmt_bound(bound).c_str());
      continue;
    }
    char times_bound[32] = "";
    if (bound.valid)
      std::snprintf(times_bound, sizeof(times_bound), "%.2f", r.per_iter() / bound.seconds());
    const Run* sk = find_run(runs, r, "sklearn");
    char ratio[32] = "";
    if (sk) std::snprintf(ratio, sizeof(ratio), "%.2f", sk->per_iter() / r.per_iter());
    char obj[48];
    if (r.task == "gmm") {
      std::snprintf(obj, sizeof(obj), "%.6f", r.objective);
    } else {
      std::snprintf(obj, sizeof(obj), "%.7g", r.objective);
    }
    char iters[32];
    std::snprintf(iters, sizeof(iters), "%ld%s", r.iters_run, r.iters_known ? "" : " (max)");
    std::string time = fmt_time(r.per_iter(), r.task == "e2e");
    if (r.reps > 1) time += " (med " + std::to_string(r.reps) + ")";
    if (r.busy) time += " *";
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f (%.0f) |\n",
                r.w->label.c_str(), r.task_label().c_str(), r.impl_label().c_str(), iters,
                time.c_str(), ratio, fmt_bound(bound).c_str(), times_bound, obj, r.peak_mb,
                r.data_mb());
  }
}

inline void print_check(const std::string& what, bool met, const std::string& detail) {
  std::printf("- [%s] %s: %s\n", met ? "met" : "MISSED", what.c_str(), detail.c_str());
}

/// The project's performance targets, checked for every emcluster run (all threads):
///  - K-means per iteration: >= 4x scikit-learn on the 1M-row workloads, >= 2x on d = 128 (none
///    for 200k x 8); faster than FAISS and OpenCV; 2 threads >= 1.7x faster than 1.
///  - Gaussian mixture per EM iteration: >= 20x scikit-learn (full covariance), >= 10x
///    (diagonal, spherical); 2 threads >= 1.7x faster than 1.
///  - Defaults end to end: inertia no higher than scikit-learn's n_init=10, in under a third
///    of its time.
///  - Peak memory (all but end to end): the data + 10% + 8 MB at most.
///  - Against the bounds (bench/bounds.hpp), print_bound_targets.
inline void print_bound_targets(const std::vector<Run>& runs, const Ceilings& c);

inline void print_targets(const std::vector<Run>& runs, const Ceilings& ceilings) {
  std::printf("\nTargets (ratios from this run):\n");
  char buf[256];
  for (const Run& r : runs) {
    if (r.impl != "emcluster" || r.threads != 0 || !r.variant.empty() || !r.ok) continue;
    const Run* sk = find_run(runs, r, "sklearn");
    const std::string name = r.w->label + ", " + r.task_label();
    const Run* one = find_run(runs, r, "emcluster", 1);
    if (r.task == "lloyd") {
      const double need = r.w->name == "blobs128" ? 2.0 : r.w->name == "blobs8" ? 0.0 : 4.0;
      if (sk && need > 0.0) {
        const double x = sk->per_iter() / r.per_iter();
        std::snprintf(buf, sizeof(buf), "%.2fx scikit-learn per iteration (target >= %.0fx)", x,
                      need);
        print_check(name, x >= need, buf);
      }
      for (const char* peer : {"faiss", "opencv"}) {
        const Run* p = find_run(runs, r, peer);
        if (!p) continue;
        std::snprintf(buf, sizeof(buf), "%.2fx %s per iteration (target > 1x)",
                      p->per_iter() / r.per_iter(), peer);
        print_check(name, p->per_iter() > r.per_iter(), buf);
      }
    } else if (r.task == "gmm" && sk) {
      const double need = r.cov == "full" ? 20.0 : 10.0;
      const double x = sk->per_iter() / r.per_iter();
      std::snprintf(buf, sizeof(buf), "%.1fx scikit-learn per iteration (target >= %.0fx)", x,
                    need);
      print_check(name, x >= need, buf);
    } else if (r.task == "e2e" && sk) {
      std::snprintf(buf, sizeof(buf),
                    "inertia %.7g vs scikit-learn n_init=10 %.7g (target <=), time %.3f s vs "
                    "%.3f s (target < 1/3: %.3f s)",
                    r.objective, sk->objective, r.time, sk->time, sk->time / 3);
      print_check(name, r.objective <= sk->objective * (1 + 1e-6) && r.time < sk->time / 3, buf);
    }
    if (one && r.task != "e2e") {
      const double s = one->per_iter() / r.per_iter();
      std::snprintf(buf, sizeof(buf), "2 threads %.2fx faster than 1 (target >= 1.7x)", s);
      print_check(name, s >= 1.7, buf);
    }
    if (r.task != "e2e") {
      const double limit = 1.1 * r.data_mb() + 8.0;
      std::snprintf(buf, sizeof(buf),
                    "peak %.1f MB for %.1f MB of data (target <= data + 10%% + 8 MB = %.1f MB)",
                    r.peak_mb, r.data_mb(), limit);
      print_check(name, r.peak_mb <= limit, buf);
    }
  }
  print_bound_targets(runs, ceilings);
}

/// The targets against the bounds, for emcluster's rows on all threads:
///  - K-means per iteration within 3x of its bound on 1M x 2 (f32, f64) and 1M x 16;
///  - plain Lloyd within 1.5x of the GEMM bound (2nkd / GEMM peak) on 200k x 128, k = 256,
///    and the default (Hamerly's pruning) below that bound;
///  - EM per iteration within 3x of its bound with full covariances (1M x 2, k = 3 and
///    200k x 8, k = 8), within 2x with diagonal and spherical ones.
inline void print_bound_targets(const std::vector<Run>& runs, const Ceilings& c) {
  char buf[256];
  for (const Run& r : runs) {
    if (r.impl != "emcluster" || r.threads != 0 || !r.ok || r.task == "e2e") continue;
    const Bound b = bound_of(r, c);
    if (!b.valid) continue;
    const std::string name =
        r.w->label + ", " + r.task_label() + (r.variant == "lloyd" ? " (plain Lloyd)" : "");
    const double t = r.per_iter(), x = t / b.seconds();
    if (r.task == "lloyd" && r.w->name == "blobs128") {
      // The "GEMM bound": 2nkd over the fastest GEMM measured (not the FMA peak).
      const double gemm = c.gemm_peak(r.dtype, bound_threads(r, c), nullptr, false);
      const double gb = 2.0 * static_cast<double>(r.w->n * r.w->k * r.w->d) / gemm;
      const double xg = t / gb, xf = t / b.compute;
      if (r.variant == "lloyd") {
        std::snprintf(buf, sizeof(buf),
                      "%.2fx its GEMM bound (%s = 2nkd / fastest GEMM; target <= 1.5x); %.2fx "
                      "the flop bound (%s)",
                      xg, fmt_time(gb, false).c_str(), xf, fmt_time(b.compute, false).c_str());
        print_check(name, xg <= 1.5, buf);
      } else {
        std::snprintf(buf, sizeof(buf),
                      "%.2fx the GEMM bound of a full pass (%s; target < 1x: pruning below it); "
                      "%.2fx the flop bound (%s)",
                      xg, fmt_time(gb, false).c_str(), xf, fmt_time(b.compute, false).c_str());
        print_check(name, xg < 1.0, buf);
      }
      continue;
    }
    double need = 0;
    if (r.task == "lloyd" && r.variant.empty() &&
        (r.w->name == "article" || r.w->name == "blobs16"))
      need = 3.0;
    if (r.task == "gmm") need = r.cov == "full" ? 3.0 : 2.0;
    if (need == 0) continue;
    std::snprintf(buf, sizeof(buf), "%.2fx its bound per iteration (%s, %s-bound; target <= %.0fx)",
                  x, fmt_time(b.seconds(), false).c_str(), b.limit(), need);
    print_check(name, x <= need, buf);
  }
}

}  // namespace emcluster_bench
