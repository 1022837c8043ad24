// GaussianMixture at the edges of the floating-point range: the same data at scales 2^s fit to
// the same labels and to the scaled parameters; parameters beyond the scalar type's range
// throw; points far from every component follow one policy in every method.
#include <catch2/catch.hpp>

#include <Eigen/LU>
#include <emcluster/detail/random.hpp>
#include <emcluster/gaussian_mixture.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "support/check.hpp"

namespace {

using emcluster::CovarianceType;

constexpr double kLn2 = 0.69314718055994530942;

/// Three separated blobs (sd 1) at (10, 10), (30, 10), (20, 30), 60 points each, plus 12
/// points uniform in [4, 36]^2: every coordinate far from 0, so that the data times 2^-120
/// are still normal floats.
Eigen::MatrixXd base_data() {
  emcluster::detail::Random rng(20261202);
  const double centres[3][2] = {{10, 10}, {30, 10}, {20, 30}};
  Eigen::MatrixXd X(192, 2);
  for (Eigen::Index i = 0; i < 180; ++i) {
    const auto& c = centres[i % 3];
    for (Eigen::Index f = 0; f < 2; ++f) X(i, f) = c[f] + rng.normal();
  }
  for (Eigen::Index i = 180; i < 192; ++i) {
    for (Eigen::Index f = 0; f < 2; ++f) X(i, f) = rng.uniform(4, 36);
  }
  return X;
}

template <typename Scalar>
using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

template <typename Scalar>
Mat<Scalar> scaled(const Eigen::MatrixXd& X, int s) {
  return X.unaryExpr([s](double v) { return std::ldexp(v, s); }).template cast<Scalar>();
}

/// |a 2^-p - b| <= tol |b| entry by entry (a at scale p, b at scale 0), in double.
template <typename A, typename B>
void check_scaled(const A& a, const B& b, int p, double tol, const char* what) {
  INFO(what);
  const Eigen::MatrixXd ad = a.template cast<double>();
  const Eigen::MatrixXd bd = b.template cast<double>();
  REQUIRE(ad.rows() == bd.rows());
  REQUIRE(ad.cols() == bd.cols());
  for (Eigen::Index i = 0; i < ad.size(); ++i) {
    const double back = std::ldexp(ad(i), -p);
    INFO("entry " << i << ": " << back << " vs " << bd(i));
    CHECK(std::abs(back - bd(i)) <= tol * std::abs(bd(i)) + 1e-300);
  }
}

const CovarianceType kTypes[] = {CovarianceType::full, CovarianceType::tied,
                                 CovarianceType::diagonal, CovarianceType::spherical};

template <typename Scalar>
typename emcluster::GaussianMixture<Scalar>::Options options(CovarianceType type, bool noise) {
  typename emcluster::GaussianMixture<Scalar>::Options o;
  o.n_components = 3;
  o.covariance_type = type;
  o.noise_component = noise;
  o.reg_covar = 0;  // data units: 0 keeps the problem scale-free
  o.tol = 1e-8;
  o.max_iter = 200;
  o.seed = 7;
  return o;
}

/// Fits at scale 0 and at every scale of `scales`; compares labels, weights, means,
/// precision factors, covariances (where representable, else the documented exception),
/// the lower bound and score_samples.
template <typename Scalar>
void check_scales(const std::vector<int>& scales, double tol) {
  const Eigen::MatrixXd base = base_data();
  const int d = static_cast<int>(base.cols());
  const double largest = static_cast<double>(std::numeric_limits<Scalar>::max());
  const double smallest = static_cast<double>(std::numeric_limits<Scalar>::min());
  for (CovarianceType type : kTypes) {
    for (bool noise : {false, true}) {
      emcluster::GaussianMixture<Scalar> ref(options<Scalar>(type, noise));
      const Mat<Scalar> X0 = scaled<Scalar>(base, 0);
      const Eigen::VectorXi labels0 = ref.fit_predict(X0);
      const Eigen::Matrix<Scalar, Eigen::Dynamic, 1> ss0 = ref.score_samples(X0);
      for (int s : scales) {
        INFO("type " << static_cast<int>(type) << ", noise " << noise << ", scale 2^" << s);
        const Mat<Scalar> X = scaled<Scalar>(base, s);
        emcluster::GaussianMixture<Scalar> gmm(options<Scalar>(type, noise));
        Eigen::VectorXi labels;
        REQUIRE_NOTHROW(labels = gmm.fit_predict(X));
        CHECK((labels.array() == labels0.array()).all());
        check_scaled(gmm.weights(), ref.weights(), 0, tol, "weights");
        CHECK(std::abs(gmm.noise_weight() - ref.noise_weight()) <= tol);
        check_scaled(gmm.means(), ref.means(), s, tol, "means");
        const double shift = static_cast<double>(d) * s * kLn2;
        CHECK(std::abs(gmm.lower_bound() - (ref.lower_bound() - shift)) <=
              tol * (std::abs(ref.lower_bound()) + std::abs(shift)));
        CHECK(std::abs(gmm.score(X) - (ref.score(X0) - shift)) <=
              tol * (std::abs(ref.score(X0)) + std::abs(shift)));
        const Eigen::Matrix<Scalar, Eigen::Dynamic, 1> ss = gmm.score_samples(X);
        for (Eigen::Index i = 0; i < ss.size(); ++i) {
          const double want = static_cast<double>(ss0(i)) - shift;
          CHECK(std::abs(static_cast<double>(ss(i)) - want) <= 10 * tol * (std::abs(want) + 1));
        }
        if (noise) {
          check_scaled(gmm.noise_low(), ref.noise_low(), s, tol, "noise_low");
          check_scaled(gmm.noise_high(), ref.noise_high(), s, tol, "noise_high");
        }
        for (Eigen::Index j = 0; j < 3; ++j) {
          const Eigen::MatrixXd P0 = ref.precisions_cholesky(j).template cast<double>();
          check_scaled(gmm.precisions_cholesky(j), P0, -s, tol, "precisions_cholesky");
          const Eigen::MatrixXd C0 = ref.covariance(j).template cast<double>();
          const double big = std::ldexp(C0.cwiseAbs().maxCoeff(), 2 * s);
          if (big > largest) {
            emcluster_test::require_throw_with<emcluster::numerical_error>(
                [&] { (void)gmm.covariance(j); }, "beyond the range of");
          } else if (std::ldexp(C0.diagonal().minCoeff(), 2 * s) >= smallest) {
            // Off-diagonal entries may be tiny; compare them absolutely.
            const Eigen::MatrixXd C = gmm.covariance(j).template cast<double>();
            const double unit = std::ldexp(C0.cwiseAbs().maxCoeff(), 2 * s);
            CHECK((C - C0.unaryExpr([s](double v) { return std::ldexp(v, 2 * s); }))
                      .cwiseAbs()
                      .maxCoeff() <= tol * unit);
          }
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("GaussianMixture<double>: the same data at scales 2^-1000 ... 2^1000",
          "[gaussian_mixture][edges]") {
  check_scales<double>({-1000, -200, -60, 60, 200, 1000}, 1e-9);
}

TEST_CASE("GaussianMixture<float>: the same data at scales 2^-120 ... 2^120",
          "[gaussian_mixture][edges]") {
  check_scales<float>({-120, -60, 60, 120}, 2e-4);
}

TEST_CASE("GaussianMixture<float>: parameters beyond float's range throw, the rest is right",
          "[gaussian_mixture][edges]") {
  // Data around 1e25: covariances around 1e50 are not floats; means and precisions are.
  const Eigen::MatrixXd base = base_data();
  const Mat<float> X = (base * 1e24).cast<float>();
  emcluster::GaussianMixture<float> gmm(options<float>(CovarianceType::full, false));
  REQUIRE_NOTHROW(gmm.fit(X));
  CHECK(gmm.means().allFinite());
  CHECK(gmm.means().cwiseAbs().maxCoeff() > 1e25f);
  CHECK(gmm.precisions_cholesky(0).allFinite());
  emcluster_test::require_throw_with<emcluster::numerical_error>([&] { (void)gmm.covariance(0); },
                                                                 "GaussianMixture<double>");
  emcluster_test::require_throw_with<emcluster::numerical_error>([&] { (void)gmm.covariance(1); },
                                                                 "float");
  // Log-densities of the data: about -2 ln(1e24) - ln(2 pi) - 1 per point, finite.
  const Eigen::VectorXf ss = gmm.score_samples(X);
  CHECK(ss.allFinite());
  CHECK(ss.maxCoeff() < -100.0f);
  CHECK(ss.minCoeff() > -1000.0f);
  // The same fit in double agrees.
  emcluster::GaussianMixture<double> ref(options<double>(CovarianceType::full, false));
  ref.fit(X.cast<double>());
  CHECK((ref.predict(X.cast<double>()).array() == gmm.predict(X).array()).all());
  const Eigen::MatrixXd c0 = ref.covariance(0);
  CHECK(std::isfinite(c0(0, 0)));
  CHECK(c0(0, 0) > 1e47);
}

TEST_CASE("GaussianMixture: far points follow one policy in every method",
          "[gaussian_mixture][edges]") {
  const Eigen::MatrixXd base = base_data();
  for (CovarianceType type : kTypes) {
    for (bool noise : {false, true}) {
      INFO("type " << static_cast<int>(type) << ", noise " << noise);
      emcluster::GaussianMixture<double> gmm(options<double>(type, noise));
      gmm.fit(base);
      // Rows 0-2: far in three directions; row 3 an ordinary point.
      Eigen::MatrixXd F(4, 2);
      F << 1e200, 1e200, -1e200, 3e199, 1e300, -1e300, 20, 20;
      // Expected: the smallest u^T Sigma_j^-1 u for the far direction u (the means are
      // negligible next to 1e200).
      for (Eigen::Index i = 0; i < 3; ++i) {
        const Eigen::Vector2d u = F.row(i).transpose() / F.row(i).cwiseAbs().maxCoeff();
        Eigen::Index expected = 0;
        double best = std::numeric_limits<double>::infinity();
        for (Eigen::Index j = 0; j < 3; ++j) {
          const double m = u.dot(gmm.covariance(j).inverse() * u);
          if (m < best) {
            best = m;
            expected = j;
          }
        }
        INFO("far row " << i);
        Eigen::VectorXi labels;
        REQUIRE_NOTHROW(labels = gmm.predict(F));
        CHECK(labels(i) == expected);
        Eigen::MatrixXd proba;
        REQUIRE_NOTHROW(proba = gmm.predict_proba(F));
        CHECK(proba(i, expected) == 1.0);
        CHECK(proba.row(i).sum() == 1.0);
        CHECK(gmm.uncertainty(F)(i) == 0.0);
        const Eigen::VectorXd ss = gmm.score_samples(F);
        CHECK(ss(i) == -std::numeric_limits<double>::infinity());
      }
      const Eigen::MatrixXd proba = gmm.predict_proba(F);
      const Eigen::VectorXi labels = gmm.predict(F);
      Eigen::Index best = 0;
      proba.row(3).maxCoeff(&best);
      CHECK(labels(3) == (best == 3 ? -1 : static_cast<int>(best)));
      CHECK(std::isfinite(gmm.score_samples(F)(3)));
      CHECK(gmm.score(F) == -std::numeric_limits<double>::infinity());
      CHECK(gmm.bic(F) == std::numeric_limits<double>::infinity());
      CHECK(gmm.aic(F) == std::numeric_limits<double>::infinity());
    }
  }
}

TEST_CASE(
    "GaussianMixture<float>: a log-density below float's range is -inf per sample, "
    "finite in the double score",
    "[gaussian_mixture][edges]") {
  const Mat<float> X = base_data().cast<float>();
  emcluster::GaussianMixture<float> gmm(options<float>(CovarianceType::diagonal, false));
  gmm.fit(X);
  Mat<float> F(1, 2);
  F << 1e30f, 1e30f;  // log-density about -1e60
  CHECK(gmm.score_samples(F)(0) == -std::numeric_limits<float>::infinity());
  const double score = gmm.score(F);
  CHECK(std::isfinite(score));
  CHECK(score < -1e57);
  CHECK(score > -1e62);
  CHECK(gmm.predict_proba(F).row(0).maxCoeff() == 1.0f);
}

TEST_CASE("GaussianMixture: large data never produce the 'increase reg_covar' error",
          "[gaussian_mixture][edges]") {
  // Offset 1e200 with unit spread and spread 1e200: both fit.
  const Eigen::MatrixXd base = base_data();
  for (CovarianceType type : kTypes) {
    INFO("type " << static_cast<int>(type));
    emcluster::GaussianMixture<double> a(options<double>(type, false));
    const Eigen::MatrixXd big = base * 1e200;
    try {
      a.fit(big);
    } catch (const std::exception& e) {
      FAIL("fit at 1e200 threw: " << e.what());
    }
    CHECK(a.lower_bound() < -900.0);  // about -2 ln(1e200)
    CHECK(std::isfinite(a.lower_bound()));
  }
}

TEST_CASE("GaussianMixture: sample weights whose sum overflows give the model of equal weights",
          "[edges][gaussian_mixture]") {
  const Eigen::MatrixXd X = base_data();
  emcluster::GaussianMixture<double>::Options options;
  options.n_components = 3;
  options.seed = 3;
  emcluster::GaussianMixture<double> huge(options), ones(options);
  huge.fit(X, Eigen::VectorXd::Constant(X.rows(), 1.7e308));
  ones.fit(X, Eigen::VectorXd::Ones(X.rows()));
  // 1.7e308 = 2^1023 * 1.0 (approximately); the division by 2^1023 is exact and every fitted
  // quantity is a weighted mean, so the models agree to rounding.
  CHECK(huge.weights().allFinite());
  CHECK(huge.means().allFinite());
  CHECK((huge.means() - ones.means()).cwiseAbs().maxCoeff() < 1e-9);
  CHECK(std::abs(huge.lower_bound() - ones.lower_bound()) < 1e-9);
  CHECK((huge.predict(X).array() == ones.predict(X).array()).all());
}

TEST_CASE(
    "GaussianMixture<double>: weighted, warm-started and explicitly started fits are "
    "scale-invariant",
    "[gaussian_mixture][edges]") {
  const Eigen::MatrixXd base = base_data();
  emcluster::detail::Random rng(99);
  Eigen::VectorXd w(base.rows());
  for (Eigen::Index i = 0; i < w.size(); ++i) w(i) = 0.25 + rng.uniform();
  const double tol = 1e-9;
  const int d = static_cast<int>(base.cols());
  for (CovarianceType type : {CovarianceType::full, CovarianceType::diagonal}) {
    for (int s : {-900, -300, 300, 900}) {
      INFO("type " << static_cast<int>(type) << ", scale 2^" << s);
      const Eigen::MatrixXd X0 = scaled<double>(base, 0), X = scaled<double>(base, s);
      const double shift = static_cast<double>(d) * s * kLn2;

      // Weighted fit.
      emcluster::GaussianMixture<double> ref(options<double>(type, true));
      emcluster::GaussianMixture<double> gmm(options<double>(type, true));
      ref.fit(X0, w);
      REQUIRE_NOTHROW(gmm.fit(X, w));
      CHECK((gmm.predict(X).array() == ref.predict(X0).array()).all());
      check_scaled(gmm.means(), ref.means(), s, tol, "weighted means");
      CHECK(std::abs(gmm.lower_bound() - (ref.lower_bound() - shift)) <=
            tol * (std::abs(ref.lower_bound()) + std::abs(shift)));

      // Warm start: a short cold fit, then a second fit that continues from it.
      auto warm_options = options<double>(type, false);
      warm_options.warm_start = true;
      warm_options.max_iter = 3;
      emcluster::GaussianMixture<double> ref_warm(warm_options), warm(warm_options);
      ref_warm.fit(X0);
      ref_warm.fit(X0);
      warm.fit(X);
      REQUIRE_NOTHROW(warm.fit(X));
      CHECK(warm.n_iter() == ref_warm.n_iter());
      check_scaled(warm.means(), ref_warm.means(), s, tol, "warm-started means");
      CHECK(std::abs(warm.lower_bound() - (ref_warm.lower_bound() - shift)) <=
            tol * (std::abs(ref_warm.lower_bound()) + std::abs(shift)));

      // Explicit start: initial means and precisions given in the data's units.
      auto explicit_options = options<double>(type, false);
      explicit_options.init = emcluster::GaussianMixtureInit::explicit_parameters;
      explicit_options.initial_means = ref.means();
      auto scaled_options = explicit_options;
      scaled_options.initial_means = scaled<double>(ref.means(), s);
      emcluster::GaussianMixture<double> ref_explicit(explicit_options), given(scaled_options);
      ref_explicit.fit(X0);
      REQUIRE_NOTHROW(given.fit(X));
      CHECK((given.predict(X).array() == ref_explicit.predict(X0).array()).all());
      check_scaled(given.means(), ref_explicit.means(), s, tol, "explicitly started means");
    }
  }
}
