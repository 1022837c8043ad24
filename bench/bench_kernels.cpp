/// @file bench/bench_kernels.cpp
/// @brief Google Benchmark microbenchmarks of emcluster's real code paths at the shapes of
/// the comparison's workloads (compare.cpp), scaled down to run quickly: Lloyd iterations
/// (KMeans::fit from explicit centres, tol = 0, a fixed max_iter), predict (one assignment
/// pass), and greedy k-means++ seeding, for float and double.
///
/// Counters: `pass` is the time of one pass over the data. A fit of Lloyd runs n_iter
/// iterations (assignment + update) plus one final assignment pass for the labels of the
/// final centres, so `pass` = fit time / (n_iter + 1); `iters` is n_iter.
///
///   build/bench/emcluster_bench_kernels --benchmark_filter=Lloyd
#include <benchmark/benchmark.h>

#include <emcluster/kmeans.hpp>

#include <map>
#include <string>
#include <tuple>

#include "workloads.hpp"

namespace {

using emcluster_bench::RowMatrix;

/// The comparison's workloads at 1/5 to 1/10 of their size (k and d unchanged).
struct Shape {
  const char* name;
  Eigen::Index n, d, k;
};
constexpr Shape kShapes[] = {
    {"article_200k_x2_k3", 200000, 2, 3},
    {"blobs_100k_x16_k16", 100000, 16, 16},
    {"blobs_20k_x128_k256", 20000, 128, 256},
    {"blobs_50k_x8_k8", 50000, 8, 8},
};

/// Data and starting centres per (shape, scalar type), generated once.
template <typename Scalar>
const std::pair<RowMatrix<Scalar>, Eigen::MatrixXd>& data(int shape) {
  static std::map<int, std::pair<RowMatrix<Scalar>, Eigen::MatrixXd>> cache;
  auto it = cache.find(shape);
  if (it == cache.end()) {
    const Shape& s = kShapes[shape];
    RowMatrix<Scalar> X = shape == 0
                              ? emcluster_bench::article_data<Scalar>(s.n, 42)
                              : emcluster_bench::blobs<Scalar>(s.n, s.d, s.k, 1.5, 1 + shape);
    Eigen::MatrixXd C0 = emcluster_bench::random_rows(X, s.k, 1);
    it = cache.emplace(shape, std::make_pair(std::move(X), std::move(C0))).first;
  }
  return it->second;
}

void label(benchmark::State& state, int shape, const char* scalar, const char* extra = "") {
  state.SetLabel(std::string(kShapes[shape].name) + " " + scalar + extra);
}

const char* kernel_name(emcluster::AssignKernel k) {
  switch (k) {
    case emcluster::AssignKernel::direct:
      return " direct";
    case emcluster::AssignKernel::gemm:
      return " gemm";
    default:
      return " auto";
  }
}

const char* algorithm_name(emcluster::KMeansAlgorithm a) {
  switch (a) {
    case emcluster::KMeansAlgorithm::lloyd:
      return " lloyd";
    case emcluster::KMeansAlgorithm::hamerly:
      return " hamerly";
    default:
      return " auto";
  }
}

/// KMeans::fit from explicit centres, tol = 0, max_iter = 10; arguments: shape, assignment
/// kernel, algorithm.
template <typename Scalar>
void BM_Lloyd(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const auto kernel = static_cast<emcluster::AssignKernel>(state.range(1));
  const auto algorithm = static_cast<emcluster::KMeansAlgorithm>(state.range(2));
  const auto& [X, C0] = data<Scalar>(shape);
  typename emcluster::KMeans<Scalar>::Options o;
  o.n_clusters = C0.rows();
  o.init = emcluster::KMeansInit::explicit_centers;
  o.initial_centers = C0.template cast<Scalar>();
  o.max_iter = 10;
  o.tol = 0.0;
  o.kernel = kernel;
  o.algorithm = algorithm;
  emcluster::KMeans<Scalar> km(o);
  int iters = 0;
  for (auto _ : state) {
    km.fit(X);
    iters = km.n_iter();
    benchmark::DoNotOptimize(km.inertia());
  }
  state.counters["iters"] = iters;
  state.counters["pass"] = benchmark::Counter(
      iters + 1, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(state.iterations() * X.rows() * (iters + 1));
  label(state, shape, sizeof(Scalar) == 4 ? "f32" : "f64",
        (std::string(kernel_name(kernel)) + algorithm_name(algorithm)).c_str());
}

/// KMeans::predict: one assignment pass with the fitted centres.
template <typename Scalar>
void BM_Predict(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const auto& [X, C0] = data<Scalar>(shape);
  typename emcluster::KMeans<Scalar>::Options o;
  o.n_clusters = C0.rows();
  o.init = emcluster::KMeansInit::explicit_centers;
  o.initial_centers = C0.template cast<Scalar>();
  o.max_iter = 1;
  emcluster::KMeans<Scalar> km(o);
  km.fit(X);
  for (auto _ : state) {
    Eigen::VectorXi labels = km.predict(X);
    benchmark::DoNotOptimize(labels.data());
  }
  state.SetItemsProcessed(state.iterations() * X.rows());
  label(state, shape, sizeof(Scalar) == 4 ? "f32" : "f64");
}

/// Greedy k-means++ seeding (2 + ln k candidates per centre) on all the data.
template <typename Scalar>
void BM_KMeansPlusPlus(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const auto& [X, C0] = data<Scalar>(shape);
  std::uint64_t seed = 0;
  for (auto _ : state) {
    emcluster::detail::Random rng(seed++);
    Eigen::MatrixXd C = emcluster::detail::kmeans_plus_plus(X, nullptr, C0.rows(), 0, rng);
    benchmark::DoNotOptimize(C.data());
  }
  state.SetItemsProcessed(state.iterations() * X.rows() * C0.rows());
  label(state, shape, sizeof(Scalar) == 4 ? "f32" : "f64");
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int s = 0; s < 4; ++s) b->Arg(s);
}

void shapes_and_kernels(benchmark::internal::Benchmark* b) {
  using emcluster::AssignKernel;
  using emcluster::KMeansAlgorithm;
  for (int s = 0; s < 4; ++s) {
    b->Args({s, static_cast<long>(AssignKernel::automatic),
             static_cast<long>(KMeansAlgorithm::automatic)});
    b->Args({s, static_cast<long>(AssignKernel::automatic),
             static_cast<long>(KMeansAlgorithm::hamerly)});
    for (auto k : {AssignKernel::automatic, AssignKernel::direct, AssignKernel::gemm}) {
      b->Args({s, static_cast<long>(k), static_cast<long>(KMeansAlgorithm::lloyd)});
    }
  }
}

}  // namespace

BENCHMARK(BM_Lloyd<float>)->Apply(shapes_and_kernels)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Lloyd<double>)
    ->Apply(shapes_and_kernels)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Predict<float>)->Apply(shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Predict<double>)->Apply(shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_KMeansPlusPlus<float>)->Apply(shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_KMeansPlusPlus<double>)->Apply(shapes)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
