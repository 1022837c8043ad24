// Tests of MiniBatchKMeans: the update rule against a hand computation, reassignment,
// streaming, reproducibility and bad input.
#include <catch2/catch.hpp>

#include <emcluster/kmeans.hpp>
#include <emcluster/minibatch_kmeans.hpp>

#include <cmath>
#include <vector>

namespace {

using emcluster::KMeansInit;
using emcluster::MiniBatchKMeans;

// k well separated blobs in d dimensions, blob of row i = i % k.
Eigen::MatrixXd blobs(Eigen::Index n, Eigen::Index d, Eigen::Index k, std::uint64_t seed) {
  emcluster::detail::Random rng(seed);
  Eigen::MatrixXd X(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) X(i, j) = rng.normal() + 10.0 * static_cast<double>((i % k) == (j % k));
  }
  return X;
}

}  // namespace

TEST_CASE("MiniBatchKMeans: one partial_fit step follows the running-mean update", "[minibatch]") {
  Eigen::MatrixXd X(6, 2);
  X << 0, 0, 1, 0, 0, 1, 10, 10, 11, 10, 10, 12;
  MiniBatchKMeans<>::Options o;
  o.n_clusters = 2;
  o.init = KMeansInit::explicit_centers;
  o.initial_centers = (Eigen::MatrixXd(2, 2) << 1, 1, 9, 9).finished();
  o.reassignment_ratio = 0;
  MiniBatchKMeans<> mb(o);
  mb.partial_fit(X);
  // Counts start at zero, so after one step each centre is the mean of its batch points.
  Eigen::MatrixXd expected(2, 2);
  expected << 1.0 / 3, 1.0 / 3, 31.0 / 3, 32.0 / 3;
  CHECK((mb.cluster_centers() - expected).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(mb.counts()(0) == 3);
  CHECK(mb.counts()(1) == 3);
  // A second step with the same rows: (c * 3 + sum) / 6 = c, the centres stay put.
  mb.partial_fit(X);
  CHECK((mb.cluster_centers() - expected).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(mb.counts()(0) == 6);
  // A weighted step: weight 3 on one point of the first cluster.
  Eigen::MatrixXd one(1, 2);
  one << 0, 0;
  mb.partial_fit(one, Eigen::VectorXd::Constant(1, 3.0));
  CHECK(mb.cluster_centers()(0, 0) == Approx((1.0 / 3 * 6 + 0.0) / 9).epsilon(1e-12));
  CHECK(mb.counts()(0) == 9);
  CHECK(mb.n_steps() == 3);
}

TEST_CASE("MiniBatchKMeans: a centre that absorbs nothing is reseeded on a batch row", "[minibatch]") {
  const Eigen::MatrixXd X = blobs(400, 2, 2, 5);
  MiniBatchKMeans<>::Options o;
  o.n_clusters = 3;
  o.init = KMeansInit::explicit_centers;
  o.initial_centers = (Eigen::MatrixXd(3, 2) << 10, 0, 0, 10, 1000, 1000).finished();
  MiniBatchKMeans<> mb(o);
  mb.partial_fit(X);
  const Eigen::RowVectorXd moved = mb.cluster_centers().row(2);
  CHECK(moved.norm() < 100);  // left (1000, 1000) for a data row
  bool is_row = false;
  for (Eigen::Index i = 0; i < X.rows(); ++i) is_row = is_row || (X.row(i) - moved).norm() == 0;
  CHECK(is_row);
  CHECK(mb.counts()(2) > 0);
}

TEST_CASE("MiniBatchKMeans: fit and streaming partial_fit come close to full K-means", "[minibatch]") {
  const Eigen::MatrixXd X = blobs(20000, 6, 6, 11);
  emcluster::KMeans<>::Options ko;
  ko.n_clusters = 6;
  ko.seed = 1;
  emcluster::KMeans<> km(ko);
  km.fit(X);

  MiniBatchKMeans<>::Options o;
  o.n_clusters = 6;
  o.seed = 3;
  MiniBatchKMeans<> mb(o);
  mb.fit(X);
  CHECK(mb.inertia() < 1.02 * km.inertia());
  CHECK(mb.labels().size() == X.rows());
  CHECK(mb.inertia() == Approx(-mb.score(X)).epsilon(1e-12));
  CHECK((mb.predict(X).array() == mb.labels().array()).all());
  CHECK(mb.n_steps() >= 1);

  MiniBatchKMeans<> stream(o);
  for (Eigen::Index b = 0; b < X.rows(); b += 1000) stream.partial_fit(X.middleRows(b, 1000));
  CHECK(-stream.score(X) < 1.05 * km.inertia());
  CHECK(stream.n_steps() == 20);
}

TEST_CASE("MiniBatchKMeans: the same seed gives the same model, float works too", "[minibatch]") {
  const Eigen::MatrixXd X = blobs(5000, 3, 4, 2);
  MiniBatchKMeans<>::Options o;
  o.n_clusters = 4;
  o.seed = 9;
  o.batch_size = 256;
  MiniBatchKMeans<> a(o), b(o);
  a.fit(X);
  b.fit(X);
  CHECK(a.cluster_centers() == b.cluster_centers());
  CHECK(a.n_steps() == b.n_steps());

  MiniBatchKMeans<float>::Options of;
  of.n_clusters = 4;
  of.seed = 9;
  MiniBatchKMeans<float> f(of);
  const Eigen::MatrixXf Xf = X.cast<float>();
  f.fit(Xf);
  CHECK(f.inertia() < 1.05 * a.inertia());
  CHECK(std::isfinite(f.inertia()));
}

TEST_CASE("MiniBatchKMeans: bad input throws and leaves the model unchanged", "[minibatch]") {
  const Eigen::MatrixXd X = blobs(300, 2, 3, 1);
  MiniBatchKMeans<>::Options o;
  o.n_clusters = 3;
  SECTION("options") {
    auto bad = o;
    bad.batch_size = 0;
    CHECK_THROWS_AS(MiniBatchKMeans<>(bad).fit(X), std::invalid_argument);
    bad = o;
    bad.reassignment_ratio = -1;
    CHECK_THROWS_AS(MiniBatchKMeans<>(bad).fit(X), std::invalid_argument);
    bad = o;
    bad.n_clusters = 0;
    CHECK_THROWS_AS(MiniBatchKMeans<>(bad).partial_fit(X), std::invalid_argument);
    bad = o;
    bad.n_clusters = 301;
    CHECK_THROWS_AS(MiniBatchKMeans<>(bad).fit(X), std::invalid_argument);
  }
  SECTION("data and state") {
    MiniBatchKMeans<> mb(o);
    CHECK_THROWS_AS(mb.predict(X), emcluster::not_fitted_error);
    mb.partial_fit(X);
    const Eigen::MatrixXd centers = mb.cluster_centers();
    const Eigen::VectorXd counts = mb.counts();
    Eigen::MatrixXd bad = X;
    bad(7, 1) = std::nan("");
    CHECK_THROWS_WITH(mb.partial_fit(bad), Catch::Contains("row 7, column 1"));
    CHECK_THROWS_AS(mb.partial_fit(Eigen::MatrixXd::Zero(5, 3)), std::invalid_argument);
    CHECK_THROWS_AS(mb.partial_fit(X, Eigen::VectorXd::Ones(2)), std::invalid_argument);
    CHECK(mb.cluster_centers() == centers);
    CHECK(mb.counts() == counts);
    CHECK(mb.n_steps() == 1);
  }
}
