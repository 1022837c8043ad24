// Tests of emcluster/datasets.hpp: the clusters-plus-noise generators and the article's data.
#include <catch2/catch.hpp>

#include <emcluster/datasets.hpp>

#include <Eigen/Cholesky>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/check.hpp"

namespace {

using emcluster::Dataset;

// FNV-1a 64 over the little-endian bytes of the IEEE-754 doubles of X (column-major order:
// column 0 top to bottom, then column 1, ...) followed by the labels as little-endian int32.
std::uint64_t fnv1a_dataset(const Dataset<double>& data) {
  std::uint64_t h = 14695981039346656037ULL;
  auto feed = [&h](std::uint64_t value, int bytes) {
    for (int b = 0; b < bytes; ++b) {
      h ^= (value >> (8 * b)) & 0xffU;
      h *= 1099511628211ULL;
    }
  };
  for (Eigen::Index j = 0; j < data.X.cols(); ++j) {
    for (Eigen::Index i = 0; i < data.X.rows(); ++i) {
      std::uint64_t bits = 0;
      const double v = data.X(i, j);
      std::memcpy(&bits, &v, sizeof bits);
      feed(bits, 8);
    }
  }
  for (Eigen::Index i = 0; i < data.labels.size(); ++i) {
    feed(static_cast<std::uint32_t>(data.labels(i)), 4);
  }
  return h;
}

std::vector<Eigen::VectorXd> vecs(std::initializer_list<std::vector<double>> rows) {
  std::vector<Eigen::VectorXd> out;
  for (const auto& r : rows)
    out.push_back(Eigen::Map<const Eigen::VectorXd>(r.data(), Eigen::Index(r.size())));
  return out;
}

// Sample mean and population covariance of the rows [begin, begin + count) of X.
void moments(const Eigen::MatrixXd& X, Eigen::Index begin, Eigen::Index count,
             Eigen::VectorXd& mean, Eigen::MatrixXd& cov) {
  const Eigen::MatrixXd block = X.middleRows(begin, count);
  mean = block.colwise().mean().transpose();
  const Eigen::MatrixXd centered = block.rowwise() - mean.transpose();
  cov = centered.transpose() * centered / double(count);
}

// Checks mean and covariance of a Gaussian sample of size n against (mu, S), each within 5
// standard errors: SE(mean_j) = sqrt(S_jj / n) and, for Gaussian data,
// SE(cov_ij) = sqrt((S_ii S_jj + S_ij^2) / n). An unbiased generator fails one such check
// with probability ~6e-7; a wrong scale, a missing square root or a lost correlation is
// off by many standard errors at these sample sizes.
void check_gaussian_moments(const Eigen::MatrixXd& X, Eigen::Index begin, Eigen::Index n,
                            const Eigen::VectorXd& mu, const Eigen::MatrixXd& S) {
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
  moments(X, begin, n, mean, cov);
  const double dn = double(n);
  for (Eigen::Index i = 0; i < mu.size(); ++i) {
    INFO("coordinate " << i);
    CHECK(std::abs(mean(i) - mu(i)) < 5.0 * std::sqrt(S(i, i) / dn));
    for (Eigen::Index j = 0; j < mu.size(); ++j) {
      INFO("covariance entry (" << i << ", " << j << "): " << cov(i, j) << " vs " << S(i, j));
      CHECK(std::abs(cov(i, j) - S(i, j)) <
            5.0 * std::sqrt((S(i, i) * S(j, j) + S(i, j) * S(i, j)) / dn));
    }
  }
}

// Runs f, requires std::invalid_argument whose message contains `needle`.
constexpr auto require_invalid = &emcluster_test::require_throw_with<std::invalid_argument>;

}  // namespace

TEST_CASE("make_article_data: shape, label counts, order and noise box", "[datasets]") {
  const auto data = emcluster::make_article_data();
  REQUIRE(data.X.rows() == 1830);
  REQUIRE(data.X.cols() == 2);
  REQUIRE(data.labels.size() == 1830);
  // Rows come cluster by cluster, then the noise.
  for (Eigen::Index i = 0; i < 1830; ++i) {
    const int expected = i < 400 ? 0 : i < 1000 ? 1 : i < 1800 ? 2 : -1;
    if (data.labels(i) != expected) FAIL("row " << i << " has label " << data.labels(i));
  }
  CHECK((data.labels.array() == 0).count() == 400);
  CHECK((data.labels.array() == 1).count() == 600);
  CHECK((data.labels.array() == 2).count() == 800);
  CHECK((data.labels.array() == -1).count() == 30);
  const Eigen::MatrixXd noise = data.X.bottomRows(30);
  CHECK(noise.col(0).minCoeff() >= -10.0);
  CHECK(noise.col(0).maxCoeff() < 15.0);
  CHECK(noise.col(1).minCoeff() >= -15.0);
  CHECK(noise.col(1).maxCoeff() < 20.0);
  CHECK(data.X.allFinite());

  // scale multiplies every size (rounded to nearest).
  const auto big = emcluster::make_article_data(1, 2.5);
  CHECK(big.X.rows() == 1000 + 1500 + 2000 + 75);
  CHECK((big.labels.array() == -1).count() == 75);
  const auto tiny = emcluster::make_article_data(1, 0.01);  // 4 + 6 + 8 + round(0.3) = 18
  CHECK(tiny.X.rows() == 18);
  CHECK((tiny.labels.array() == -1).count() == 0);
}

TEST_CASE("make_article_data: the same seed gives the same bytes, pinned by a checksum",
          "[datasets]") {
  const auto a = emcluster::make_article_data(42);
  const auto b = emcluster::make_article_data(42);
  CHECK(fnv1a_dataset(a) == fnv1a_dataset(b));
  REQUIRE(a.X == b.X);
  // Pinned once from this implementation (x86-64, GCC 12): any change to the draw order, the
  // random source or the arithmetic changes it, and stored data sets would silently differ.
  CHECK(fnv1a_dataset(a) == 0xef4d2f4237ee54e0ULL);

  const auto c = emcluster::make_article_data(43);
  CHECK(fnv1a_dataset(c) != fnv1a_dataset(a));
  CHECK((c.X - a.X).cwiseAbs().maxCoeff() > 0.1);
  CHECK(c.labels == a.labels);  // labels depend only on the sizes
}

TEST_CASE("make_article_data follows the documented draw order", "[datasets]") {
  // An independent re-statement of the documented recipe: one Random(seed) stream, cluster by
  // cluster, row by row, coordinate by coordinate mean + sqrt(var) * normal(); then the noise
  // rows, uniform(low_j, high_j) coordinate by coordinate.
  const std::uint64_t seed = 1234;
  const auto data = emcluster::make_article_data(seed);
  emcluster::detail::Random rng(seed);
  const double means[3][2] = {{0.5, 0.5}, {6, 1.5}, {1, 7}};
  const double vars[3][2] = {{1, 3}, {2, 2}, {6, 2}};
  const int sizes[3] = {400, 600, 800};
  Eigen::MatrixXd expected(1830, 2);
  Eigen::Index row = 0;
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < sizes[c]; ++i, ++row) {
      for (int j = 0; j < 2; ++j)
        expected(row, j) = means[c][j] + std::sqrt(vars[c][j]) * rng.normal();
    }
  }
  const double lo[2] = {-10, -15}, hi[2] = {15, 20};
  for (int i = 0; i < 30; ++i, ++row) {
    for (int j = 0; j < 2; ++j) expected(row, j) = rng.uniform(lo[j], hi[j]);
  }
  CHECK(data.X == expected);
}

TEST_CASE("float data are the double data rounded to float", "[datasets]") {
  const auto d = emcluster::make_article_data<double>(7, 3.0);
  const auto f = emcluster::make_article_data<float>(7, 3.0);
  REQUIRE(f.X.rows() == d.X.rows());
  CHECK(f.labels == d.labels);
  const Eigen::MatrixXf rounded = d.X.cast<float>();
  CHECK(f.X == rounded);  // exact: drawn in double, rounded once
  CHECK(((f.X.cast<double>() - d.X).array().abs() <= d.X.array().abs() * 6e-8 + 1e-300).all());

  Eigen::MatrixXd S(2, 2);
  S << 2.0, -0.7, -0.7, 1.0;
  const auto fd = emcluster::make_clusters_with_noise_full<double>(
      {500}, vecs({{1.0, -2.0}}), {S}, Eigen::Vector2d(-5, -5), Eigen::Vector2d(5, 5), 20, 9);
  const auto ff = emcluster::make_clusters_with_noise_full<float>(
      {500}, vecs({{1.0, -2.0}}), {S}, Eigen::Vector2d(-5, -5), Eigen::Vector2d(5, 5), 20, 9);
  const Eigen::MatrixXf fd_rounded = fd.X.cast<float>();
  CHECK(ff.X == fd_rounded);
}

TEST_CASE("diagonal generator: large-sample means and covariances match the spec", "[datasets]") {
  // 3-D, two clusters of 200000 samples: the 5-SE tolerances are about 0.011 sd for means and
  // 1.6% of the variance for variances.
  const std::vector<Eigen::Index> counts = {200000, 150000};
  const auto means = vecs({{1.0, -2.0, 30.0}, {-4.0, 0.0, 0.5}});
  const auto vars = vecs({{1.0, 9.0, 0.25}, {4.0, 0.5, 2.0}});
  const auto data = emcluster::make_clusters_with_noise(counts, means, vars, Eigen::VectorXd(),
                                                        Eigen::VectorXd(), 0, 11);
  REQUIRE(data.X.rows() == 350000);
  REQUIRE(data.X.cols() == 3);
  CHECK((data.labels.head(200000).array() == 0).all());
  CHECK((data.labels.tail(150000).array() == 1).all());
  check_gaussian_moments(data.X, 0, 200000, means[0], Eigen::MatrixXd(vars[0].asDiagonal()));
  check_gaussian_moments(data.X, 200000, 150000, means[1], Eigen::MatrixXd(vars[1].asDiagonal()));
}

TEST_CASE("full-covariance generator: large-sample means and covariances match the spec",
          "[datasets]") {
  Eigen::MatrixXd S0(3, 3), S1(3, 3);
  S0 << 4.0, 1.8, -0.6,  //
      1.8, 1.0, 0.1,     //
      -0.6, 0.1, 2.0;
  S1 << 0.5, 0.0, 0.3,  //
      0.0, 3.0, -2.5,   //
      0.3, -2.5, 4.0;
  REQUIRE(Eigen::LLT<Eigen::MatrixXd>(S0).info() == Eigen::Success);
  REQUIRE(Eigen::LLT<Eigen::MatrixXd>(S1).info() == Eigen::Success);
  const auto means = vecs({{0.0, 5.0, -1.0}, {10.0, 10.0, 10.0}});
  const auto data = emcluster::make_clusters_with_noise_full(
      {200000, 200000}, means, {S0, S1}, Eigen::VectorXd(), Eigen::VectorXd(), 0, 5);
  REQUIRE(data.X.rows() == 400000);
  check_gaussian_moments(data.X, 0, 200000, means[0], S0);
  check_gaussian_moments(data.X, 200000, 200000, means[1], S1);
}

TEST_CASE("scalar Cholesky reproduces the matrix and agrees with Eigen's LLT", "[datasets]") {
  Eigen::MatrixXd S(4, 4);
  S << 4.0, 1.8, -0.6, 0.2,  //
      1.8, 1.0, 0.1, 0.0,    //
      -0.6, 0.1, 2.0, 0.7,   //
      0.2, 0.0, 0.7, 3.0;
  Eigen::MatrixXd L;
  double pivot = 0.0;
  REQUIRE(emcluster::detail::scalar_cholesky(S, L, pivot) == -1);
  CHECK(L.isLowerTriangular(0.0));
  CHECK((L * L.transpose() - S).cwiseAbs().maxCoeff() < 1e-14);
  const Eigen::MatrixXd L_eigen = Eigen::LLT<Eigen::MatrixXd>(S).matrixL();
  CHECK((L - L_eigen).cwiseAbs().maxCoeff() < 1e-14);

  Eigen::MatrixXd singular(2, 2);
  singular << 1.0, 1.0, 1.0, 1.0;
  CHECK(emcluster::detail::scalar_cholesky(singular, L, pivot) == 1);
}

TEST_CASE("a diagonal covariance matrix gives the diagonal generator's bytes", "[datasets]") {
  const auto means = vecs({{0.5, 0.5}, {6, 1.5}, {1, 7}});
  const auto vars = vecs({{1, 3}, {2, 2}, {6, 2}});
  std::vector<Eigen::MatrixXd> covs;
  for (const auto& v : vars) covs.push_back(v.asDiagonal());
  const Eigen::Vector2d lo(-10, -15), hi(15, 20);
  const auto diag =
      emcluster::make_clusters_with_noise({400, 600, 800}, means, vars, lo, hi, 30, 42);
  const auto full =
      emcluster::make_clusters_with_noise_full({400, 600, 800}, means, covs, lo, hi, 30, 42);
  CHECK(full.X == diag.X);
  CHECK(full.labels == diag.labels);
  CHECK(fnv1a_dataset(diag) == fnv1a_dataset(emcluster::make_article_data(42)));
}

TEST_CASE("noise is uniform in the box", "[datasets]") {
  // Only noise: 100000 points in [-3, 5) x [10, 11). Mean (lo+hi)/2 with SE w/sqrt(12 n),
  // variance w^2/12 with SE w^2 sqrt(1/180 n) (uniform: fourth central moment w^4/80).
  const Eigen::Vector2d lo(-3, 10), hi(5, 11);
  const Eigen::Index n = 100000;
  const auto data = emcluster::make_clusters_with_noise({}, {}, {}, lo, hi, n, 3);
  REQUIRE(data.X.rows() == n);
  REQUIRE(data.X.cols() == 2);
  CHECK((data.labels.array() == -1).all());
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
  moments(data.X, 0, n, mean, cov);
  for (int j = 0; j < 2; ++j) {
    const double w = hi(j) - lo(j);
    CHECK(data.X.col(j).minCoeff() >= lo(j));
    CHECK(data.X.col(j).maxCoeff() < hi(j));
    CHECK(data.X.col(j).minCoeff() < lo(j) + 0.001 * w);  // reaches both ends
    CHECK(data.X.col(j).maxCoeff() > hi(j) - 0.001 * w);
    CHECK(std::abs(mean(j) - (lo(j) + hi(j)) / 2) < 5 * w / std::sqrt(12.0 * double(n)));
    CHECK(std::abs(cov(j, j) - w * w / 12) < 5 * w * w * std::sqrt(1.0 / (180.0 * double(n))));
  }
  CHECK(std::abs(cov(0, 1)) < 5 * std::sqrt(cov(0, 0) * cov(1, 1) / double(n)));
}

TEST_CASE("generator edge cases that are valid", "[datasets]") {
  const auto means = vecs({{0.0}, {5.0}});
  // A cluster of size 0, a zero variance, and a noise box that is ignored when noise_count = 0.
  const auto data = emcluster::make_clusters_with_noise({0, 4}, means, vecs({{1.0}, {0.0}}),
                                                        Eigen::VectorXd(), Eigen::VectorXd(), 0, 1);
  REQUIRE(data.X.rows() == 4);
  CHECK((data.X.array() == 5.0).all());
  CHECK((data.labels.array() == 1).all());
}

TEST_CASE("invalid generator specs throw invalid_argument naming the argument", "[datasets]") {
  const auto m2 = vecs({{0.0, 0.0}, {1.0, 1.0}});
  const auto v2 = vecs({{1.0, 1.0}, {1.0, 1.0}});
  const Eigen::Vector2d lo(-1, -1), hi(1, 1);
  Eigen::MatrixXd I2 = Eigen::MatrixXd::Identity(2, 2);
  using emcluster::make_clusters_with_noise;
  using emcluster::make_clusters_with_noise_full;

  // Lengths and dimensions.
  require_invalid([&] { make_clusters_with_noise({10}, m2, v2, lo, hi, 0, 1); }, "means");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, vecs({{1.0, 1.0}}), lo, hi, 0, 1);
      },
      "variances");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, vecs({{0.0, 0.0}, {1.0}}), v2, lo, hi, 0, 1);
      },
      "means[1]");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, vecs({{1.0, 1.0}, {1.0, 1.0, 1.0}}), lo, hi, 0, 1);
      },
      "variances[1]");
  require_invalid(
      [&] {
        make_clusters_with_noise({10}, std::vector<Eigen::VectorXd>{Eigen::VectorXd()},
                                 std::vector<Eigen::VectorXd>{Eigen::VectorXd()}, lo, hi, 0, 1);
      },
      "means[0]");
  // Counts.
  require_invalid([&] { make_clusters_with_noise({10, -1}, m2, v2, lo, hi, 0, 1); }, "counts[1]");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, v2, lo, hi, -5, 1);
      },
      "noise_count");
  require_invalid(
      [&] {
        make_clusters_with_noise({0, 0}, m2, v2, lo, hi, 0, 1);
      },
      "nothing to generate");
  require_invalid([&] { make_clusters_with_noise({}, {}, {}, lo, hi, 0, 1); },
                  "nothing to generate");
  // Values.
  const double nan = std::nan(""), inf = INFINITY;
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, vecs({{1.0, 1.0}, {1.0, -0.5}}), lo, hi, 0, 1);
      },
      "variances[1](1)");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, vecs({{nan, 1.0}, {1.0, 1.0}}), lo, hi, 0, 1);
      },
      "variances[0](0)");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, vecs({{inf, 1.0}, {1.0, 1.0}}), lo, hi, 0, 1);
      },
      "variances[0](0)");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, vecs({{0.0, 0.0}, {inf, 0.0}}), v2, lo, hi, 0, 1);
      },
      "means[1](0)");
  // Noise box, checked only when noise_count > 0.
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, v2, Eigen::Vector2d(-1, 2), hi, 5, 1);
      },
      "coordinate 1");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, v2, Eigen::Vector2d(-1, 1), hi, 5, 1);
      },
      "coordinate 1");  // low == high: empty
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, v2, Eigen::Vector3d(-1, -1, -1), hi, 5, 1);
      },
      "noise_low");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, v2, lo, Eigen::VectorXd(), 5, 1);
      },
      "noise_high");
  require_invalid(
      [&] {
        make_clusters_with_noise({10, 10}, m2, v2, lo, Eigen::Vector2d(1, nan), 5, 1);
      },
      "noise_high(1)");
  CHECK_NOTHROW(make_clusters_with_noise({10, 10}, m2, v2, Eigen::Vector2d(-1, 2), hi, 0, 1));

  // Full covariances.
  Eigen::MatrixXd asym(2, 2), indefinite(2, 2), semidefinite(2, 2), with_nan = I2;
  asym << 1.0, 0.5, 0.4, 1.0;
  indefinite << 1.0, 2.0, 2.0, 1.0;
  semidefinite << 1.0, 1.0, 1.0, 1.0;
  with_nan(0, 1) = with_nan(1, 0) = nan;
  require_invalid(
      [&] {
        make_clusters_with_noise_full({10, 10}, m2, {I2}, lo, hi, 0, 1);
      },
      "covariances");
  require_invalid(
      [&] {
        make_clusters_with_noise_full({10, 10}, m2, {I2, Eigen::MatrixXd::Identity(3, 3)}, lo, hi,
                                      0, 1);
      },
      "covariances[1]");
  require_invalid(
      [&] {
        make_clusters_with_noise_full({10, 10}, m2, {I2, Eigen::MatrixXd::Identity(2, 3)}, lo, hi,
                                      0, 1);
      },
      "covariances[1]");
  require_invalid(
      [&] {
        make_clusters_with_noise_full({10, 10}, m2, {asym, I2}, lo, hi, 0, 1);
      },
      "covariances[0] is not symmetric");
  require_invalid(
      [&] {
        make_clusters_with_noise_full({10, 10}, m2, {I2, indefinite}, lo, hi, 0, 1);
      },
      "covariances[1] is not positive definite");
  require_invalid(
      [&] {
        make_clusters_with_noise_full({10, 10}, m2, {semidefinite, I2}, lo, hi, 0, 1);
      },
      "covariances[0] is not positive definite");
  require_invalid(
      [&] {
        make_clusters_with_noise_full({10, 10}, m2, {I2, with_nan}, lo, hi, 0, 1);
      },
      "covariances[1](0, 1)");
  require_invalid(
      [&] {
        make_clusters_with_noise_full({10, 10}, m2, {I2, I2}, Eigen::Vector2d(1, -1), hi, 3, 1);
      },
      "coordinate 0");
  require_invalid(
      [&] {
        make_clusters_with_noise_full({-2, 10}, m2, {I2, I2}, lo, hi, 0, 1);
      },
      "counts[0]");

  // The article's scale.
  require_invalid([] { emcluster::make_article_data(1, 0.0); }, "scale");
  require_invalid([] { emcluster::make_article_data(1, -1.0); }, "scale");
  require_invalid([&] { emcluster::make_article_data(1, nan); }, "scale");
  require_invalid([] { emcluster::make_article_data(1, 1e-4); }, "zero");
}
