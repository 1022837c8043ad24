// Distributed fits timed under mpirun (bench/run_mpi.sh runs the table of docs/scaling.md):
// every rank makes its own rows (rows per rank fixed, or a total split evenly), fits K-means
// (Lloyd from given centres, a fixed number of iterations) or a full Gaussian mixture (EM from
// given means, a fixed number of iterations), and rank 0 prints one line of JSON: the time per
// iteration, the bytes this rank contributed to collectives per iteration, and the result.
//
//   mpirun -n 2 mpi_bench kmeans --rows 1000000 --cols 16 -k 16 --iters 20
//   mpirun -n 4 mpi_bench kmeans --rows-per-rank 250000 --cols 16 -k 16
//   mpirun -n 2 mpi_bench mixture --rows 1000000 --cols 2 -k 3
//   mpirun -n 2 mpi_bench allreduce --doubles 272          (the collective alone)
//   mpi_bench seeding --rows 200000 --cols 128 -k 256       (k-means|| vs greedy k-means++)

#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "emcluster/detail/random.hpp"
#include "emcluster/mpi.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Args {
  std::string task;
  Eigen::Index rows = 1000000, rows_per_rank = 0, cols = 16, k = 16, doubles = 272;
  int iters = 20;
};

/// Rows [first, first + count) of a blob data set: k centres uniform in [-3, 3]^d (blobs that
/// overlap, so that Lloyd and EM run their iterations instead of converging at once), unit
/// noise, row g in blob g % k, row g's noise from a stream of its own block of 4096 rows (so
/// the data do not depend on the split across ranks).
Eigen::MatrixXf rows_of(Eigen::Index first, Eigen::Index count, Eigen::Index d, Eigen::Index k) {
  emcluster::detail::Random c(1);
  Eigen::MatrixXf C(k, d);
  for (Eigen::Index j = 0; j < k; ++j)
    for (Eigen::Index f = 0; f < d; ++f) C(j, f) = static_cast<float>(c.uniform(-3.0, 3.0));
  Eigen::MatrixXf X(count, d);
  for (Eigen::Index i = 0; i < count; ++i) {
    const Eigen::Index g = first + i;
    emcluster::detail::Random r(0x5eed + static_cast<std::uint64_t>(g));
    for (Eigen::Index f = 0; f < d; ++f) X(i, f) = C(g % k, f) + static_cast<float>(r.normal());
  }
  return X;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  Args a;
  a.task = argc > 1 ? argv[1] : "kmeans";
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string s = argv[i];
    const long v = std::stol(argv[i + 1]);
    if (s == "--rows") a.rows = v;
    if (s == "--rows-per-rank") a.rows_per_rank = v;
    if (s == "--cols") a.cols = v;
    if (s == "-k") a.k = v;
    if (s == "--iters") a.iters = static_cast<int>(v);
    if (s == "--doubles") a.doubles = v;
  }
  const Eigen::Index total = a.rows_per_rank > 0 ? a.rows_per_rank * size : a.rows;
  const auto slice = emcluster::mpi::slice_of(total, rank, size);
  int threads = 1;
#ifdef _OPENMP
  threads = emcluster::detail::max_threads();
#endif

  if (a.task == "allreduce") {
    std::vector<double> v(static_cast<std::size_t>(a.doubles), 1.0);
    const emcluster::mpi::MpiReducer reducer(MPI_COMM_WORLD, 0);
    for (int w = 0; w < 100; ++w) reducer.sum(v.data(), v.size());
    const int reps = 2000;
    MPI_Barrier(MPI_COMM_WORLD);
    const auto t = Clock::now();
    for (int r = 0; r < reps; ++r) reducer.sum(v.data(), v.size());
    const double us = 1e6 * since(t) / reps;
    if (rank == 0)
      std::printf("{\"task\":\"allreduce\",\"ranks\":%d,\"doubles\":%ld,\"us\":%.2f}\n", size,
                  long(a.doubles), us);
  } else if (a.task == "kmeans" || a.task == "mixture") {
    const Eigen::MatrixXf X = rows_of(slice.first, slice.second, a.cols, a.k);
    const Eigen::MatrixXf start = rows_of(0, a.k, a.cols, a.k);  // row j is in blob j
    emcluster::mpi::Traffic traffic;
    MPI_Barrier(MPI_COMM_WORLD);
    const auto t = Clock::now();
    double objective = 0;
    int iterations = 0;
    Clock::time_point first_iteration, last_iteration;
    auto tick = [&]() {
      last_iteration = Clock::now();
      if (++iterations == 1) first_iteration = last_iteration;
    };
    if (a.task == "kmeans") {
      emcluster::KMeans<float>::Options o;
      o.n_clusters = a.k;
      o.init = emcluster::KMeansInit::explicit_centers;
      o.initial_centers = start;
      o.max_iter = a.iters;
      o.tol = 0;
      o.algorithm = emcluster::KMeansAlgorithm::lloyd;
      o.callback = [&](const emcluster::KMeansIteration&) { tick(); };
      emcluster::KMeans<float> km(o);
      emcluster::mpi::fit(km, X, MPI_COMM_WORLD, &traffic);
      objective = km.inertia();
    } else {
      emcluster::GaussianMixture<float>::Options o;
      o.n_components = a.k;
      o.init = emcluster::GaussianMixtureInit::explicit_parameters;
      o.initial_means = start;
      o.max_iter = a.iters;
      o.tol = 0;
      o.callback = [&](const emcluster::GaussianMixtureIteration&) { tick(); };
      emcluster::GaussianMixture<float> gm(o);
      emcluster::mpi::fit(gm, X, MPI_COMM_WORLD, &traffic);
      objective = gm.lower_bound();
    }
    const double seconds = since(t);
    // Per iteration: between the first and the last iteration's callbacks (the fit's checks,
    // tolerance and final labelling excluded).
    const double per_iteration =
        iterations > 1 ? std::chrono::duration<double>(last_iteration - first_iteration).count() /
                             (iterations - 1)
                       : seconds;
    if (rank == 0)
      std::printf(
          "{\"task\":\"%s\",\"ranks\":%d,\"threads\":%d,\"rows\":%ld,\"rows_per_rank\":%ld,"
          "\"cols\":%ld,\"k\":%ld,\"iterations\":%d,\"seconds\":%.4f,\"ms_per_iteration\":%.3f,"
          "\"collectives\":%lld,\"bytes\":%lld,\"objective\":%.10g}\n",
          a.task.c_str(), size, threads, long(total), long(slice.second), long(a.cols), long(a.k),
          iterations, seconds, 1e3 * per_iteration, traffic.collectives, traffic.bytes, objective);
  } else if (a.task == "seeding") {
    const Eigen::MatrixXf X = rows_of(slice.first, slice.second, a.cols, a.k);
    for (auto init :
         {emcluster::KMeansInit::kmeans_plus_plus, emcluster::KMeansInit::kmeans_parallel}) {
      emcluster::KMeans<float>::Options o;
      o.n_clusters = a.k;
      o.init = init;
      o.n_init = 1;
      o.seed = 3;
      emcluster::KMeans<float> km(o);
      const emcluster::mpi::MpiReducer reducer(MPI_COMM_WORLD, X.rows());
      emcluster::detail::Random rng(7);
      MPI_Barrier(MPI_COMM_WORLD);
      auto t = Clock::now();
      const Eigen::MatrixXd C =
          init == emcluster::KMeansInit::kmeans_parallel
              ? emcluster::detail::kmeans_parallel(X, nullptr, a.k, 0, rng, reducer)
              : emcluster::detail::kmeans_plus_plus(X, nullptr, a.k, 0, rng, reducer);
      const double seed_seconds = since(t);
      t = Clock::now();
      emcluster::mpi::fit(km, X, MPI_COMM_WORLD);
      const double fit_seconds = since(t);
      if (rank == 0)
        std::printf(
            "{\"task\":\"seeding\",\"init\":\"%s\",\"ranks\":%d,\"threads\":%d,\"rows\":%ld,"
            "\"cols\":%ld,\"k\":%ld,\"seed_seconds\":%.3f,\"fit_seconds\":%.3f,\"iterations\":%d,"
            "\"inertia\":%.8g}\n",
            init == emcluster::KMeansInit::kmeans_parallel ? "k-means||" : "k-means++", size,
            threads, long(total), long(a.cols), long(a.k), seed_seconds, fit_seconds, km.n_iter(),
            km.inertia());
    }
  }
  MPI_Finalize();
  return 0;
}
