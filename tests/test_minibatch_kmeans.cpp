// MiniBatchKMeans, specified: the estimator contract; the running-mean update of one step;
// reseeding of centres that absorb nothing; fit and streaming against converged Lloyd;
// reproducibility; option errors.
#include <catch2/catch.hpp>

#include <emcluster/kmeans.hpp>
#include <emcluster/minibatch_kmeans.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "support/contract.hpp"
#include "support/data.hpp"
#include "support/reference.hpp"

using emcluster::KMeansInit;
using emcluster::MiniBatchKMeans;
using namespace emcluster_test;

// =============================================================================================
// The estimator contract (support/contract.hpp)

namespace emcluster_test::contract {

template <typename S>
struct Traits<MiniBatchKMeans<S>> {
  using E = MiniBatchKMeans<S>;
  using Scalar = S;
  static constexpr const char* name = "MiniBatchKMeans";
  static constexpr bool weighted = true;
  static constexpr Eigen::Index parallel_rows = 20000;

  static std::vector<Variant<E>> variants() {
    typename E::Options defaults;
    defaults.n_clusters = 3;
    defaults.seed = 9;
    auto small_batches = defaults;
    small_batches.init = KMeansInit::random_samples;
    small_batches.batch_size = 256;
    small_batches.reassignment_ratio = 0;
    auto estimate_only = defaults;
    estimate_only.init = KMeansInit::explicit_centers;
    estimate_only.initial_centers =
        (Eigen::MatrixXd(3, 3) << -4, 0, 0, 0, 4, 0, 4, 0, 4).finished().template cast<S>();
    estimate_only.compute_labels = false;
    return {{"k-means++, defaults", defaults},
            {"random samples, batches of 256, no reassignment", small_batches},
            {"explicit centres, no labels computed", estimate_only}};
  }
  static Eigen::Index groups(const E& e) { return e.n_clusters(); }
  static void configuration(const E& e) {
    (void)e.options();
    (void)e.n_clusters();
    (void)e.is_fitted();
  }
  static std::vector<Call<E>> fitted_accessors() {
    return {{"cluster_centers", [](const E& e) { (void)e.cluster_centers(); }},
            {"labels", [](const E& e) { (void)e.labels(); }},
            {"inertia", [](const E& e) { (void)e.inertia(); }},
            {"counts", [](const E& e) { (void)e.counts(); }},
            {"n_steps", [](const E& e) { (void)e.n_steps(); }},
            {"n_iter", [](const E& e) { (void)e.n_iter(); }},
            {"n_features", [](const E& e) { (void)e.n_features(); }}};
  }
  static std::vector<DataCall<E>> new_data_methods() {
    return {{"predict", [](const E& e, const Matrix<S>& X) { (void)e.predict(X); }},
            {"transform", [](const E& e, const Matrix<S>& X) { (void)e.transform(X); }},
            {"score", [](const E& e, const Matrix<S>& X) { (void)e.score(X); }}};
  }
  static std::vector<FitCall<E>> failing_calls(const Matrix<S>& X) {
    Matrix<S> bad = X;
    bad(7, 1) = std::numeric_limits<S>::quiet_NaN();
    const Matrix<S> narrow = X.leftCols(2);
    return {{"partial_fit: NaN", {"row 7, column 1", "NaN"}, [bad](E& e) { e.partial_fit(bad); }},
            {"partial_fit: two sample weights",
             {"2 entries"},
             [X](E& e) { e.partial_fit(X, Eigen::VectorXd::Ones(2)); }},
            {"partial_fit: data of another width",
             {"2 columns", "fitted on 3"},
             [narrow](E& e) { e.partial_fit(narrow); },
             true},
            {"fit_predict: NaN", {"row 7, column 1"}, [bad](E& e) { e.fit_predict(bad); }}};
  }
  static Record state(const E& e) {
    return Record()
        .add("cluster_centers", e.cluster_centers())
        .add("labels", e.labels())
        .add("inertia", e.inertia())
        .add("counts", e.counts())
        .add("n_steps", static_cast<double>(e.n_steps()))
        .add("n_iter", e.n_iter())
        .add("n_features", static_cast<double>(e.n_features()));
  }
  template <typename D>
  static Record outputs(const E& e, const Eigen::MatrixBase<D>& X) {
    return Record()
        .add("predict", e.predict(X))
        .add("transform", e.transform(X))
        .add("score", e.score(X));
  }
};

}  // namespace emcluster_test::contract

EMCLUSTER_ESTIMATOR_CONTRACT("[minibatch]", emcluster::MiniBatchKMeans<float>,
                             emcluster::MiniBatchKMeans<double>)

namespace {

// k well separated blobs in d dimensions (centres 10 apart on the axes), blob of row i = i % k.
Eigen::MatrixXd separated_blobs(Eigen::Index n, Eigen::Index d, Eigen::Index k,
                                std::uint64_t seed) {
  return blobs_at(axis_centres(k, d, 10.0), n, seed);
}

}  // namespace

// =============================================================================================
// The update rule

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

TEST_CASE("MiniBatchKMeans: a centre that absorbs nothing is reseeded on a batch row",
          "[minibatch]") {
  const Eigen::MatrixXd X = separated_blobs(400, 2, 2, 5);
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

// =============================================================================================
// Quality and reproducibility

TEST_CASE(
    "MiniBatchKMeans: fit and streaming partial_fit come within a few percent of converged Lloyd",
    "[minibatch]") {
  const Eigen::Index k = 6;
  const Eigen::MatrixXd X = separated_blobs(20000, 6, k, 11);
  // Lloyd converged from the blobs' own centres: the optimum for blobs this far apart.
  const LloydRun lloyd = reference_lloyd(X, Eigen::VectorXd(), axis_centres(k, 6, 10.0), 0.0, 300);
  REQUIRE(lloyd.converged);

  MiniBatchKMeans<>::Options o;
  o.n_clusters = k;
  o.seed = 3;
  MiniBatchKMeans<> mb(o);
  mb.fit(X);
  CHECK(mb.inertia() < 1.02 * lloyd.inertia);
  CHECK(mb.labels().size() == X.rows());
  CHECK(mb.inertia() == Approx(-mb.score(X)).epsilon(1e-12));
  CHECK((mb.predict(X).array() == mb.labels().array()).all());
  CHECK(mb.n_steps() >= 1);

  MiniBatchKMeans<> stream(o);
  for (Eigen::Index b = 0; b < X.rows(); b += 1000) {
    const Eigen::MatrixXd piece = X.middleRows(b, 1000);
    stream.partial_fit(piece);
  }
  CHECK(-stream.score(X) < 1.05 * lloyd.inertia);
  CHECK(stream.n_steps() == 20);
}

TEST_CASE("MiniBatchKMeans: the same seed gives the same model, in float too", "[minibatch]") {
  const Eigen::MatrixXd X = separated_blobs(5000, 3, 4, 2);
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

// =============================================================================================
// Errors beyond the estimator contract

TEST_CASE("MiniBatchKMeans: bad options throw std::invalid_argument", "[minibatch][errors]") {
  const Eigen::MatrixXd X = separated_blobs(300, 2, 3, 1);
  MiniBatchKMeans<>::Options o;
  o.n_clusters = 3;
  auto bad = o;
  bad.batch_size = 0;
  CHECK_THROWS_WITH(MiniBatchKMeans<>(bad).fit(X), Catch::Contains("batch_size"));
  bad = o;
  bad.reassignment_ratio = -1;
  CHECK_THROWS_WITH(MiniBatchKMeans<>(bad).fit(X), Catch::Contains("reassignment_ratio"));
  bad = o;
  bad.n_clusters = 0;
  CHECK_THROWS_WITH(MiniBatchKMeans<>(bad).partial_fit(X), Catch::Contains("n_clusters"));
  bad = o;
  bad.n_clusters = 301;
  CHECK_THROWS_WITH(MiniBatchKMeans<>(bad).fit(X), Catch::Contains("fewer than"));
}
