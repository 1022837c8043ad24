/// @file bench/runs.hpp
/// @brief The comparison's records: a workload (its shape and the files the driver wrote for
/// it) and a run (one task by one implementation on one workload, then its result), with the
/// labels the table shows and the lookups the ratios need.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace emcluster_bench {

/// One data set and its starting points, written to files by the driver.
struct Workload {
  std::string name;   // file stem
  std::string label;  // shown in the table
  Eigen::Index n = 0, d = 0, k = 0;
  int start_seed = 1;  // seed of the starting centres' rows (0: none slow enough, seed 1 used)
  bool has_f32 = false, has_f64 = false, gmm = false;
  std::string path(const std::string& dir, const std::string& what) const {
    return dir + "/" + name + "." + what;
  }
};

/// One (workload, task, implementation) run and its result.
struct Run {
  const Workload* w = nullptr;
  std::string task;     // lloyd, e2e, gmm
  std::string dtype;    // f32, f64
  std::string cov;      // gmm: full, diag, spherical
  std::string impl;     // emcluster, sklearn, faiss, opencv
  int threads = 0;      // emcluster: OMP_NUM_THREADS (0 = all)
  std::string variant;  // emcluster K-means: "" (automatic algorithm) or "lloyd" (no pruning)
  int iters = 20;
  // results
  bool ok = false;
  double time = 0, peak_mb = 0, objective = std::numeric_limits<double>::quiet_NaN();
  long iters_run = 0, reps = 0;
  bool iters_known = true;
  bool busy = false;  // other processes used more than kBusy cores (and 5 clock ticks) meanwhile
  std::string blas, error;

  std::string task_label() const {
    if (task == "lloyd") return "K-means " + dtype;
    if (task == "e2e") return "defaults " + dtype;
    return "GMM " + cov + " f64";
  }
  std::string impl_label() const {
    std::string s = impl;
    if (variant == "lloyd") s += " (plain Lloyd)";
    if (impl == "emcluster" && threads > 0) {
      s += threads == 1 ? " (1 thread)" : " (" + std::to_string(threads) + " threads)";
    }
    if (impl == "sklearn" && task == "e2e") s += " n_init=10";
    if (impl == "faiss") s += " (BLAS 1 thr)";
    return s;
  }
  /// "workload | task | implementation", as --only matches it.
  std::string text() const { return w->label + " | " + task_label() + " | " + impl_label(); }
  /// Seconds per iteration; for the end-to-end task, seconds per fit.
  double per_iter() const { return task == "e2e" ? time : time / std::max<long>(1, iters_run); }
  /// Size of the workload's data in the run's scalar type, in MB.
  double data_mb() const {
    return static_cast<double>(w->n * w->d) * (dtype == "f32" ? 4.0 : 8.0) / (1024.0 * 1024.0);
  }
};

/// The successful run of `impl` (with `threads` and `variant`) on the same workload, task,
/// type and covariance as `like`; nullptr when there is none.
inline const Run* find_run(const std::vector<Run>& runs, const Run& like, const std::string& impl,
                           int threads = 0, const std::string& variant = "") {
  for (const Run& r : runs) {
    if (r.w == like.w && r.task == like.task && r.dtype == like.dtype && r.cov == like.cov &&
        r.impl == impl && r.threads == threads && r.variant == variant && r.ok)
      return &r;
  }
  return nullptr;
}

}  // namespace emcluster_bench
