// K-means (or a Gaussian mixture, or mclust's model search) fitted over MPI: every rank reads
// its own contiguous slice of one data file (or makes its own synthetic rows), all ranks fit
// together, and rank 0 prints the model, the time of every iteration and the collective
// traffic.
//
//   mpirun -n 4 ./distributed_kmeans --npy data.npy -k 16
//   mpirun -n 4 ./distributed_kmeans --raw data.f32 --dtype f32 --cols 16 -k 16
//   mpirun -n 4 ./distributed_kmeans --rows 250000 --cols 16 -k 16       (synthetic rows)
//   mpirun -n 4 ./distributed_kmeans --rows 250000 --cols 2 -k 3 --mixture full
//   mpirun -n 4 ./distributed_kmeans --rows 250000 --cols 2 -k 3 --search 6   (k = 1..6, BIC)
//
// Across machines: mpirun --hostfile hosts -n 16 ./distributed_kmeans ... (Open MPI's
// documentation: https://docs.open-mpi.org/en/main/launching-apps/scheduling.html).

#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "emcluster/datasets.hpp"
#include "emcluster/mpi.hpp"

namespace {

struct Args {
  std::string npy, raw, dtype = "f64", mixture;
  Eigen::Index rows = 250000, cols = 16, k = 16;
  int max_iter = 100;
  std::uint64_t seed = 1;
  Eigen::Index search = 0;  // > 0: GaussianMixtureSearch over k = 1..search
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(s + " needs a value");
      return argv[++i];
    };
    if (s == "--npy") {
      a.npy = next();
    } else if (s == "--raw") {
      a.raw = next();
    } else if (s == "--dtype") {
      a.dtype = next();
    } else if (s == "--rows") {
      a.rows = std::stol(next());
    } else if (s == "--cols") {
      a.cols = std::stol(next());
    } else if (s == "-k") {
      a.k = std::stol(next());
    } else if (s == "--max-iter") {
      a.max_iter = std::stoi(next());
    } else if (s == "--seed") {
      a.seed = std::stoull(next());
    } else if (s == "--mixture") {
      a.mixture = next();
    } else if (s == "--search") {
      a.search = std::stol(next());
    } else {
      throw std::invalid_argument("unknown argument " + s);
    }
  }
  return a;
}

/// This rank's rows: its slice of the file, or synthetic blobs made by the rank itself (the
/// same blob centres on every rank, the noise seeded by the rank).
Eigen::MatrixXd my_rows(const Args& a, int rank, int size) {
  if (!a.npy.empty()) return emcluster::mpi::read_npy_slice<double>(a.npy, MPI_COMM_WORLD);
  if (!a.raw.empty()) {
    const auto dtype =
        a.dtype == "f32" ? emcluster::NpyDType::float32 : emcluster::NpyDType::float64;
    return emcluster::mpi::read_raw_slice<double>(a.raw, dtype, a.cols, MPI_COMM_WORLD);
  }
  const Eigen::Index first = a.rows * rank / size, last = a.rows * (rank + 1) / size;
  emcluster::detail::Random centres_rng(a.seed);
  Eigen::MatrixXd C(a.k, a.cols);
  for (Eigen::Index j = 0; j < a.k; ++j)
    for (Eigen::Index f = 0; f < a.cols; ++f) C(j, f) = centres_rng.uniform(-10.0, 10.0);
  emcluster::detail::Random noise(a.seed + 1000 + static_cast<std::uint64_t>(rank));
  Eigen::MatrixXd X(last - first, a.cols);
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index f = 0; f < a.cols; ++f) X(i, f) = C((first + i) % a.k, f) + noise.normal();
  return X;
}

using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int status = 0;
  try {
    const Args a = parse(argc, argv);
    const Eigen::MatrixXd X = my_rows(a, rank, size);
    std::vector<double> seconds;  // of every iteration, on this rank
    auto last = Clock::now();
    auto tick = [&]() {
      const auto now = Clock::now();
      seconds.push_back(std::chrono::duration<double>(now - last).count());
      last = now;
    };
    emcluster::mpi::Traffic traffic;
    const auto start = Clock::now();
    if (a.search > 0) {
      // mclust's model selection on the rows of every rank: k = 1..search, the four
      // covariance types, BIC; every candidate a distributed fit.
      emcluster::GaussianMixtureSearch<>::Options o;
      o.n_components.clear();
      for (Eigen::Index k = 1; k <= a.search; ++k) o.n_components.push_back(k);
      o.seed = a.seed;
      o.callback = [&](const emcluster::MixtureCandidate&) { tick(); };
      emcluster::GaussianMixtureSearch<> search(o);
      emcluster::mpi::fit(search, X, MPI_COMM_WORLD, &traffic);
      if (rank == 0) {
        std::printf("GaussianMixtureSearch on %d ranks, %zu candidates:\n%s", size,
                    search.results().size(), search.summary().c_str());
      }
    } else if (a.mixture.empty()) {
      emcluster::KMeans<>::Options o;
      o.n_clusters = a.k;
      o.n_init = 1;
      o.max_iter = a.max_iter;
      o.seed = a.seed;
      o.init = emcluster::KMeansInit::kmeans_parallel;
      o.algorithm = emcluster::KMeansAlgorithm::lloyd;
      o.callback = [&](const emcluster::KMeansIteration&) { tick(); };
      emcluster::KMeans<> km(o);
      emcluster::mpi::fit(km, X, MPI_COMM_WORLD, &traffic);
      if (rank == 0) {
        std::printf("KMeans k=%ld on %d ranks: %d iterations, inertia %.6g\n", long(a.k), size,
                    km.n_iter(), km.inertia());
        const Eigen::MatrixXd& C = km.cluster_centers();
        for (Eigen::Index j = 0; j < std::min<Eigen::Index>(C.rows(), 8); ++j) {
          std::printf("  centre %ld:", long(j));
          for (Eigen::Index f = 0; f < std::min<Eigen::Index>(C.cols(), 6); ++f)
            std::printf(" %9.4f", C(j, f));
          std::printf("%s\n", C.cols() > 6 ? " ..." : "");
        }
      }
    } else {
      emcluster::GaussianMixture<>::Options o;
      o.n_components = a.k;
      o.max_iter = a.max_iter;
      o.seed = a.seed;
      o.covariance_type = a.mixture == "tied"        ? emcluster::CovarianceType::tied
                          : a.mixture == "diagonal"  ? emcluster::CovarianceType::diagonal
                          : a.mixture == "spherical" ? emcluster::CovarianceType::spherical
                                                     : emcluster::CovarianceType::full;
      o.init = emcluster::GaussianMixtureInit::kmeans_plus_plus;
      o.callback = [&](const emcluster::GaussianMixtureIteration&) { tick(); };
      emcluster::GaussianMixture<> gm(o);
      emcluster::mpi::fit(gm, X, MPI_COMM_WORLD, &traffic);
      if (rank == 0) {
        std::printf("GaussianMixture (%s) k=%ld on %d ranks: %d iterations, lower bound %.6g\n",
                    a.mixture.c_str(), long(a.k), size, gm.n_iter(), gm.lower_bound());
        for (Eigen::Index j = 0; j < std::min<Eigen::Index>(a.k, 8); ++j)
          std::printf("  component %ld: weight %.4f, mean[0] %.4f\n", long(j), gm.weights()(j),
                      gm.means()(j, 0));
      }
    }
    const double total = std::chrono::duration<double>(Clock::now() - start).count();
    long long rows = X.rows(), all_rows = 0;
    MPI_Reduce(&rows, &all_rows, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      double sum = 0;
      for (double s : seconds) sum += s;
      const double per =
          seconds.size() > 1 ? (sum - seconds.front()) / double(seconds.size() - 1) : sum;
      std::printf("%lld rows x %ld columns, %lld on rank 0\n", all_rows, long(X.cols()), rows);
      std::printf("fit: %.3f s; per %s (after the first): %.3f ms\n", total,
                  a.search > 0 ? "candidate" : "iteration", 1e3 * per);
      std::printf("traffic of rank 0: %lld collectives, %lld payload bytes", traffic.collectives,
                  traffic.bytes);
      if (!seconds.empty())
        std::printf(" (%.0f bytes per %s on average)",
                    double(traffic.bytes) / double(seconds.size()),
                    a.search > 0 ? "candidate" : "iteration");
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    // The fits and readers throw the same exception on every rank: each leaves cleanly.
    if (rank == 0) std::fprintf(stderr, "distributed_kmeans: %s\n", e.what());
    status = 1;
  }
  MPI_Finalize();
  return status;
}
