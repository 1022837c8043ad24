/// @file bench/emcluster_worker.cpp
/// @brief Comparison worker: emcluster itself (KMeans, GaussianMixture), run by
/// emcluster_compare in its own process like the peers; see bench/worker.hpp for the protocol.
///
///   task=info                                   the build: ISA, OpenMP, threads
///   task=ceilings bytes=B,B,... gemm=f32:RxDxK,f64:RxDxK,...
///       the machine's ceilings (bench/ceilings.hpp) on 1 thread and on all: read bandwidth
///       over buffers of B bytes (bw.B.T=bytes/s), the E-step's exp and log (exp.T=, log.T=
///       values/s), Eigen's GEMM at the given shapes and on a square block
///       (gemm.f32.RxDxK.T= flops/s) and the cores' multiply-add peak (fma.f32.T=)
///   task=lloyd x= dtype= n= d= k= init= iters= reps= budget= out=
///       KMeans from the given centres, max_iter = iters, tol = 0, n_init = 1; with
///       algorithm=lloyd plain Lloyd (no Hamerly bounds), else the automatic choice
///   task=e2e   x= dtype= n= d= k= reps= budget= out=
///       KMeans with its defaults (seed 0)
///   task=gmm   x= dtype=f64 n= d= k= gmm= cov= iters= reps= budget= out=
///       GaussianMixture from the given weights, means and covariances, max_iter = iters, tol = 0
#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/kmeans.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "ceilings.hpp"
#include "worker.hpp"
#include "workloads.hpp"

using namespace emcluster_bench;

namespace {

template <typename Scalar>
using ConstRowMap = Eigen::Map<const RowMatrix<Scalar>>;

std::string threads() { return "threads=" + std::to_string(emcluster::detail::max_threads()); }

template <typename Scalar>
int run_kmeans(const Args& a) {
  const Eigen::Index n = a.num("n"), d = a.num("d"), k = a.num("k");
  const std::string task = a.str("task");
  const long baseline = proc_status_kb("VmRSS");
  const std::vector<Scalar> data = read_raw<Scalar>(a.str("x"), static_cast<std::size_t>(n * d));
  const ConstRowMap<Scalar> X(data.data(), n, d);  // the caller's memory, no copy
  typename emcluster::KMeans<Scalar>::Options o;
  o.n_clusters = k;
  if (task == "lloyd") {
    const std::vector<double> c0 = read_raw<double>(a.str("init"), static_cast<std::size_t>(k * d));
    o.init = emcluster::KMeansInit::explicit_centers;
    o.initial_centers =
        Eigen::Map<const RowMatrix<double>>(c0.data(), k, d).template cast<Scalar>();
    o.max_iter = static_cast<int>(a.num("iters"));
    o.tol = 0.0;
    o.n_init = 1;
    if (a.str("algorithm", "auto") == "lloyd") o.algorithm = emcluster::KMeansAlgorithm::lloyd;
  } else {
    o.seed = 0;  // task e2e: everything else at its default
  }
  emcluster::KMeans<Scalar> model(o);
  const auto times = time_runs(a.num("reps"), a.real("budget", 10.0), [&] { model.fit(X); });
  const RowMatrix<double> out = model.cluster_centers().template cast<double>();
  write_raw(a.str("out"), out.data(), static_cast<std::size_t>(out.size()));
  print_result(times, model.n_iter(), baseline, threads());
  return 0;
}

/// Options::initial_weights, initial_means and initial_precisions from packed weights (k),
/// means (k x d) and full covariances (k of d x d), in the layout of the covariance type.
void set_initial_parameters(emcluster::GaussianMixture<double>::Options& o,
                            const std::vector<double>& p, Eigen::Index k, Eigen::Index d,
                            const std::string& cov) {
  o.initial_weights = Eigen::Map<const Eigen::VectorXd>(p.data(), k);
  o.initial_means = Eigen::Map<const RowMatrix<double>>(p.data() + k, k, d);
  o.initial_precisions.clear();
  for (Eigen::Index j = 0; j < k; ++j) {
    const Eigen::Map<const Eigen::MatrixXd> S(p.data() + k + k * d + j * d * d, d, d);
    if (cov == "full") {
      o.initial_precisions.push_back(S.llt().solve(Eigen::MatrixXd::Identity(d, d)));
    } else if (cov == "diag") {
      o.initial_precisions.push_back(S.diagonal().cwiseInverse());
    } else {
      o.initial_precisions.push_back(Eigen::MatrixXd::Constant(1, 1, 1.0 / S(0, 0)));
    }
  }
}

int run_gmm(const Args& a) {
  using GMM = emcluster::GaussianMixture<double>;
  const Eigen::Index n = a.num("n"), d = a.num("d"), k = a.num("k");
  const std::string cov = a.str("cov");
  const long baseline = proc_status_kb("VmRSS");
  const std::vector<double> data = read_raw<double>(a.str("x"), static_cast<std::size_t>(n * d));
  const ConstRowMap<double> X(data.data(), n, d);
  const std::vector<double> p =
      read_raw<double>(a.str("gmm"), static_cast<std::size_t>(k * (1 + d + d * d)));
  GMM::Options o;
  o.n_components = k;
  o.covariance_type = cov == "full"   ? emcluster::CovarianceType::full
                      : cov == "diag" ? emcluster::CovarianceType::diagonal
                                      : emcluster::CovarianceType::spherical;
  o.init = emcluster::GaussianMixtureInit::explicit_parameters;
  o.max_iter = static_cast<int>(a.num("iters"));
  o.tol = 0.0;
  set_initial_parameters(o, p, k, d, cov);
  GMM model(o);
  const auto times = time_runs(a.num("reps"), a.real("budget", 10.0), [&] { model.fit(X); });
  // Weights, means, full covariances: the layout of the starting parameters.
  std::vector<double> out;
  for (Eigen::Index j = 0; j < k; ++j) out.push_back(model.weights()(j));
  for (Eigen::Index j = 0; j < k; ++j) {
    for (Eigen::Index c = 0; c < d; ++c) out.push_back(model.means()(j, c));
  }
  for (Eigen::Index j = 0; j < k; ++j) {
    const Eigen::MatrixXd S = model.covariance(j);
    for (Eigen::Index r = 0; r < d; ++r) {
      for (Eigen::Index c = 0; c < d; ++c) out.push_back(S(r, c));
    }
  }
  write_raw(a.str("out"), out.data(), out.size());
  print_result(times, model.n_iter(), baseline, threads());
  return 0;
}

/// Comma-separated items of a list argument.
std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start < list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) items.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

/// task=ceilings: every ceiling on 1 thread and on all threads, as one RESULT line.
int run_ceilings(const Args& a) {
  const int all = ceiling_threads();
  std::vector<int> counts = {1};
  if (all > 1) counts.push_back(all);
  std::string out;
  char buf[160];
  auto add = [&](const std::string& key, int threads, double value) {
    std::snprintf(buf, sizeof(buf), " %s.%d=%.6g", key.c_str(), threads, value);
    out += buf;
  };
  for (const std::string& b : split(a.str("bytes", "-"))) {
    if (b == "-") continue;
    for (int t : counts) add("bw." + b, t, read_bandwidth(std::stoull(b), t));
  }
  for (int t : counts) {
    add("exp", t, transcendental_rate(Transcendental::exp, t));
    add("log", t, transcendental_rate(Transcendental::log, t));
    add("fma.f32", t, fma_rate<float>(t));
    add("fma.f64", t, fma_rate<double>(t));
  }
  std::vector<std::string> shapes = split(a.str("gemm", "-"));
  const std::string square = std::to_string(kSquareGemm);
  for (const char* type : {"f32", "f64"})
    shapes.push_back(std::string(type) + ":" + square + "x" + square + "x" + square);
  for (const std::string& s : shapes) {
    if (s == "-") continue;
    Eigen::Index rows = 0, d = 0, k = 0;
    if (s.size() < 5 || std::sscanf(s.c_str() + 4, "%ldx%ldx%ld", &rows, &d, &k) != 3) {
      throw std::invalid_argument("gemm shape '" + s + "' is not f32:RxDxK or f64:RxDxK");
    }
    const std::string type = s.substr(0, 3);
    for (int t : counts) {
      add("gemm." + type + "." + s.substr(4), t,
          type == "f32" ? eigen_gemm_rate<float>(rows, d, k, t)
                        : eigen_gemm_rate<double>(rows, d, k, t));
    }
  }
  std::printf("RESULT threads=%d%s\n", all, out.c_str());
  return 0;
}

/// The instruction set the kernels were compiled for.
const char* isa() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__)
  return "AVX2";
#else
  return "baseline-ISA";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a(argc, argv, 1);
    const std::string task = a.str("task"), dtype = a.str("dtype", "f64");
    if (task == "info") {
#ifdef _OPENMP
      const char* openmp = "on";
#else
      const char* openmp = "off";
#endif
      std::printf("RESULT isa=%s openmp=%s %s\n", isa(), openmp, threads().c_str());
      return 0;
    }
    if (task == "lloyd" || task == "e2e") {
      return dtype == "f32" ? run_kmeans<float>(a) : run_kmeans<double>(a);
    }
    if (task == "gmm") return run_gmm(a);
    if (task == "ceilings") return run_ceilings(a);
    std::fprintf(stderr, "emcluster_worker: unsupported task %s\n", task.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emcluster_worker: %s\n", e.what());
    return 1;
  }
}
