// Tests of emcluster/preprocessing.hpp: StandardScaler.
#include <catch2/catch.hpp>

#include "test_support.hpp"

#include <emcluster/datasets.hpp>
#include <emcluster/preprocessing.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The scikit-learn fixture: 6 x 4, a constant third column and a fourth column with a large
// offset (1e6) and a small spread.
Eigen::MatrixXd sklearn_matrix() {
  Eigen::MatrixXd X(6, 4);
  X << 1.0, 10.0, 0.1, 1e6 + 0.25,  //
      2.5, -3.0, 0.1, 1e6 - 1.5,     //
      -0.5, 7.25, 0.1, 1e6 + 3.0,    //
      4.0, 100.0, 0.1, 1e6,          //
      3.0, 0.5, 0.1, 1e6 + 0.125,    //
      1.5, 2.0, 0.1, 1e6 - 0.75;
  return X;
}

using emcluster_test::require_throw_with;

}  // namespace

TEST_CASE("StandardScaler matches scikit-learn 1.2.1 on a fixed matrix", "[preprocessing]") {
  // Expected values from scikit-learn 1.2.1 (Debian's /usr/bin/python3):
  //   X = np.array(<the matrix of sklearn_matrix()>)
  //   s = StandardScaler().fit(X); print(repr(s.mean_), repr(s.var_), repr(s.scale_), repr(s.transform(X)))
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

TEST_CASE("StandardScaler: transformed data have mean 0 and std 1; inverse round-trips", "[preprocessing]") {
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
    CHECK(scaler.scale()(j) == Approx(std::sqrt((data.X.col(j).array() - m).square().mean())).epsilon(1e-13));
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

TEST_CASE("StandardScaler<float> accumulates in double", "[preprocessing]") {
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

TEST_CASE("StandardScaler: storage order, Map and expressions give identical bits", "[preprocessing]") {
  // Enough rows for several chunks.
  const auto data = emcluster::make_article_data(8, 20.0);
  const Eigen::MatrixXd X = data.X;
  const RowMatrixXd Xr = X;
  std::vector<double> buffer(static_cast<std::size_t>(X.size()));
  Eigen::Map<RowMatrixXd>(buffer.data(), X.rows(), X.cols()) = X;
  const Eigen::Map<const RowMatrixXd> Xm(buffer.data(), X.rows(), X.cols());

  emcluster::StandardScaler<> a, b, c, d;
  const Eigen::MatrixXd Za = a.fit_transform(X);
  const Eigen::MatrixXd Zb = b.fit_transform(Xr);
  const Eigen::MatrixXd Zc = c.fit_transform(Xm);
  const Eigen::MatrixXd Zd = d.fit_transform(X * 1.0 + Eigen::MatrixXd::Zero(X.rows(), X.cols()));
  CHECK(a.mean() == b.mean());
  CHECK(a.scale() == b.scale());
  CHECK(a.mean() == c.mean());
  CHECK(a.scale() == c.scale());
  CHECK(a.mean() == d.mean());
  CHECK(a.scale() == d.scale());
  CHECK(Za == Zb);
  CHECK(Za == Zc);
  CHECK(Za == Zd);
  CHECK(a.transform(Xr.topRows(100)) == Za.topRows(100));
  CHECK(a.inverse_transform(RowMatrixXd(Za)) == a.inverse_transform(Za));
  // A block of a larger matrix (a column slice).
  Eigen::MatrixXd wide(X.rows(), 4);
  wide << X.col(0), Eigen::VectorXd::Ones(X.rows()), X.col(1), Eigen::VectorXd::Zero(X.rows());
  emcluster::StandardScaler<> e;
  e.fit(wide.leftCols(3));
  CHECK(e.mean()(0) == a.mean()(0));
  CHECK(e.mean()(2) == a.mean()(1));
  CHECK(e.scale()(2) == a.scale()(1));

#ifdef _OPENMP
  // Thread count: the same bits with one thread.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  emcluster::StandardScaler<> single;
  single.fit(X);
  omp_set_num_threads(threads);
  CHECK(single.mean() == a.mean());
  CHECK(single.scale() == a.scale());
#endif
}

TEST_CASE("StandardScaler options: with_mean and with_std", "[preprocessing]") {
  const Eigen::MatrixXd X = sklearn_matrix();
  emcluster::StandardScaler<> full;
  full.fit(X);
  emcluster::StandardScaler<>::Options only_scale;
  only_scale.with_mean = false;
  emcluster::StandardScaler<> s(only_scale);
  const Eigen::MatrixXd Z = s.fit_transform(X);
  CHECK(s.mean() == full.mean());
  CHECK(s.scale() == full.scale());
  CHECK((Z - (X.array().rowwise() / full.scale().transpose().array()).matrix()).cwiseAbs().maxCoeff() < 1e-9);
  CHECK((s.inverse_transform(Z) - X).cwiseAbs().maxCoeff() < 1e-9);

  emcluster::StandardScaler<>::Options only_center;
  only_center.with_std = false;
  emcluster::StandardScaler<> t(only_center);
  const Eigen::MatrixXd Zt = t.fit_transform(X);
  CHECK(t.scale() == Eigen::Vector4d::Ones());
  CHECK(t.var() == full.var());
  CHECK((Zt - (X.rowwise() - full.mean().transpose())).cwiseAbs().maxCoeff() < 1e-9);
}

TEST_CASE("StandardScaler errors", "[preprocessing]") {
  emcluster::StandardScaler<> scaler;
  const Eigen::MatrixXd X = sklearn_matrix();
  CHECK_FALSE(scaler.is_fitted());
  CHECK(scaler.n_features() == 0);
  CHECK_THROWS_AS(scaler.transform(X), emcluster::not_fitted_error);
  CHECK_THROWS_AS(scaler.inverse_transform(X), emcluster::not_fitted_error);
  CHECK_THROWS_AS(scaler.mean(), emcluster::not_fitted_error);
  CHECK_THROWS_AS(scaler.scale(), emcluster::not_fitted_error);

  Eigen::MatrixXd bad = X;
  bad(2, 1) = std::nan("");
  require_throw_with<std::invalid_argument>([&] { scaler.fit(bad); }, "row 2, column 1");
  CHECK_FALSE(scaler.is_fitted());
  bad(2, 1) = -INFINITY;
  require_throw_with<std::invalid_argument>([&] { scaler.fit(bad); }, "Inf");
  require_throw_with<std::invalid_argument>([&] { scaler.fit(Eigen::MatrixXd(0, 3)); }, "empty");

  // A failed fit leaves a fitted scaler unchanged.
  scaler.fit(X);
  const Eigen::VectorXd mean = scaler.mean(), scale = scaler.scale();
  const Eigen::MatrixXd Z = scaler.transform(X);
  Eigen::MatrixXd bad_wide(3, 7);
  bad_wide.setOnes();
  bad_wide(1, 6) = std::nan("");
  require_throw_with<std::invalid_argument>([&] { scaler.fit(bad_wide); }, "row 1, column 6");
  CHECK(scaler.n_features() == 4);
  CHECK(scaler.mean() == mean);
  CHECK(scaler.scale() == scale);
  CHECK(scaler.transform(X) == Z);

  // Wrong column count, NaN in new data.
  require_throw_with<std::invalid_argument>([&] { scaler.transform(X.leftCols(3)); }, "3 columns");
  require_throw_with<std::invalid_argument>([&] { scaler.inverse_transform(Eigen::MatrixXd::Zero(2, 5)); },
                                            "5 columns");
  bad = X;
  bad(4, 3) = std::nan("");
  require_throw_with<std::invalid_argument>([&] { scaler.transform(bad); }, "row 4, column 3");
}
