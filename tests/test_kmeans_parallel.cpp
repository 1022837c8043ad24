// k-means|| seeding (KMeansInit::kmeans_parallel) in one process: reproducible bits for any
// thread count, a seeding as good as greedy k-means++ on separated blobs, weights honoured.
#include <Eigen/Core>
#include <catch2/catch.hpp>

#include "emcluster/detail/kmeans_init.hpp"
#include "emcluster/detail/random.hpp"
#include "emcluster/kmeans.hpp"
#include "support/data.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using emcluster::KMeans;
using emcluster::KMeansInit;

TEST_CASE("k-means|| seeding gives the same bits for any thread count", "[kmeans][init]") {
  const Eigen::MatrixXd X = emcluster_test::blobs(40000, 6, 20, 20.0, 31);
  Eigen::MatrixXd C[2];
  for (int t = 0; t < 2; ++t) {
#ifdef _OPENMP
    omp_set_num_threads(t + 1);
#endif
    emcluster::detail::Random rng(5);
    C[t] = emcluster::detail::kmeans_parallel(X, nullptr, 20, 0, rng,
                                              emcluster::detail::LocalReducer(X.rows()));
  }
#ifdef _OPENMP
  omp_set_num_threads(emcluster::detail::max_threads());
#endif
  CHECK(C[0].rows() == 20);
  CHECK(C[0] == C[1]);
}

TEST_CASE("k-means|| seeds one centre in every separated blob", "[kmeans][init]") {
  const Eigen::Index k = 12;
  const Eigen::MatrixXd centres = emcluster_test::axis_centres(k, 12, 50.0);
  const Eigen::MatrixXd X = emcluster_test::blobs_at(centres, 6000, 8);
  emcluster::detail::Random rng(2);
  const Eigen::MatrixXd C = emcluster::detail::kmeans_parallel(
      X, nullptr, k, 0, rng, emcluster::detail::LocalReducer(X.rows()));
  // Every true centre has a seed within a few noise radii.
  for (Eigen::Index j = 0; j < k; ++j) {
    const double nearest = (C.rowwise() - centres.row(j)).rowwise().norm().minCoeff();
    CHECK(nearest < 10.0);
  }
}

TEST_CASE("KMeans with k-means|| reaches the inertia of k-means++", "[kmeans][init]") {
  const Eigen::MatrixXd X = emcluster_test::blobs(8000, 8, 16, 10.0, 3);
  KMeans<>::Options o;
  o.n_clusters = 16;
  o.n_init = 3;
  o.seed = 1;
  KMeans<> plus(o);
  plus.fit(X);
  o.init = KMeansInit::kmeans_parallel;
  KMeans<> parallel(o);
  parallel.fit(X);
  CHECK(parallel.inertia() <= 1.02 * plus.inertia());
  KMeans<> again(o);
  again.fit(X);
  CHECK(again.cluster_centers() == parallel.cluster_centers());
}

TEST_CASE("k-means|| never seeds on a zero-weight row", "[kmeans][init]") {
  Eigen::MatrixXd X = emcluster_test::blobs(3000, 2, 3, 8.0, 4);
  Eigen::VectorXd w = Eigen::VectorXd::Ones(X.rows());
  for (Eigen::Index i = 0; i < 100; ++i) {  // far rows of weight zero
    X.row(i).setConstant(1e4 + static_cast<double>(i));
    w(i) = 0;
  }
  emcluster::detail::Random rng(9);
  const Eigen::MatrixXd C = emcluster::detail::kmeans_parallel(
      X, w.data(), 3, 0, rng, emcluster::detail::LocalReducer(X.rows()));
  CHECK(C.cwiseAbs().maxCoeff() < 1e3);
}
