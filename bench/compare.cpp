/// @file bench/compare.cpp
/// @brief The comparison driver: emcluster against scikit-learn, FAISS and OpenCV on the same
/// data, from the same start, for the same number of iterations; one table.
///
///   emcluster_compare [--quick] [--full] [--reps N] [--budget S] [--dir DIR] [--keep]
///                     [--python PATH] [--sklearn-script PATH] [--blas-dir DIR] [--only TEXT]
///                     [--wait-idle SECONDS] [--retries N]
///
/// --only TEXT keeps the runs whose "workload | task | implementation" contains TEXT.
/// --wait-idle S waits up to S seconds before every run for other processes to go quiet, and
/// --retries N reruns up to N times the runs during which other processes used the CPU
/// (marked * in the table when they stay disturbed).
///
/// What it does:
///  1. Generates the workloads from fixed seeds (bench/workloads.hpp) and writes each one, its
///     starting centres (k random rows), the labels of those centres (for cv::kmeans, which
///     only takes labels) and the Gaussian mixture's starting parameters (weights, means and
///     covariances of those labels) as raw binary files to a temporary directory.
///  2. Runs every (workload, task, implementation) in its own process (bench/process.hpp):
///     emcluster_worker, bench/peer_sklearn.py, emcluster_peer_faiss, emcluster_peer_opencv
///     (the peers that were found at build time; the programs sit beside this one). Each
///     worker reports the median time of a few fits, the iterations it ran, and its peak
///     memory (VmHWM at the end minus VmRSS before it loaded the data), and writes its final
///     parameters (bench/worker.hpp).
///  3. Computes the objective of every result itself, the same way for all (inertia of the
///     final centres; mean log-likelihood of the final mixture: bench/objectives.hpp), and
///     prints one table and a check of the performance targets (bench/report.hpp).
///  Before the runs it measures the machine's ceilings (emcluster_worker task=ceilings,
///  bench/ceilings.hpp, and numpy's GEMM through peer_sklearn.py task=gemm), from which every
///  row gets its bound (bench/bounds.hpp).
#include <emcluster/kmeans.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bounds.hpp"
#include "objectives.hpp"
#include "process.hpp"
#include "report.hpp"
#include "runs.hpp"
#include "worker.hpp"
#include "workloads.hpp"

#ifndef EMCLUSTER_BENCH_SOURCE_DIR
#define EMCLUSTER_BENCH_SOURCE_DIR "bench"
#endif

using namespace emcluster_bench;

namespace {

struct Options {
  bool quick = false, full = false, keep = false;
  long reps = 5;
  double budget = 3.0;
  double wait_idle = 0.0;  // before a run, wait up to this long for other processes to go quiet
  int retries = 0;         // rerun a run that other processes disturbed up to this many times
  std::string dir, python = "/usr/bin/python3";
  std::string sklearn_script = EMCLUSTER_BENCH_SOURCE_DIR "/peer_sklearn.py";
  std::string blas_dir, only;
};

// ---- 1. the workloads, written to files ----

template <typename Scalar>
void write_matrix(const std::string& path, const RowMatrix<Scalar>& X) {
  write_raw(path, X.data(), static_cast<std::size_t>(X.size()));
}

/// k random rows of X from the first seed (1, 2, ...) from which Lloyd has not converged
/// after 25 iterations (emcluster, double), so that no implementation stops before the 20
/// iterations the comparison times: OpenCV does not report how many it ran.
Eigen::MatrixXd slow_start(const RowMatrix<double>& X, Eigen::Index k, int& seed) {
  for (seed = 1; seed <= 10; ++seed) {
    Eigen::MatrixXd C0 = random_rows(X, k, static_cast<std::uint64_t>(seed));
    emcluster::KMeans<double>::Options o;
    o.n_clusters = k;
    o.init = emcluster::KMeansInit::explicit_centers;
    o.initial_centers = C0;
    o.max_iter = 25;
    o.tol = 0.0;
    emcluster::KMeans<double> km(o);
    if (!km.fit(X).converged()) return C0;
  }
  seed = 0;  // every start converges quickly: seed 1, runs may stop early (the table shows it)
  return random_rows(X, k, 1);
}

/// The data (float64 and/or float32), the starting centres (C0) and their labels (L0), and for
/// the mixtures the starting weights, means and full covariances per covariance type.
void write_workload(const std::string& dir, Workload& w, const RowMatrix<double>& X) {
  w.n = X.rows();
  w.d = X.cols();
  if (w.has_f64) write_matrix<double>(w.path(dir, "f64"), X);
  if (w.has_f32) write_matrix<float>(w.path(dir, "f32"), X.cast<float>());
  // Common start: k random rows; their labels for cv::kmeans.
  const Eigen::MatrixXd C0 = slow_start(X, w.k, w.start_seed);
  const RowMatrix<double> C0r = C0;
  write_matrix<double>(w.path(dir, "C0"), C0r);
  std::vector<int> labels;
  const ConstRowMap<double> Xm(X.data(), X.rows(), X.cols());
  nearest_centres(Xm, C0, &labels);
  write_raw(w.path(dir, "L0"), labels.data(), labels.size());
  if (!w.gmm) return;
  // Mixture start: weights, means and covariances (+1e-6 I) of the clusters of those labels.
  const Eigen::Index k = w.k, d = w.d;
  Eigen::VectorXd count = Eigen::VectorXd::Zero(k);
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(k, d);
  std::vector<Eigen::MatrixXd> scatter(static_cast<std::size_t>(k), Eigen::MatrixXd::Zero(d, d));
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    const int j = labels[static_cast<std::size_t>(i)];
    count(j) += 1;
    sum.row(j) += X.row(i);
  }
  const Eigen::MatrixXd mean = sum.array().colwise() / count.array();
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    const int j = labels[static_cast<std::size_t>(i)];
    const Eigen::RowVectorXd c = X.row(i) - mean.row(j);
    scatter[static_cast<std::size_t>(j)].noalias() += c.transpose() * c;
  }
  for (const char* cov : {"full", "diag", "spherical"}) {
    std::vector<double> p;
    for (Eigen::Index j = 0; j < k; ++j) p.push_back(count(j) / static_cast<double>(X.rows()));
    for (Eigen::Index j = 0; j < k; ++j) {
      for (Eigen::Index c = 0; c < d; ++c) p.push_back(mean(j, c));
    }
    for (Eigen::Index j = 0; j < k; ++j) {
      Eigen::MatrixXd S = scatter[static_cast<std::size_t>(j)] / count(j);
      if (std::strcmp(cov, "diag") == 0) S = Eigen::MatrixXd(S.diagonal().asDiagonal());
      if (std::strcmp(cov, "spherical") == 0) {
        S = S.diagonal().mean() * Eigen::MatrixXd::Identity(d, d);
      }
      S.diagonal().array() += 1e-6;
      for (Eigen::Index r = 0; r < d; ++r) {
        for (Eigen::Index c = 0; c < d; ++c) p.push_back(S(r, c));
      }
    }
    write_raw(w.path(dir, std::string("gmm.") + cov), p.data(), p.size());
  }
}

/// The four workloads (10 times smaller with --quick).
std::vector<Workload> make_workloads(const std::string& dir, const Options& opt) {
  const Eigen::Index scale = opt.quick ? 10 : 1;
  std::vector<Workload> ws(4);
  ws[0].name = "article";
  ws[0].k = 3;
  ws[0].has_f32 = ws[0].has_f64 = ws[0].gmm = true;
  ws[1].name = "blobs16";
  ws[1].k = 16;
  ws[1].has_f32 = ws[1].has_f64 = true;
  ws[2].name = "blobs128";
  ws[2].k = 256;
  ws[2].has_f32 = true;
  ws[3].name = "blobs8";
  ws[3].k = 8;
  ws[3].has_f64 = ws[3].gmm = true;
  std::fprintf(stderr, "generating workloads in %s ...\n", dir.c_str());
  write_workload(dir, ws[0], article_data<double>(1000000 / scale, 42));
  write_workload(dir, ws[1], blobs<double>(1000000 / scale, 16, 16, 1.5, 1));
  write_workload(dir, ws[2], blobs<double>(200000 / scale, 128, 256, 1.5, 2));
  write_workload(dir, ws[3], blobs<double>(200000 / scale, 8, 8, 1.5, 3));
  for (Workload& w : ws) {
    const std::string n = w.n >= 999000 ? std::to_string((w.n + 500000) / 1000000) + "M"
                                        : std::to_string((w.n + 500) / 1000) + "k";
    w.label = (w.name == "article" ? "article " : "blobs ") + n + " x " + std::to_string(w.d) +
              ", k=" + std::to_string(w.k);
  }
  return ws;
}

// ---- 2. the runs, each in its own process ----

/// The worker programs, and which of them exist.
struct Programs {
  std::string emcluster, faiss, opencv, python, sklearn;
  bool have_faiss = false, have_opencv = false, have_sklearn = false;
};

/// Peers: OpenBLAS picks its kernel itself (the environment's OPENBLAS_CORETYPE is dropped),
/// and finds the optimised BLAS in blas_dir when the system's libblas is the reference one.
std::string peer_env(const Options& opt) {
  std::string env = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE";
  if (!opt.blas_dir.empty()) env += " LD_LIBRARY_PATH=" + quote(opt.blas_dir);
  return env;
}

std::string command_for(const Run& r, const Programs& P, const Options& opt, const std::string& dir,
                        const std::string& out) {
  const Workload& w = *r.w;
  std::ostringstream args;
  args << " task=" << r.task << " dtype=" << r.dtype << " n=" << w.n << " d=" << w.d << " k=" << w.k
       << " iters=" << r.iters << " x=" << quote(w.path(dir, r.dtype))
       << " init=" << quote(w.path(dir, "C0")) << " labels=" << quote(w.path(dir, "L0"))
       << " out=" << quote(out) << " reps=" << (r.task == "e2e" ? 1 : opt.reps)
       << " budget=" << opt.budget;
  if (r.variant == "lloyd") args << " algorithm=lloyd";
  if (r.task == "gmm") args << " cov=" << r.cov << " gmm=" << quote(w.path(dir, "gmm." + r.cov));
  if (r.impl == "emcluster") {
    const int threads =
        r.threads > 0 ? r.threads : static_cast<int>(std::thread::hardware_concurrency());
    return "env OMP_NUM_THREADS=" + std::to_string(threads) + " " + quote(P.emcluster) + args.str();
  }
  if (r.impl == "sklearn") {
    return peer_env(opt) + " " + quote(P.python) + " " + quote(P.sklearn) + args.str();
  }
  if (r.impl == "faiss")
    return peer_env(opt) + " OPENBLAS_NUM_THREADS=1 " + quote(P.faiss) + args.str();
  return peer_env(opt) + " " + quote(P.opencv) + args.str();
}

/// Runs r's worker, reads its RESULT line and computes the objective of its final parameters.
void execute(Run& r, const Programs& P, const Options& opt, const std::string& dir, int index) {
  const std::string out = dir + "/run" + std::to_string(index) + ".out";
  const std::string log = dir + "/log.txt";
  {
    std::ofstream l(log, std::ios::app);
    l << "=== run " << index << ": " << r.text() << "\n";
  }
  int status = 0;
  const OtherLoad others;
  const std::string line = result_line(capture(command_for(r, P, opt, dir, out), log, status));
  r.busy = others.cpu_seconds() > std::max(0.05, kBusy * others.wall());
  if (line.empty()) {
    r.error = "failed (exit status " + std::to_string(status) + "; see " + log + ")";
    return;
  }
  r.ok = true;
  r.time = std::stod(field(line, "time"));
  r.iters_run = std::stol(field(line, "iters"));
  r.reps = std::stol(field(line, "reps"));
  r.peak_mb = std::stod(field(line, "peak_mb"));
  r.iters_known = field(line, "iters_known") != "0";
  r.blas = field(line, "blas");
  const Workload& w = *r.w;
  const auto nd = static_cast<std::size_t>(w.n * w.d);
  if (r.task == "gmm") {
    const std::vector<double> X = read_raw<double>(w.path(dir, "f64"), nd);
    const std::vector<double> p =
        read_raw<double>(out, static_cast<std::size_t>(w.k * (1 + w.d + w.d * w.d)));
    r.objective = mean_log_likelihood(ConstRowMap<double>(X.data(), w.n, w.d), p, w.k);
  } else {
    const std::vector<double> c = read_raw<double>(out, static_cast<std::size_t>(w.k * w.d));
    const Eigen::MatrixXd C = Eigen::Map<const RowMatrix<double>>(c.data(), w.k, w.d);
    if (r.dtype == "f32") {
      const std::vector<float> X = read_raw<float>(w.path(dir, "f32"), nd);
      r.objective = nearest_centres(ConstRowMap<float>(X.data(), w.n, w.d), C, nullptr);
    } else {
      const std::vector<double> X = read_raw<double>(w.path(dir, "f64"), nd);
      r.objective = nearest_centres(ConstRowMap<double>(X.data(), w.n, w.d), C, nullptr);
    }
  }
}

/// Every run, in the table's order; --only and the peers that were not built filter it.
std::vector<Run> plan_runs(const std::vector<Workload>& ws, const Programs& P, const Options& opt) {
  std::vector<Run> runs;
  auto add = [&](const Workload& w, const std::string& task, const std::string& dtype,
                 const std::string& cov, const std::string& impl, int threads = 0, int iters = 20,
                 const std::string& variant = "") {
    if (impl == "sklearn" && !P.have_sklearn) return;
    if (impl == "faiss" && !P.have_faiss) return;
    if (impl == "opencv" && !P.have_opencv) return;
    Run r;
    r.w = &w;
    r.task = task;
    r.dtype = dtype;
    r.cov = cov;
    r.impl = impl;
    r.threads = threads;
    r.iters = iters;
    r.variant = variant;
    if (!opt.only.empty() && r.text().find(opt.only) == std::string::npos) return;
    runs.push_back(r);
  };
  // Lloyd, 20 iterations from the common centres.
  for (const Workload& w : ws) {
    for (const std::string dtype : {"f32", "f64"}) {
      if ((dtype == "f32" && !w.has_f32) || (dtype == "f64" && !w.has_f64)) continue;
      add(w, "lloyd", dtype, "", "sklearn");
      add(w, "lloyd", dtype, "", "emcluster");
      // Plain Lloyd (no Hamerly bounds) where the GEMM bound applies: 200k x 128, k = 256.
      if (dtype == "f32" && w.d >= 128) add(w, "lloyd", dtype, "", "emcluster", 0, 20, "lloyd");
      if (dtype == "f32") {
        add(w, "lloyd", dtype, "", "emcluster", 1);
        add(w, "lloyd", dtype, "", "faiss");
        // cv::kmeans takes ~0.7 s per iteration at d = 128, k = 256: 5 iterations there.
        add(w, "lloyd", dtype, "", "opencv", 0, w.d >= 128 ? 5 : 20);
      }
    }
  }
  // Gaussian mixtures, 20 EM iterations from the common parameters.
  for (const Workload& w : ws) {
    if (!w.gmm) continue;
    for (const std::string cov : {"full", "diag", "spherical"}) {
      add(w, "gmm", "f64", cov, "sklearn");
      add(w, "gmm", "f64", cov, "emcluster");
      if (cov == "full") add(w, "gmm", "f64", cov, "emcluster", 1);
      // cv::ml::EM takes seconds per iteration: 2 E-steps (and 1 M-step) only.
      add(w, "gmm", "f64", cov, "opencv", 0, 2);
    }
  }
  // End to end with defaults: emcluster KMeans() vs scikit-learn KMeans(n_init=10).
  for (const Workload& w : ws) {
    if (w.d >= 128 && !opt.full) continue;  // scikit-learn needs minutes there
    const std::string dtype = w.has_f32 ? "f32" : "f64";
    add(w, "e2e", dtype, "", "sklearn");
    add(w, "e2e", dtype, "", "emcluster");
  }
  return runs;
}

/// The machine's ceilings for these workloads: read bandwidth over each data set's size,
/// exp and log, Eigen's GEMM at each K-means distance step's shape (emcluster_worker
/// task=ceilings), and numpy's GEMM at the same shapes when numpy uses OpenBLAS.
Ceilings measure_ceilings(const std::vector<Workload>& ws, const Programs& P, const Options& opt,
                          const std::string& dir) {
  std::vector<std::string> bytes, shapes;
  auto add_once = [](std::vector<std::string>& v, const std::string& s) {
    if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
  };
  for (const Workload& w : ws) {
    for (const std::string dtype : {"f32", "f64"}) {
      if ((dtype == "f32" && !w.has_f32) || (dtype == "f64" && !w.has_f64)) continue;
      add_once(bytes, std::to_string(static_cast<unsigned long long>(data_bytes(w, dtype))));
      add_once(shapes, dtype + ":" + std::to_string(emcluster::detail::kBlockRows) + "x" +
                           std::to_string(w.d) + "x" + std::to_string(w.k));
    }
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  const int threads = static_cast<int>(std::thread::hardware_concurrency());
  const std::string log = dir + "/log.txt";
  Ceilings c;
  int status = 0;
  wait_until_idle(opt.wait_idle);
  std::fprintf(stderr, "measuring the machine's ceilings ...\n");
  const std::string mine = result_line(
      capture("env OMP_NUM_THREADS=" + std::to_string(threads) + " " + quote(P.emcluster) +
                  " task=ceilings bytes=" + join(bytes) + " gemm=" + join(shapes),
              log, status));
  if (mine.empty()) throw std::runtime_error("emcluster_worker task=ceilings failed; see " + log);
  c.add_line(mine, "eigen");
  if (!P.have_sklearn) {
    c.blas_note = "scikit-learn's Python not found";
    return c;
  }
  const std::string peers =
      result_line(capture(peer_env(opt) + " " + quote(P.python) + " " + quote(P.sklearn) +
                              " task=gemm gemm=" + join(shapes),
                          log, status));
  const std::string blas = field(peers, "blas");
  if (peers.empty()) {
    c.blas_note = "peer_sklearn.py task=gemm failed; see " + log;
  } else if (blas.compare(0, 8, "openblas") != 0) {
    c.blas_note = "numpy's BLAS is not OpenBLAS: " + blas;
  } else {
    c.add_line(peers, "blas");
  }
  return c;
}

// ---- 3. the report ----

/// The table's header: the machine, the builds, the BLAS every peer uses.
void print_environment(const Programs& P, const Options& opt, const std::string& dir) {
  std::printf("# emcluster comparison (bench/compare.cpp)\n\n");
  std::printf("- CPU: %s, %u logical cores\n", cpu_model().c_str(),
              std::thread::hardware_concurrency());
  int status = 0;
  const std::string log = dir + "/log.txt";
  const std::string self = result_line(capture(quote(P.emcluster) + " task=info", log, status));
  std::printf("- emcluster: built with %s, OpenMP %s\n", field(self, "isa").c_str(),
              field(self, "openmp").c_str());
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf(
      "- environment OPENBLAS_CORETYPE=%s (removed for the peers so that OpenBLAS picks its "
      "own kernel)\n",
      coretype ? coretype : "unset");
  if (!opt.blas_dir.empty()) {
    std::printf("- peers' BLAS from %s (LD_LIBRARY_PATH)\n", opt.blas_dir.c_str());
  }
  const std::string env = peer_env(opt);
  if (P.have_sklearn) {
    const std::string sk = quote(P.python) + " " + quote(P.sklearn) + " task=info";
    const std::string line = result_line(capture(env + " " + sk, log, status));
    std::printf("- scikit-learn %s, numpy %s, BLAS (threadpoolctl): %s\n",
                field(line, "sklearn").c_str(), field(line, "numpy").c_str(),
                field(line, "blas").c_str());
    const std::string env_line = result_line(capture(sk, log, status));
    std::printf("- (with the environment as it is, numpy would use: %s)\n",
                field(env_line, "blas").c_str());
  } else {
    std::printf("- scikit-learn: not found (%s)\n", P.python.c_str());
  }
  if (P.have_faiss) {
    const std::string line =
        result_line(capture(env + " " + quote(P.faiss) + " task=info", log, status));
    std::printf("- FAISS: run with OPENBLAS_NUM_THREADS=1, OpenMP threads for the rest; BLAS %s\n",
                field(line, "blas").c_str());
  } else {
    std::printf("- FAISS: not built (libfaiss not found)\n");
  }
  if (P.have_opencv) {
    const std::string line =
        result_line(capture(env + " " + quote(P.opencv) + " task=info", log, status));
    std::printf("- OpenCV %s, %s threads, ml (EM) module %s\n", field(line, "version").c_str(),
                field(line, "threads").c_str(), field(line, "ml") == "1" ? "yes" : "no");
  } else {
    std::printf("- OpenCV: not built (not found)\n");
  }
  std::printf("- load average before the runs: %s\n", load_average().c_str());
  std::printf(
      "- every run: own process, same data and starting point, median of up to %ld fits (%.0f s "
      "budget per run)\n",
      opt.reps, opt.budget);
}

void print_usage(FILE* to) {
  std::fprintf(to,
               "usage: emcluster_compare [--quick] [--full] [--reps N] [--budget S] [--dir DIR] "
               "[--keep]\n"
               "                         [--python PATH] [--sklearn-script PATH] [--blas-dir DIR] "
               "[--only TEXT]\n"
               "                         [--wait-idle SECONDS] [--retries N]\n");
}

/// Parses the command line; returns false (after the usage) for --help or an unknown option.
bool parse_options(int argc, char** argv, Options& opt, int& exit_code) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--full") {
      opt.full = true;
    } else if (a == "--keep") {
      opt.keep = true;
    } else if (a == "--reps") {
      opt.reps = std::stol(value());
    } else if (a == "--budget") {
      opt.budget = std::stod(value());
    } else if (a == "--dir") {
      opt.dir = value();
    } else if (a == "--python") {
      opt.python = value();
    } else if (a == "--sklearn-script") {
      opt.sklearn_script = value();
    } else if (a == "--blas-dir") {
      opt.blas_dir = value();
    } else if (a == "--only") {
      opt.only = value();
    } else if (a == "--wait-idle") {
      opt.wait_idle = std::stod(value());
    } else if (a == "--retries") {
      opt.retries = std::stoi(value());
    } else {
      const bool help = a == "--help" || a == "-h";
      print_usage(help ? stdout : stderr);
      exit_code = help ? 0 : 2;
      return false;
    }
  }
  return true;
}

int driver_main(int argc, char** argv) {
  Options opt;
  int exit_code = 0;
  if (!parse_options(argc, argv, opt, exit_code)) return exit_code;
  Programs P;
  const std::string bin = dir_of(self_exe());
  P.emcluster = bin + "/emcluster_worker";
  P.faiss = bin + "/emcluster_peer_faiss";
  P.opencv = bin + "/emcluster_peer_opencv";
  P.python = opt.python;
  P.sklearn = opt.sklearn_script;
  P.have_faiss = file_exists(P.faiss);
  P.have_opencv = file_exists(P.opencv);
  P.have_sklearn = file_exists(P.python) && file_exists(P.sklearn);
  if (!file_exists(P.emcluster)) {
    throw std::runtime_error(P.emcluster + " not found (build the target emcluster_worker)");
  }
  const bool made_dir = opt.dir.empty();
  if (made_dir) opt.dir = make_temp_dir();
  print_environment(P, opt, opt.dir);
  const std::vector<Workload> ws = make_workloads(opt.dir, opt);
  std::vector<Run> runs = plan_runs(ws, P, opt);
  const Ceilings ceilings = measure_ceilings(ws, P, opt, opt.dir);
  print_ceilings(ceilings);

  const OtherLoad others;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    Run& r = runs[i];
    wait_until_idle(opt.wait_idle);
    std::fprintf(stderr, "[%zu/%zu] %s ...", i + 1, runs.size(), r.text().c_str());
    const double t0 = now_seconds();
    execute(r, P, opt, opt.dir, static_cast<int>(i));
    std::fprintf(stderr, " %s (%.1f s)\n",
                 r.ok ? fmt_time(r.per_iter(), r.task == "e2e").c_str() : r.error.c_str(),
                 now_seconds() - t0);
  }
  std::printf(
      "- starting centres: k random rows, first seed without convergence in 25 iterations:");
  for (const Workload& w : ws) {
    if (w.start_seed > 0) {
      std::printf(" %s %d;", w.name.c_str(), w.start_seed);
    } else {
      std::printf(" %s none (seed 1 used);", w.name.c_str());
    }
  }
  // Runs that other processes disturbed: again, when the machine is quiet, keeping a quiet one.
  for (int attempt = 0; attempt < opt.retries; ++attempt) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (!runs[i].busy) continue;
      wait_until_idle(std::max(opt.wait_idle, 10.0));
      Run again = runs[i];
      std::fprintf(stderr, "[again %zu] %s ...", i + 1, again.text().c_str());
      execute(again, P, opt, opt.dir, static_cast<int>(i));
      std::fprintf(
          stderr, " %s%s\n",
          again.ok ? fmt_time(again.per_iter(), again.task == "e2e").c_str() : again.error.c_str(),
          again.busy ? " (disturbed again)" : "");
      if (again.ok && !again.busy) runs[i] = again;
    }
  }
  int busy_runs = 0;
  for (const Run& r : runs) busy_runs += r.busy ? 1 : 0;
  std::printf(
      "\n- other processes used %.2f cores on average during the runs; %d run(s) marked * had "
      "other work above %.1f core\n",
      others.cores(), busy_runs, kBusy);
  print_table(runs, ceilings);
  print_targets(runs, ceilings);
  for (const Run& r : runs) {
    if (r.ok && r.task != "e2e" && r.iters_known && r.iters_run < r.iters) {
      std::printf("- note: %s stopped after %ld of %d iterations (labels stable)\n",
                  r.text().c_str(), r.iters_run, r.iters);
    }
  }
  if (made_dir && !opt.keep) {
    const std::string cmd = "rm -rf " + quote(opt.dir);
    if (std::system(cmd.c_str()) != 0)
      std::fprintf(stderr, "could not remove %s\n", opt.dir.c_str());
  } else {
    std::printf("\ndata and logs kept in %s\n", opt.dir.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return driver_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emcluster_compare: %s\n", e.what());
    return 1;
  }
}
