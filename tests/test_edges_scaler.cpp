// StandardScaler across the whole floating-point range: the same data multiplied by powers of
// two from 2^-1000 to 2^1000 (double) and 2^-120 to 2^120 (float) give the same statistics,
// scaled, and the same transform; means, variances and standard deviations agree with a long
// double reference; columns near the largest and the smallest normal numbers.
#include <catch2/catch.hpp>

#include <emcluster/preprocessing.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

// Mean, population variance and standard deviation of a column, in long double (x86: 64-bit
// significand, 15-bit exponent, so 1e308 squared is representable).
struct Reference {
  long double mean, var, sd;
};

template <typename Scalar>
Reference reference(const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& X,
                    Eigen::Index j) {
  const long double n = static_cast<long double>(X.rows());
  long double sum = 0;
  for (Eigen::Index i = 0; i < X.rows(); ++i) sum += static_cast<long double>(X(i, j));
  const long double mean = sum / n;
  long double ss = 0;
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    const long double v = static_cast<long double>(X(i, j)) - mean;
    ss += v * v;
  }
  return {mean, ss / n, std::sqrt(ss / n)};
}

// |got - want| within `ulps` units of the scalar type's precision relative to `magnitude`,
// plus the smallest subnormal (for values that underflow).
template <typename Scalar>
bool close(Scalar got, long double want, long double magnitude, int ulps) {
  const long double eps = std::numeric_limits<Scalar>::epsilon();
  const long double tiny = std::numeric_limits<Scalar>::denorm_min();
  return std::abs(static_cast<long double>(got) - want) <= ulps * eps * magnitude + tiny;
}

// A fixed 257 x 4 sample whose values all lie in [2^-4, 2^6] in magnitude: column 0 around 3
// with unit spread, column 1 around 40 with a spread of 1/64, column 2 of both signs about 0,
// column 3 constant.
template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> base_data() {
  const Eigen::Index n = 257;
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> X(n, 4);
  std::uint32_t state = 12345;
  auto uniform = [&state] {  // in [0, 1), a small LCG: the same numbers everywhere
    state = state * 1664525u + 1013904223u;
    return static_cast<double>(state >> 8) / 16777216.0;
  };
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = static_cast<Scalar>(2.0 + 2.0 * uniform());
    X(i, 1) = static_cast<Scalar>(40.0 + uniform() / 64.0);
    const double u = 0.0625 + uniform();
    X(i, 2) = static_cast<Scalar>(i % 2 ? u : -u);
    X(i, 3) = static_cast<Scalar>(5.5);
  }
  return X;
}

template <typename Scalar>
void check_scale_table(int lowest, int highest, int step) {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const Matrix X = base_data<Scalar>();
  emcluster::StandardScaler<Scalar> unit;
  const Matrix Z = unit.fit_transform(X);
  std::vector<int> powers;
  for (int k = lowest; k <= highest; k += step) powers.push_back(k);
  powers.push_back(highest);
  for (const int k : powers) {
    CAPTURE(k);
    const Matrix Xk = (X.array() * std::ldexp(Scalar(1), k)).matrix();
    emcluster::StandardScaler<Scalar> scaler;
    const Matrix Zk = scaler.fit_transform(Xk);
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      CAPTURE(j);
      const Reference ref = reference(Xk, j);
      const Scalar top = std::numeric_limits<Scalar>::max();
      // The mean and the standard deviation: the unit-scale bits, scaled (exact), and within a
      // few ulps of the long double reference.
      CHECK(scaler.mean()(j) == std::ldexp(unit.mean()(j), k));
      CHECK(close<Scalar>(scaler.mean()(j), ref.mean, std::abs(ref.mean) + ref.sd, 4));
      if (j == 3) {
        CHECK(scaler.scale()(j) == Scalar(1));  // constant at every magnitude
        CHECK(scaler.var()(j) == Scalar(0));
      } else {
        CHECK(scaler.scale()(j) == std::ldexp(unit.scale()(j), k));
        CHECK(close<Scalar>(scaler.scale()(j), ref.sd, ref.sd, 4));
        // The variance: inf beyond the type's range, else the reference rounded.
        if (ref.var > static_cast<long double>(top)) {
          CHECK(std::isinf(scaler.var()(j)));
        } else {
          CHECK(close<Scalar>(scaler.var()(j), ref.var, ref.var, 8));
        }
      }
    }
    // The transform does not depend on the magnitude, and inverse_transform gives the data back.
    CHECK(Zk == Z);
    const Matrix back = scaler.inverse_transform(Zk);
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      const Scalar m = Xk.col(j).cwiseAbs().maxCoeff();
      CHECK((back.col(j) - Xk.col(j)).cwiseAbs().maxCoeff() <=
            4 * std::numeric_limits<Scalar>::epsilon() * m);
    }
  }
}

}  // namespace

TEST_CASE("StandardScaler<double> is exact under power-of-two scales 2^-1000..2^1000",
          "[preprocessing][edges]") {
  check_scale_table<double>(-1000, 1000, 25);
}

TEST_CASE("StandardScaler<float> is exact under power-of-two scales 2^-120..2^120",
          "[preprocessing][edges]") {
  check_scale_table<float>(-120, 120, 5);
}

TEST_CASE("StandardScaler near the largest double: mean finite, var inf, scale finite",
          "[preprocessing][edges]") {
  Eigen::MatrixXd X(3, 2);
  X << 1e308, -1.7e308,  //
      1.5e308, 1.7e308,  //
      1.7e308, 0.0;
  emcluster::StandardScaler<> scaler;
  const Eigen::MatrixXd Z = scaler.fit_transform(X);
  for (Eigen::Index j = 0; j < 2; ++j) {
    CAPTURE(j);
    const Reference ref = reference<double>(X, j);
    CHECK(close<double>(scaler.mean()(j), ref.mean, std::abs(ref.mean) + ref.sd, 4));
    CHECK(std::isinf(scaler.var()(j)));  // the true variance exceeds DBL_MAX
    CHECK(close<double>(scaler.scale()(j), ref.sd, ref.sd, 4));
    for (Eigen::Index i = 0; i < 3; ++i) {
      const long double want = (static_cast<long double>(X(i, j)) - ref.mean) / ref.sd;
      CHECK(close<double>(Z(i, j), want, 1.0L, 8));
    }
  }
  // The standardized column has mean 0 and standard deviation 1.
  CHECK(std::abs(Z.col(0).mean()) < 1e-15);
  CHECK(std::abs(Z.col(0).squaredNorm() / 3 - 1) < 1e-14);
  const Eigen::MatrixXd back = scaler.inverse_transform(Z);
  CHECK(((back - X).array().abs() <= 1e-15 * 1.7e308).all());
}

TEST_CASE("StandardScaler on tiny data: the variance underflows, the column is still scaled",
          "[preprocessing][edges]") {
  for (const double s : {1e-200, 1e-300, 1e-307}) {
    CAPTURE(s);
    Eigen::MatrixXd X(4, 1);
    X << 1 * s, 2 * s, 4 * s, 7 * s;
    emcluster::StandardScaler<> scaler;
    const Eigen::MatrixXd Z = scaler.fit_transform(X);
    const Reference ref = reference<double>(X, 0);
    CHECK(close<double>(scaler.mean()(0), ref.mean, ref.mean, 4));
    CHECK(close<double>(scaler.scale()(0), ref.sd, ref.sd, 4));
    CHECK(scaler.scale()(0) != 1.0);  // not mistaken for a constant column
    CHECK(close<double>(scaler.var()(0), ref.var, ref.var, 8));  // 0 or subnormal
    CHECK(std::abs(Z.col(0).mean()) < 1e-15);
    CHECK(std::abs(Z.col(0).squaredNorm() / 4 - 1) < 1e-14);
  }
  // float: 1e-25 is far from float's smallest normal, but its square (1e-50) is not a float.
  Eigen::MatrixXf Y(4, 1);
  Y << 1e-25f, 2e-25f, 4e-25f, 7e-25f;
  emcluster::StandardScaler<float> scaler;
  const Eigen::MatrixXf Z = scaler.fit_transform(Y);
  const Reference ref = reference<float>(Y, 0);
  CHECK(close<float>(scaler.scale()(0), ref.sd, ref.sd, 4));
  CHECK(scaler.var()(0) == 0.0f);  // 1e-50 rounds to 0 in float
  CHECK(std::abs(Z.col(0).squaredNorm() / 4 - 1) < 1e-5f);
}

TEST_CASE("StandardScaler: a constant column is constant at any magnitude",
          "[preprocessing][edges]") {
  for (const double c : {1e-300, 1e-200, 1e200, 1.7e308, -1.7e308}) {
    CAPTURE(c);
    Eigen::MatrixXd X = Eigen::MatrixXd::Constant(5, 1, c);
    emcluster::StandardScaler<> scaler;
    const Eigen::MatrixXd Z = scaler.fit_transform(X);
    CHECK(scaler.mean()(0) == c);
    CHECK(scaler.var()(0) == 0.0);
    CHECK(scaler.scale()(0) == 1.0);
    CHECK((Z.array() == 0.0).all());
  }
}

TEST_CASE("StandardScaler at scale 1e200 and 1e155 scales the column", "[preprocessing][edges]") {
  for (const double s : {1e155, 1e200, 1e300}) {
    CAPTURE(s);
    Eigen::MatrixXd X(4, 1);
    X << 1 * s, 2 * s, 4 * s, 7 * s;
    emcluster::StandardScaler<> scaler;
    const Eigen::MatrixXd Z = scaler.fit_transform(X);
    const Reference ref = reference<double>(X, 0);
    CHECK(close<double>(scaler.mean()(0), ref.mean, ref.mean, 4));
    CHECK(close<double>(scaler.scale()(0), ref.sd, ref.sd, 4));
    if (ref.var > static_cast<long double>(std::numeric_limits<double>::max())) {
      CHECK(std::isinf(scaler.var()(0)));
    } else {
      CHECK(close<double>(scaler.var()(0), ref.var, ref.var, 8));
    }
    CHECK(std::abs(Z.col(0).squaredNorm() / 4 - 1) < 1e-14);
  }
}
