// StandardScaler, specified: the estimator contract; agreement with scikit-learn 1.2.1;
// standardised output and the round trip; accumulation in double; constant features; one
// column's statistics independent of the others; the with_mean and with_std options.
#include <catch2/catch.hpp>

#include <emcluster/datasets.hpp>
#include <emcluster/preprocessing.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "support/contract.hpp"

using emcluster::StandardScaler;
using namespace emcluster_test;

// =============================================================================================
// The estimator contract (support/contract.hpp)

namespace emcluster_test::contract {

template <typename S>
struct Traits<StandardScaler<S>> {
  using E = StandardScaler<S>;
  using Scalar = S;
  static constexpr const char* name = "StandardScaler";
  static constexpr bool weighted = false;
  static constexpr Eigen::Index parallel_rows = 40000;

  static std::vector<Variant<E>> variants() {
    typename E::Options only_scale, only_centre;
    only_scale.with_mean = false;
    only_centre.with_std = false;
    return {{"centre and scale", {}},
            {"only scale (with_mean = false)", only_scale},
            {"only centre (with_std = false)", only_centre}};
  }
  static Eigen::Index groups(const E&) { return 0; }
  static void configuration(const E& e) {
    (void)e.options();
    (void)e.is_fitted();
  }
  static std::vector<Call<E>> fitted_accessors() {
    return {{"mean", [](const E& e) { (void)e.mean(); }},
            {"scale", [](const E& e) { (void)e.scale(); }},
            {"var", [](const E& e) { (void)e.var(); }},
            {"n_samples_seen", [](const E& e) { (void)e.n_samples_seen(); }},
            {"n_features", [](const E& e) { (void)e.n_features(); }}};
  }
  static std::vector<DataCall<E>> new_data_methods() {
    return {{"transform", [](const E& e, const Matrix<S>& X) { (void)e.transform(X); }},
            {"inverse_transform",
             [](const E& e, const Matrix<S>& X) { (void)e.inverse_transform(X); }}};
  }
  static std::vector<FitCall<E>> failing_calls(const Matrix<S>& X) {
    Matrix<S> bad = X;
    bad(2, 0) = std::numeric_limits<S>::quiet_NaN();
    return {{"fit_transform: NaN", {"row 2, column 0"}, [bad](E& e) { e.fit_transform(bad); }}};
  }
  static Record state(const E& e) {
    return Record()
        .add("mean", e.mean())
        .add("scale", e.scale())
        .add("var", e.var())
        .add("n_samples_seen", static_cast<double>(e.n_samples_seen()))
        .add("n_features", static_cast<double>(e.n_features()));
  }
  template <typename D>
  static Record outputs(const E& e, const Eigen::MatrixBase<D>& X) {
    return Record()
        .add("transform", e.transform(X))
        .add("inverse_transform", e.inverse_transform(X));
  }
};

}  // namespace emcluster_test::contract

EMCLUSTER_ESTIMATOR_CONTRACT("[preprocessing]", emcluster::StandardScaler<float>,
                             emcluster::StandardScaler<double>)

namespace {

// The scikit-learn fixture: 6 x 4, a constant third column and a fourth column with a large
// offset (1e6) and a small spread.
Eigen::MatrixXd sklearn_matrix() {
  Eigen::MatrixXd X(6, 4);
  X << 1.0, 10.0, 0.1, 1e6 + 0.25,  //
      2.5, -3.0, 0.1, 1e6 - 1.5,    //
      -0.5, 7.25, 0.1, 1e6 + 3.0,   //
      4.0, 100.0, 0.1, 1e6,         //
      3.0, 0.5, 0.1, 1e6 + 0.125,   //
      1.5, 2.0, 0.1, 1e6 - 0.75;
  return X;
}

}  // namespace

// =============================================================================================
// The statistics and the transformation

TEST_CASE("StandardScaler: matches scikit-learn 1.2.1 on a fixed matrix", "[preprocessing]") {
  // Expected values from scikit-learn 1.2.1 (Debian's /usr/bin/python3):
  //   X = np.array(<the matrix of sklearn_matrix()>)
  //   s = StandardScaler().fit(X); print(repr(s.mean_), repr(s.var_), repr(s.scale_),
  //   repr(s.transform(X)))
  const Eigen::MatrixXd X = sklearn_matrix();
  emcluster::StandardScaler<> scaler;
  const Eigen::MatrixXd Z = scaler.fit_transform(X);
  REQUIRE(scaler.is_fitted());
  REQUIRE(scaler.n_features() == 4);
  CHECK(scaler.n_samples_seen() == 6);

  const double mean[4] = {1.9166666666666667e+00, 1.9458333333333332e+01, 9.9999999999999992e-02,
                          1.0000001875000000e+06};
  const double var[4] = {2.1180555555555554, 1315.6753472222222, 0.0, 1.9466145833333333};
  const double scale[4] = {1.455354099714415, 36.272239346671476, 1.0, 1.3952113041877683};
  for (int j = 0; j < 4; ++j) {
    INFO("feature " << j);
    CHECK(scaler.mean()(j) == Approx(mean[j]).epsilon(1e-14));
    CHECK(scaler.var()(j) == Approx(var[j]).epsilon(1e-12).margin(1e-25));
    CHECK(scaler.scale()(j) == Approx(scale[j]).epsilon(1e-12));
  }
  CHECK(scaler.scale()(2) == 1.0);  // constant feature: exactly 1

  // Rows 0 and 3 of scikit-learn's transform.
  const double z0[4] = {-6.2985816774525516e-01, -2.6075956444087800e-01, 1.3877787807814457e-17,
                        4.4796082007366476e-02};
  const double z3[4] = {1.4314958357846703e+00, 2.2204768196661555e+00, 1.3877787807814457e-17,
                        -1.3438824602209942e-01};
  for (int j = 0; j < 4; ++j) {
    INFO("feature " << j);
    // The large-offset column loses ~1e-10 relative to cancellation in x - mean (1e6 vs 1):
    // both implementations round the mean differently in the last bit.
    CHECK(Z(0, j) == Approx(z0[j]).epsilon(1e-9).margin(1e-15));
    CHECK(Z(3, j) == Approx(z3[j]).epsilon(1e-9).margin(1e-15));
  }
}

TEST_CASE("StandardScaler: transformed data have mean 0 and std 1, and inverse_transform undoes it",
          "[preprocessing]") {
  const auto data = emcluster::make_article_data(3, 2.0);
  emcluster::StandardScaler<> scaler;
  const Eigen::MatrixXd Z = scaler.fit_transform(data.X);
  REQUIRE(Z.rows() == data.X.rows());
  const double n = double(Z.rows());
  for (Eigen::Index j = 0; j < Z.cols(); ++j) {
    const double m = Z.col(j).mean();
    const double sd = std::sqrt((Z.col(j).array() - m).square().sum() / n);
    CHECK(std::abs(m) < 1e-14);
    CHECK(std::abs(sd - 1.0) < 1e-14);
  }
  // The accessors describe the data: column mean and population std.
  for (Eigen::Index j = 0; j < Z.cols(); ++j) {
    const double m = data.X.col(j).mean();
    CHECK(scaler.mean()(j) == Approx(m).epsilon(1e-13));
    CHECK(scaler.scale()(j) ==
          Approx(std::sqrt((data.X.col(j).array() - m).square().mean())).epsilon(1e-13));
  }
  const Eigen::MatrixXd back = scaler.inverse_transform(Z);
  CHECK((back - data.X).cwiseAbs().maxCoeff() < 1e-13 * data.X.cwiseAbs().maxCoeff());

  // float: statistics in double, each value rounded once.
  const auto fdata = emcluster::make_article_data<float>(3, 2.0);
  emcluster::StandardScaler<float> fscaler;
  const Eigen::MatrixXf Zf = fscaler.fit_transform(fdata.X);
  CHECK((Zf.cast<double>() - Z).cwiseAbs().maxCoeff() < 1e-5);
  const Eigen::MatrixXf backf = fscaler.inverse_transform(Zf);
  CHECK((backf - fdata.X).cwiseAbs().maxCoeff() < 4e-6f * fdata.X.cwiseAbs().maxCoeff());
}

TEST_CASE("StandardScaler: float data are accumulated in double", "[preprocessing]") {
  // 200000 floats around 1e4 with spread ~0.01: float accumulation of the sum alone would be
  // off by far more than the spread. The float scaler must agree with a double scaler fitted
  // on the same (exactly representable) values to float rounding.
  const Eigen::Index n = 200000;
  Eigen::MatrixXf X(n, 2);
  emcluster::detail::Random rng(5);
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = static_cast<float>(1e4 + 0.01 * rng.normal());
    X(i, 1) = static_cast<float>(rng.uniform(-1.0, 1.0));
  }
  const Eigen::MatrixXd Xd = X.cast<double>();
  emcluster::StandardScaler<float> fs;
  emcluster::StandardScaler<double> ds;
  fs.fit(X);
  ds.fit(Xd);
  for (int j = 0; j < 2; ++j) {
    CHECK(double(fs.mean()(j)) == Approx(ds.mean()(j)).epsilon(1e-7));
    CHECK(double(fs.scale()(j)) == Approx(ds.scale()(j)).epsilon(1e-6));
  }
  // The spread of column 0 is ~0.01 (float spacing near 1e4 is ~0.001, so it is quantised
  // but far from constant).
  CHECK(ds.scale()(0) == Approx(0.01).epsilon(0.05));
  const Eigen::MatrixXf Z = fs.transform(X);
  const Eigen::MatrixXd Zd = ds.transform(Xd);
  CHECK((Z.cast<double>() - Zd).cwiseAbs().maxCoeff() < 1e-5);
}

TEST_CASE("StandardScaler: constant features keep scale 1", "[preprocessing]") {
  Eigen::MatrixXd X(5, 3);
  X << 0.1, 0.0, -7.0,  //
      0.1, 1.0, -7.0,   //
      0.1, 2.0, -7.0,   //
      0.1, 3.0, -7.0,   //
      0.1, 4.0, -7.0;
  emcluster::StandardScaler<> scaler;
  const Eigen::MatrixXd Z = scaler.fit_transform(X);
  CHECK(scaler.scale()(0) == 1.0);
  CHECK(scaler.scale()(2) == 1.0);
  CHECK(scaler.scale()(1) == Approx(std::sqrt(2.0)).epsilon(1e-15));
  CHECK(Z.col(0).cwiseAbs().maxCoeff() < 1e-15);
  CHECK(Z.col(2).cwiseAbs().maxCoeff() == 0.0);
  CHECK(Z.allFinite());
  // One sample: every feature is constant.
  emcluster::StandardScaler<> one;
  const Eigen::MatrixXd Z1 = one.fit_transform(Eigen::RowVector3d(1.0, -2.0, 3.5));
  CHECK(one.scale() == Eigen::Vector3d::Ones());
  CHECK(Z1.cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("StandardScaler: a column's statistics depend only on that column", "[preprocessing]") {
  // The article's data, large enough for several chunks, beside constant columns in a wider
  // matrix: fitted on a block of its first three columns.
  const Eigen::MatrixXd X = emcluster::make_article_data(8, 20.0).X;
  StandardScaler<> a;
  a.fit(X);
  Eigen::MatrixXd wide(X.rows(), 4);
  wide << X.col(0), Eigen::VectorXd::Ones(X.rows()), X.col(1), Eigen::VectorXd::Zero(X.rows());
  StandardScaler<> e;
  e.fit(wide.leftCols(3));
  CHECK(e.mean()(0) == a.mean()(0));
  CHECK(e.mean()(2) == a.mean()(1));
  CHECK(e.scale()(0) == a.scale()(0));
  CHECK(e.scale()(2) == a.scale()(1));
  CHECK(e.scale()(1) == 1.0);
}

TEST_CASE("StandardScaler: with_mean = false only scales, with_std = false only centres",
          "[preprocessing]") {
  const Eigen::MatrixXd X = sklearn_matrix();
  emcluster::StandardScaler<> full;
  full.fit(X);
  emcluster::StandardScaler<>::Options only_scale;
  only_scale.with_mean = false;
  emcluster::StandardScaler<> s(only_scale);
  const Eigen::MatrixXd Z = s.fit_transform(X);
  CHECK(s.mean() == full.mean());
  CHECK(s.scale() == full.scale());
  CHECK((Z - (X.array().rowwise() / full.scale().transpose().array()).matrix())
            .cwiseAbs()
            .maxCoeff() < 1e-9);
  CHECK((s.inverse_transform(Z) - X).cwiseAbs().maxCoeff() < 1e-9);

  emcluster::StandardScaler<>::Options only_center;
  only_center.with_std = false;
  emcluster::StandardScaler<> t(only_center);
  const Eigen::MatrixXd Zt = t.fit_transform(X);
  CHECK(t.scale() == Eigen::Vector4d::Ones());
  CHECK(t.var() == full.var());
  CHECK((Zt - (X.rowwise() - full.mean().transpose())).cwiseAbs().maxCoeff() < 1e-9);
}
