/// @file bench/emcluster_worker.cpp
/// @brief Comparison worker: emcluster itself (KMeans, GaussianMixture), run by
/// emcluster_compare in its own process like the peers; see bench/worker.hpp for the protocol.
///
///   task=info                                   the build: ISA, OpenMP, threads
///   task=lloyd x= dtype= n= d= k= init= iters= reps= budget= out=
///       KMeans from the given centres, max_iter = iters, tol = 0, n_init = 1
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
    std::fprintf(stderr, "emcluster_worker: unsupported task %s\n", task.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emcluster_worker: %s\n", e.what());
    return 1;
  }
}
