/// @file bench/model_selection.cpp
/// @brief Choosing k and the covariance type: emcluster's GaussianMixtureSearch against R's
/// mclust (mclustBIC) and a scikit-learn loop (one GaussianMixture per cell), on the same
/// data, in one run, with the ratios and the targets checked.
///
///   emcluster_bench_model_selection [--n N] [--large N] [--reps R] [--dir DIR] [--quick]
///                                   [--python PATH] [--rscript PATH] [--blas-dir DIR]
///                                   [--no-mclust] [--no-sklearn]
///
/// Workloads: the article's data scaled to N rows (default 18,300: its three clusters x 10
/// and 300 noise points), standardized; and, unless --large 0, the same shape with about 1M
/// rows (default 1,000,000), against scikit-learn only: mclust's hierarchical initialisation
/// keeps O(n^2) pairs, so it cannot run on a million rows. --quick: N = 1830, no large run.
///
/// Every implementation searches k = 1..9 x four covariance types (full, tied, diagonal,
/// spherical = mclust's VVV, EEE, VVI, VII), no noise component, each at its defaults:
///  - emcluster: GaussianMixtureSearch<double> with default options (one K-means start per
///    k with KMeans's automatic restarts, shared by the four types; tol 1e-3, reg_covar 1e-6),
///    the median of R runs (default 3), all threads;
///  - mclust: bench/peer_mclust.R, mclustBIC(X, G = 1:9, modelNames = c("VII", "EEE", "VVI",
///    "VVV")), one run, the elapsed time of that call;
///  - scikit-learn: bench/peer_sklearn_search.py, GaussianMixture(k, type, n_init=1,
///    init_params="kmeans") for each cell, one run, the whole loop (fits and bic()).
/// Reading and writing the data is not timed. Targets (issue): at least 30x faster than mclust
/// and 20x faster than the scikit-learn loop, with a best BIC equal or better (lower, in
/// emcluster's sign; mclust's is negated), 1e-6 relative slack for rounding. One more row
/// (first workload only) times emcluster's search with and without the noise component (72
/// candidates), for information. On a loaded machine run it with OMP_WAIT_POLICY=passive:
/// OpenMP threads that spin at every barrier while another process holds their core make
/// emcluster's passes many times slower (seen here: 20x at a load of 3.5 on 2 cores).
#include <emcluster/datasets.hpp>
#include <emcluster/model_selection.hpp>
#include <emcluster/preprocessing.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "worker.hpp"

#ifndef EMCLUSTER_BENCH_SOURCE_DIR
#define EMCLUSTER_BENCH_SOURCE_DIR "bench"
#endif

namespace {

using emcluster_bench::median;
using emcluster_bench::now_seconds;

struct Options {
  Eigen::Index n = 18300;
  Eigen::Index large = 1000000;
  int reps = 3;
  std::string dir = "/tmp/emcluster_bench_model_selection";
  std::string python = "/usr/bin/python3";
  std::string rscript = "Rscript";
  std::string blas_dir;
  bool mclust = true;
  bool sklearn = true;
};

/// One implementation's result.
struct Result {
  std::string name;
  bool ran = false;
  std::string why;  ///< why it did not run
  double seconds = std::numeric_limits<double>::quiet_NaN();
  int reps = 0;
  double best_bic = std::numeric_limits<double>::quiet_NaN();
  std::string best;
  std::string failed;
  std::string note;
};

std::string quote(const std::string& s) { return "'" + s + "'"; }

/// Runs a shell command; returns the key=value fields of its "RESULT" line (empty if none)
/// and leaves its other output in `log`.
std::map<std::string, std::string> run_peer(const std::string& command, std::string& log) {
  std::map<std::string, std::string> fields;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return fields;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    const std::string line = buffer;
    if (line.rfind("RESULT ", 0) != 0) {
      log += line;
      continue;
    }
    std::istringstream in(line.substr(7));
    std::string token;
    while (in >> token) {
      const auto eq = token.find('=');
      if (eq != std::string::npos) fields[token.substr(0, eq)] = token.substr(eq + 1);
    }
  }
  pclose(pipe);
  return fields;
}

Result peer_result(const std::string& name, const std::string& command) {
  Result r;
  r.name = name;
  std::string log;
  const auto f = run_peer(command, log);
  if (f.count("time") == 0) {
    r.why = "did not report (" + log.substr(0, 300) + ")";
    return r;
  }
  r.ran = true;
  r.seconds = std::stod(f.at("time"));
  r.reps = 1;
  r.best_bic = std::stod(f.at("best_bic"));
  r.best = f.count("best") ? f.at("best") : "?";
  r.failed =
      (f.count("failed") ? f.at("failed") : "?") + "/" + (f.count("fits") ? f.at("fits") : "?");
  if (f.count("version")) r.note = "mclust " + f.at("version");
  if (f.count("blas")) r.note = "BLAS " + f.at("blas");
  return r;
}

Result emcluster_result(const std::string& name, const Eigen::MatrixXd& Z,
                        emcluster::NoiseSearch noise, int reps) {
  emcluster::GaussianMixtureSearch<>::Options o;
  o.noise = noise;
  emcluster::GaussianMixtureSearch<> search(o);
  const std::vector<double> times = emcluster_bench::time_runs(reps, 60.0, [&] { search.fit(Z); });
  Result r;
  r.name = name;
  r.ran = true;
  r.seconds = median(times);
  r.reps = static_cast<int>(times.size());
  const auto& best = search.best();
  r.best_bic = best.bic;
  r.best = best.model() + "," + std::to_string(best.k);
  std::size_t failed = 0;
  for (const auto& c : search.results()) failed += c.failed ? 1 : 0;
  r.failed = std::to_string(failed) + "/" + std::to_string(search.results().size());
  return r;
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = std::numeric_limits<double>::quiet_NaN();
  in >> load;
  return load;
}

/// Runs one workload and prints its table; returns whether every target that could be
/// checked was met.
bool run_workload(const Options& opt, Eigen::Index n, bool with_mclust) {
  const auto data = emcluster::make_article_data<double>(42, static_cast<double>(n) / 1830.0);
  const Eigen::MatrixXd Z = emcluster::StandardScaler<>().fit_transform(data.X);
  const Eigen::Index rows = Z.rows();
  std::printf(
      "\n== the article's shape, %ld x %ld (standardized, %ld noise points), k = 1..9 x 4 "
      "covariance types ==\n",
      static_cast<long>(rows), static_cast<long>(Z.cols()),
      static_cast<long>((data.labels.array() < 0).count()));
  std::fflush(stdout);

  // The data for the peers: raw float64, row-major, and CSV (17 significant digits).
  const std::string stem = opt.dir + "/article_" + std::to_string(rows);
  {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> R = Z;
    emcluster_bench::write_raw(stem + ".f64", R.data(), static_cast<std::size_t>(R.size()));
  }
  if (with_mclust && opt.mclust) {
    std::ofstream csv(stem + ".csv");
    csv << "x,y\n";
    char line[96];
    for (Eigen::Index i = 0; i < rows; ++i) {
      std::snprintf(line, sizeof line, "%.17g,%.17g\n", Z(i, 0), Z(i, 1));
      csv << line;
    }
  }

  std::vector<Result> results;
  results.push_back(emcluster_result("emcluster GaussianMixtureSearch", Z,
                                     emcluster::NoiseSearch::off, opt.reps));
  const Result ours = results.front();  // a copy: results grows below
  std::printf("emcluster: %.4f s (median of %d), best %s BIC %.4f\n", ours.seconds, ours.reps,
              ours.best.c_str(), ours.best_bic);
  std::fflush(stdout);

  const std::string source = EMCLUSTER_BENCH_SOURCE_DIR;
  std::size_t mclust_row = 0, sklearn_row = 0;
  if (with_mclust && opt.mclust) {
    results.push_back(peer_result(
        "mclust mclustBIC",
        opt.rscript + " " + quote(source + "/peer_mclust.R") + " x=" + quote(stem + ".csv")));
    mclust_row = results.size() - 1;
  } else {
    Result r;
    r.name = "mclust mclustBIC";
    r.why = opt.mclust ? "not run: its hierarchical initialisation needs O(n^2) memory and time"
                       : "not run (--no-mclust)";
    results.push_back(r);
  }
  if (opt.sklearn) {
    std::string env =
        opt.blas_dir.empty() ? "" : "env LD_LIBRARY_PATH=" + quote(opt.blas_dir) + " ";
    results.push_back(peer_result(
        "scikit-learn loop", env + opt.python + " " + quote(source + "/peer_sklearn_search.py") +
                                 " x=" + quote(stem + ".f64") + " n=" + std::to_string(rows) +
                                 " d=2"));
    sklearn_row = results.size() - 1;
  }
  if (with_mclust) {  // the first workload only: on 1M rows it would double the run
    results.push_back(
        emcluster_result("emcluster, noise off and on (72)", Z, emcluster::NoiseSearch::both, 1));
  }

  std::printf("\n%-34s %11s %5s %14s %-18s %7s %9s\n", "implementation", "time (s)", "runs",
              "best BIC", "best model,k", "failed", "emcluster");
  std::printf("%-34s %11s %5s %14s %-18s %7s %9s\n", "", "", "", "(lower better)", "", "",
              "faster by");
  for (const Result& r : results) {
    if (!r.ran) {
      std::printf("%-34s %s\n", r.name.c_str(), r.why.c_str());
      continue;
    }
    char ratio[32] = "-";
    if (r.name.rfind("emcluster", 0) != 0) {
      std::snprintf(ratio, sizeof ratio, "%.1fx", r.seconds / ours.seconds);
    }
    std::printf("%-34s %11.4f %5d %14.4f %-18s %7s %9s  %s\n", r.name.c_str(), r.seconds, r.reps,
                r.best_bic, r.best.c_str(), r.failed.c_str(), ratio, r.note.c_str());
  }

  bool ok = true;
  auto check = [&](std::size_t row, double target) {
    if (row == 0) return;
    const Result& r = results[row];
    if (!r.ran) {
      std::printf("target vs %s: not measured (%s)\n", r.name.c_str(), r.why.c_str());
      ok = false;
      return;
    }
    const double ratio = r.seconds / ours.seconds;
    const bool fast = ratio >= target;
    const bool good = ours.best_bic <= r.best_bic + 1e-6 * std::abs(r.best_bic);
    std::printf(
        "target vs %s: >= %.0fx faster: %s (%.1fx); best BIC equal or better: %s (%.4f vs %.4f)\n",
        r.name.c_str(), target, fast ? "met" : "MISSED", ratio, good ? "met" : "MISSED",
        ours.best_bic, r.best_bic);
    ok = ok && fast && good;
  };
  std::printf("\n");
  check(mclust_row, 30.0);
  check(sklearn_row, 20.0);
  std::fflush(stdout);
  return ok;
}

}  // namespace

int main(int argc, char** argv) try {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--n") {
      opt.n = std::stol(value());
    } else if (a == "--large") {
      opt.large = std::stol(value());
    } else if (a == "--reps") {
      opt.reps = std::stoi(value());
    } else if (a == "--dir") {
      opt.dir = value();
    } else if (a == "--python") {
      opt.python = value();
    } else if (a == "--rscript") {
      opt.rscript = value();
    } else if (a == "--blas-dir") {
      opt.blas_dir = value();
    } else if (a == "--no-mclust") {
      opt.mclust = false;
    } else if (a == "--no-sklearn") {
      opt.sklearn = false;
    } else if (a == "--quick") {
      opt.n = 1830;
      opt.large = 0;
    } else {
      std::fprintf(stderr,
                   "usage: emcluster_bench_model_selection [--n N] [--large N] [--reps R] [--dir "
                   "DIR] [--quick]\n"
                   "         [--python PATH] [--rscript PATH] [--blas-dir DIR] [--no-mclust] "
                   "[--no-sklearn]\n");
      return 2;
    }
  }
  if (std::system(("mkdir -p " + quote(opt.dir)).c_str()) != 0) {
    throw std::runtime_error("cannot create " + opt.dir);
  }
  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  std::printf(
      "emcluster model selection benchmark: %d threads for emcluster, load average %.2f at the "
      "start\n",
      threads, load_average());
  bool ok = run_workload(opt, opt.n, true);
  if (opt.large > 0) ok = run_workload(opt, opt.large, false) && ok;
  std::printf(
      "\nload average %.2f at the end (timings on a loaded machine are not meaningful)\n%s\n",
      load_average(), ok ? "every measured target met" : "some target missed or not measured");
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "emcluster_bench_model_selection: %s\n", e.what());
  return 2;
}
