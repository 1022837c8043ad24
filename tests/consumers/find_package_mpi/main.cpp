// A program outside emcluster's build that links emcluster::mpi: every rank holds a few rows
// of two groups, fits K-means over MPI and checks that it found both groups. Returns non-zero
// on any rank when anything is off, so scripts/test fails.
#include <emcluster/mpi.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstdio>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  // Rank r holds one point near (0, 0) and one near (10, 10).
  Eigen::MatrixXd X(2, 2);
  X << 0.1 * rank, 0.0, 10.0, 10.0 + 0.1 * rank;
  emcluster::KMeans<>::Options opts;
  opts.n_clusters = 2;
  opts.seed = 1;
  emcluster::KMeans<> km(opts);
  emcluster::mpi::fit(km, X, MPI_COMM_WORLD);
  const Eigen::MatrixXd& C = km.cluster_centers();
  const double low = std::min(C(0, 0), C(1, 0)), high = std::max(C(0, 0), C(1, 0));
  int ok = (low < 1.0 && high > 9.0 && km.labels()(0) != km.labels()(1)) ? 1 : 0, all = 0;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (rank == 0)
    std::printf("mpi consumer: centres %.2f and %.2f: %s\n", low, high, all ? "ok" : "FAILED");
  MPI_Finalize();
  return all ? 0 : 1;
}
