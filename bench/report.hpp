/// @file bench/report.hpp
/// @brief What the driver prints after the runs: the table (one row per run, with the ratio
/// to scikit-learn) and the check of every performance target against this run's numbers.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

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

/// The Markdown table of every run, in the order they ran.
inline void print_table(const std::vector<Run>& runs) {
  std::printf(
      "\n| workload | task | implementation | iters | time / iteration | sklearn / this | "
      "objective | peak MB (data MB) |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|---:|\n");
  for (const Run& r : runs) {
    if (!r.ok) {
      std::printf("| %s | %s | %s | | %s | | | |\n", r.w->label.c_str(), r.task_label().c_str(),
                  r.impl_label().c_str(), r.error.c_str());
      continue;
    }
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
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %.0f (%.0f) |\n", r.w->label.c_str(),
                r.task_label().c_str(), r.impl_label().c_str(), iters, time.c_str(), ratio, obj,
                r.peak_mb, r.data_mb());
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
inline void print_targets(const std::vector<Run>& runs) {
  std::printf("\nTargets (ratios from this run):\n");
  char buf[256];
  for (const Run& r : runs) {
    if (r.impl != "emcluster" || r.threads != 0 || !r.ok) continue;
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
}

}  // namespace emcluster_bench
