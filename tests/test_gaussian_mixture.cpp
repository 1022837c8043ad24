// GaussianMixture, specified: the estimator contract; agreement with scikit-learn 1.2.1 and
// the monotone lower bound; densities and posteriors against brute force, also where linear
// densities underflow; the fitted parameters (recovery, sampling, explicit initial values,
// sample weights, warm start); singular data; reproducibility; the article's data with the
// noise component; option errors.
#include <catch2/catch.hpp>

#include <emcluster/datasets.hpp>
#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/metrics.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "support/check.hpp"
#include "support/contract.hpp"
#include "support/data.hpp"
#include "support/fixtures.hpp"
#include "support/reference.hpp"

using Catch::Matchers::Contains;
using emcluster::CovarianceType;
using emcluster::GaussianMixture;
using emcluster::GaussianMixtureInit;
using emcluster::GaussianMixtureIteration;
using namespace emcluster_test;

namespace {

constexpr CovarianceType kAllTypes[] = {CovarianceType::full, CovarianceType::tied,
                                        CovarianceType::diagonal, CovarianceType::spherical};

const char* type_name(CovarianceType t) {
  switch (t) {
    case CovarianceType::full:
      return "full";
    case CovarianceType::tied:
      return "tied";
    case CovarianceType::diagonal:
      return "diagonal";
    case CovarianceType::spherical:
      return "spherical";
  }
  return "?";
}

}  // namespace

// =============================================================================================
// The estimator contract (support/contract.hpp)

namespace emcluster_test::contract {

template <typename S>
struct Traits<GaussianMixture<S>> {
  using E = GaussianMixture<S>;
  using Scalar = S;
  static constexpr const char* name = "GaussianMixture";
  static constexpr bool weighted = true;
  static constexpr Eigen::Index parallel_rows = 20000;

  /// Every covariance type, without and with the noise component, each with another init.
  static std::vector<Variant<E>> variants() {
    const GaussianMixtureInit inits[] = {
        GaussianMixtureInit::kmeans, GaussianMixtureInit::random_responsibilities,
        GaussianMixtureInit::kmeans_plus_plus, GaussianMixtureInit::random_points};
    const char* init_names[] = {"kmeans", "random responsibilities", "k-means++", "random points"};
    std::vector<Variant<E>> out;
    for (int t = 0; t < 4; ++t) {
      for (bool noise : {false, true}) {
        typename E::Options o;
        o.n_components = 3;
        o.covariance_type = kAllTypes[t];
        o.init = inits[t];
        o.noise_component = noise;
        o.seed = 4;
        out.push_back({std::string(type_name(kAllTypes[t])) + ", " + init_names[t] +
                           (noise ? ", with noise" : ""),
                       o});
      }
    }
    return out;
  }
  static Eigen::Index groups(const E& e) { return e.n_components(); }
  static void configuration(const E& e) {
    (void)e.options();
    (void)e.n_components();
    (void)e.covariance_type();
    (void)e.is_fitted();
  }
  static std::vector<Call<E>> fitted_accessors() {
    return {{"weights", [](const E& e) { (void)e.weights(); }},
            {"means", [](const E& e) { (void)e.means(); }},
            {"covariance", [](const E& e) { (void)e.covariance(0); }},
            {"precisions_cholesky", [](const E& e) { (void)e.precisions_cholesky(0); }},
            {"noise_weight", [](const E& e) { (void)e.noise_weight(); }},
            {"noise_low", [](const E& e) { (void)e.noise_low(); }},
            {"noise_high", [](const E& e) { (void)e.noise_high(); }},
            {"lower_bound", [](const E& e) { (void)e.lower_bound(); }},
            {"n_iter", [](const E& e) { (void)e.n_iter(); }},
            {"converged", [](const E& e) { (void)e.converged(); }},
            {"n_features", [](const E& e) { (void)e.n_features(); }},
            {"n_parameters", [](const E& e) { (void)e.n_parameters(); }},
            {"sample", [](const E& e) { (void)e.sample(3, 1); }}};
  }
  static std::vector<DataCall<E>> new_data_methods() {
    return {{"predict", [](const E& e, const Matrix<S>& X) { (void)e.predict(X); }},
            {"predict_proba", [](const E& e, const Matrix<S>& X) { (void)e.predict_proba(X); }},
            {"score_samples", [](const E& e, const Matrix<S>& X) { (void)e.score_samples(X); }},
            {"score", [](const E& e, const Matrix<S>& X) { (void)e.score(X); }},
            {"bic", [](const E& e, const Matrix<S>& X) { (void)e.bic(X); }},
            {"aic", [](const E& e, const Matrix<S>& X) { (void)e.aic(X); }}};
  }
  static std::vector<FitCall<E>> failing_calls(const Matrix<S>& X) {
    Matrix<S> bad = X;
    bad(2, 0) = std::numeric_limits<S>::quiet_NaN();
    return {{"fit_predict: NaN", {"row 2, column 0"}, [bad](E& e) { e.fit_predict(bad); }}};
  }
  static Record state(const E& e) {
    Record r;
    r.add("weights", e.weights()).add("means", e.means());
    for (Eigen::Index j = 0; j < e.n_components(); ++j) {
      r.add("covariance(" + std::to_string(j) + ")", e.covariance(j));
      r.add("precisions_cholesky(" + std::to_string(j) + ")", e.precisions_cholesky(j));
    }
    const auto drawn = e.sample(40, 7);
    return r.add("noise_weight", e.noise_weight())
        .add("noise_low", e.noise_low())
        .add("noise_high", e.noise_high())
        .add("lower_bound", e.lower_bound())
        .add("n_iter", e.n_iter())
        .add("converged", e.converged())
        .add("n_features", static_cast<double>(e.n_features()))
        .add("n_parameters", static_cast<double>(e.n_parameters()))
        .add("sample: points", drawn.first)
        .add("sample: components", drawn.second);
  }
  template <typename D>
  static Record outputs(const E& e, const Eigen::MatrixBase<D>& X) {
    return Record()
        .add("predict", e.predict(X))
        .add("predict_proba", e.predict_proba(X))
        .add("score_samples", e.score_samples(X))
        .add("score", e.score(X))
        .add("bic", e.bic(X))
        .add("aic", e.aic(X));
  }
};

}  // namespace emcluster_test::contract

EMCLUSTER_ESTIMATOR_CONTRACT("[gmm]", emcluster::GaussianMixture<float>,
                             emcluster::GaussianMixture<double>)

// =============================================================================================
// Helpers

namespace {

/// A fitted model's parameters for the brute-force reference (support/reference.hpp).
MixtureParameters parameters_of(const GaussianMixture<>& g) {
  MixtureParameters m;
  m.weights = g.weights();
  m.means = g.means();
  for (Eigen::Index j = 0; j < g.n_components(); ++j) m.covariances.push_back(g.covariance(j));
  m.noise_weight = g.noise_weight();
  m.noise_low = g.noise_low();
  m.noise_high = g.noise_high();
  return m;
}

template <typename Model>
bool all_parameters_finite(const Model& g) {
  bool ok = g.weights().allFinite() && g.means().allFinite() && std::isfinite(g.lower_bound());
  for (Eigen::Index j = 0; j < g.n_components(); ++j) {
    ok = ok && g.covariance(j).allFinite() && g.precisions_cholesky(j).allFinite();
  }
  return ok;
}

std::vector<Eigen::MatrixXf> to_float(const std::vector<Eigen::MatrixXd>& blocks) {
  std::vector<Eigen::MatrixXf> out;
  for (const auto& b : blocks) out.emplace_back(b.cast<float>());
  return out;
}

}  // namespace

// =============================================================================================
// scikit-learn and the EM objective

TEST_CASE("GaussianMixture: agrees with scikit-learn 1.2.1 from the same initial parameters",
          "[gmm][sklearn]") {
  const Eigen::MatrixXd X = read_csv("gmm_sklearn_X.csv");
  const auto cases = read_mixture_cases();
  REQUIRE(cases.size() == 9);
  for (const auto& c : cases) {
    const std::string name = c.header.at("name");
    INFO("case " << name);
    const CovarianceType type = parse_covariance_type(c.header.at("type"));
    const Eigen::Index k = std::stoi(c.header.at("k")), d = std::stoi(c.header.at("d"));
    GaussianMixture<>::Options o;
    o.n_components = k;
    o.covariance_type = type;
    o.tol = std::stod(c.header.at("tol"));
    o.reg_covar = std::stod(c.header.at("reg_covar"));
    o.max_iter = std::stoi(c.header.at("max_iter"));
    o.init = GaussianMixtureInit::explicit_parameters;
    o.initial_weights = Eigen::Map<const Eigen::VectorXd>(c.values.at("weights_init").data(), k);
    o.initial_means = as_matrix(c.values.at("means_init"), k, d);
    o.initial_precisions = compact_precisions(c.values.at("precisions_init"), type, k, d);
    GaussianMixture<> g(o);
    g.fit(X);

    const Eigen::VectorXd weights =
        Eigen::Map<const Eigen::VectorXd>(c.values.at("weights").data(), k);
    const Eigen::MatrixXd means = as_matrix(c.values.at("means"), k, d);
    double dw = (g.weights() - weights).cwiseAbs().maxCoeff();
    double dm = (g.means() - means).cwiseAbs().maxCoeff();
    double dc = 0, dp = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      dc = std::max(dc, (g.covariance(j) - sklearn_block(c.values.at("covariances"), type, d, j))
                            .cwiseAbs()
                            .maxCoeff());
      dp = std::max(dp, (g.precisions_cholesky(j) -
                         sklearn_block(c.values.at("precisions_cholesky"), type, d, j))
                            .cwiseAbs()
                            .maxCoeff());
    }
    const double dlb = std::abs(g.lower_bound() - c.values.at("lower_bound")[0]);
    const double dbic = std::abs(g.bic(X) - c.values.at("bic")[0]);
    const double daic = std::abs(g.aic(X) - c.values.at("aic")[0]);
    const Eigen::VectorXd ss = g.score_samples(X);
    const double dss =
        (ss - Eigen::Map<const Eigen::VectorXd>(c.values.at("score_samples").data(), X.rows()))
            .cwiseAbs()
            .maxCoeff();
    const Eigen::VectorXi labels = g.predict(X);
    int label_mismatch = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      label_mismatch +=
          labels(i) != static_cast<int>(c.values.at("labels")[static_cast<std::size_t>(i)]);
    if (verbose()) {
      std::cout << "sklearn " << name << ": max |diff| weights " << dw << ", means " << dm
                << ", covariances " << dc << ", precisions_cholesky " << dp << ", lower_bound "
                << dlb << ", bic " << dbic << ", aic " << daic << ", score_samples " << dss
                << "; n_iter " << g.n_iter() << "\n";
    }
    CHECK(dw < 1e-6);
    CHECK(dm < 1e-6);
    CHECK(dc < 1e-6);
    CHECK(dp < 1e-6);
    CHECK(dlb < 1e-6);
    CHECK(dbic < 1e-6);
    CHECK(daic < 1e-6);
    CHECK(dss < 1e-6);
    CHECK(label_mismatch == 0);
    CHECK(g.n_iter() == static_cast<int>(c.values.at("n_iter")[0]));
    CHECK(g.converged() == (c.values.at("converged")[0] != 0));

    // float: the same fit in single precision stays close (the E-step's products in float).
    GaussianMixture<float>::Options of;
    of.n_components = k;
    of.covariance_type = type;
    of.tol = o.tol;
    of.reg_covar = o.reg_covar;
    of.max_iter = o.max_iter;
    of.init = GaussianMixtureInit::explicit_parameters;
    of.initial_weights = o.initial_weights.cast<float>();
    of.initial_means = o.initial_means.cast<float>();
    of.initial_precisions =
        to_float(compact_precisions(c.values.at("precisions_init"), type, k, d));
    GaussianMixture<float> gf(of);
    const Eigen::MatrixXf Xf = X.cast<float>();
    gf.fit(Xf);
    const double fm = (gf.means().cast<double>() - means).cwiseAbs().maxCoeff();
    const double flb = std::abs(gf.lower_bound() - c.values.at("lower_bound")[0]);
    if (verbose())
      std::cout << "  float: means " << fm << ", lower_bound " << flb << ", n_iter " << gf.n_iter()
                << "\n";
    CHECK(fm < 1e-4);
    CHECK(flb < 1e-5);
  }
}

TEST_CASE(
    "GaussianMixture: the lower bound never decreases, all covariance types, float and double",
    "[gmm]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 900, 3);
  const Eigen::MatrixXf Xf = X.cast<float>();
  for (CovarianceType type : kAllTypes) {
    for (bool noise : {false, true}) {
      INFO(type_name(type) << (noise ? " with noise" : ""));
      std::vector<double> lb, lbf;
      GaussianMixture<>::Options o;
      o.n_components = 4;  // one more than the truth: a slow, long climb
      o.covariance_type = type;
      o.tol = 0;
      o.max_iter = 60;
      o.init = GaussianMixtureInit::random_points;
      o.seed = 5;
      o.noise_component = noise;
      o.callback = [&](const GaussianMixtureIteration& it) { lb.push_back(it.lower_bound); };
      GaussianMixture<> g(o);
      g.fit(X);
      GaussianMixture<float>::Options of;
      of.n_components = o.n_components;
      of.covariance_type = type;
      of.tol = 0;
      of.max_iter = 60;
      of.init = GaussianMixtureInit::random_points;
      of.seed = 5;
      of.noise_component = noise;
      of.callback = [&](const GaussianMixtureIteration& it) { lbf.push_back(it.lower_bound); };
      GaussianMixture<float> gf(of);
      gf.fit(Xf);
      REQUIRE(lb.size() == 60);
      REQUIRE(lbf.size() == 60);
      CHECK(lb.back() > lb.front() + 0.01);  // it did climb
      double worst = 0, worst_f = 0;
      for (std::size_t i = 1; i < lb.size(); ++i) {
        worst = std::min(worst, lb[i] - lb[i - 1]);
        worst_f = std::min(worst_f, lbf[i] - lbf[i - 1]);
      }
      CHECK(worst >= -1e-12);
      CHECK(worst_f >= -2e-6);  // float E-step: rounding of the log-densities in float
      CHECK(g.lower_bound() == lb.back());
    }
  }
}

// =============================================================================================
// Densities and posteriors

TEST_CASE("GaussianMixture: score_samples and predict_proba equal a brute-force computation",
          "[gmm]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 600, 7);
  Eigen::MatrixXd Q(5, 2);
  Q << 0, 0, 3, 4, -5, 9, 20, -20, 1.5, 1.5;
  for (CovarianceType type : kAllTypes) {
    for (bool noise : {false, true}) {
      INFO(type_name(type) << (noise ? " with noise" : ""));
      GaussianMixture<>::Options o;
      o.n_components = 3;
      o.covariance_type = type;
      o.noise_component = noise;
      GaussianMixture<> g(o);
      g.fit(X);
      const Eigen::VectorXd ss = g.score_samples(Q);
      const Eigen::MatrixXd proba = g.predict_proba(Q);
      const Eigen::VectorXi labels = g.predict(Q);
      REQUIRE(proba.cols() == 3 + (noise ? 1 : 0));
      const MixtureParameters params = parameters_of(g);
      double total = 0;
      for (Eigen::Index i = 0; i < Q.rows(); ++i) {
        const double ref = mixture_log_density(params, Q.row(i));
        CHECK(ss(i) == Approx(ref).epsilon(1e-10).margin(1e-10));
        total += ss(i);
        CHECK(proba.row(i).sum() == Approx(1.0).epsilon(1e-12));
        // Posterior of component j by brute force: w_j N_j(x) / p(x).
        for (Eigen::Index j = 0; j < 3; ++j)
          CHECK(proba(i, j) == Approx(posterior(params, Q.row(i), j)).margin(1e-10));
        Eigen::Index best = 0;
        proba.row(i).maxCoeff(&best);
        CHECK(labels(i) == (best == 3 ? -1 : static_cast<int>(best)));
      }
      CHECK(g.score(Q) == Approx(total / 5).epsilon(1e-12));
      // predict on the training data equals fit_predict.
      GaussianMixture<> again(o);
      CHECK(again.fit_predict(X) == g.predict(X));
    }
  }
  // The point (20, -20) lies outside the data's bounding box: no noise density there.
  GaussianMixture<>::Options o;
  o.n_components = 3;
  o.noise_component = true;
  GaussianMixture<> g(o);
  g.fit(X);
  CHECK(g.predict_proba(Q)(3, 3) == 0.0);
  CHECK(g.predict(Q)(3) >= 0);
}

TEST_CASE("GaussianMixture: stays finite where linear densities underflow", "[gmm][underflow]") {
  SECTION("d = 50, variances 1e-4") {
    const Eigen::Index d = 50, per = 100;
    emcluster::detail::Random rng(17);
    Eigen::MatrixXd X(3 * per, d);
    Eigen::VectorXi truth(3 * per);
    for (Eigen::Index i = 0; i < 3 * per; ++i) {
      const Eigen::Index j = i % 3;
      truth(i) = static_cast<int>(j);
      for (Eigen::Index f = 0; f < d; ++f)
        X(i, f) = 0.2 * static_cast<double>(j) * ((f % 2) ? 1 : -1) + 0.01 * rng.normal();
    }
    for (CovarianceType type : kAllTypes) {
      INFO(type_name(type));
      GaussianMixture<>::Options o;
      o.n_components = 3;
      o.covariance_type = type;
      GaussianMixture<> g(o);
      g.fit(X);
      CHECK(all_parameters_finite(g));
      CHECK(g.lower_bound() >
            100);  // densities far above 1: the log-likelihood is large and positive
      CHECK(emcluster::adjusted_rand_score(truth, g.predict(X)) == 1.0);
      CHECK(g.score_samples(X).allFinite());
      // A point between the clusters: every density underflows a double, the log does not.
      const Eigen::MatrixXd mid = 0.5 * (X.row(0) + X.row(1));
      const Eigen::MatrixXd proba = g.predict_proba(mid);
      CHECK(proba.allFinite());
      CHECK(proba.sum() == Approx(1.0));
      CHECK(std::isfinite(g.score_samples(mid)(0)));
      CHECK(g.score_samples(mid)(0) < -1e3);
      // float
      GaussianMixture<float>::Options of;
      of.n_components = 3;
      of.covariance_type = type;
      GaussianMixture<float> gf(of);
      const Eigen::MatrixXf Xf = X.cast<float>();
      gf.fit(Xf);
      CHECK(all_parameters_finite(gf));
      CHECK(emcluster::adjusted_rand_score(truth, gf.predict(Xf)) == 1.0);
      CHECK(gf.predict_proba(Eigen::MatrixXf(mid.cast<float>())).allFinite());
    }
  }
  SECTION("points 40 standard deviations from every mean") {
    // Two unit-variance components at -40 and +40 (in 1-D) and data around them; the point
    // 0 is 40 sd from both: its density is e^-800 / sqrt(2 pi), far below the smallest double.
    emcluster::detail::Random rng(3);
    Eigen::MatrixXd X(400, 1);
    for (Eigen::Index i = 0; i < 400; ++i) X(i, 0) = (i % 2 ? 40.0 : -40.0) + rng.normal();
    for (CovarianceType type : kAllTypes) {
      INFO(type_name(type));
      GaussianMixture<>::Options o;
      o.n_components = 2;
      o.covariance_type = type;
      GaussianMixture<> g(o);
      g.fit(X);
      Eigen::MatrixXd far(3, 1);
      far << 0.0, 200.0, -500.0;
      const Eigen::VectorXd ss = g.score_samples(far);
      REQUIRE(ss.allFinite());
      // Exact value at 0 in log space: log sum_j w_j N(0 | mu_j, s_j^2).
      double terms[2];
      for (Eigen::Index j = 0; j < 2; ++j) {
        const double s2 = g.covariance(j)(0, 0), mu = g.means()(j, 0);
        terms[j] = std::log(g.weights()(j)) - 0.5 * std::log(2 * M_PI * s2) - 0.5 * mu * mu / s2;
      }
      const double m = std::max(terms[0], terms[1]);
      CHECK(ss(0) ==
            Approx(m + std::log(std::exp(terms[0] - m) + std::exp(terms[1] - m))).epsilon(1e-12));
      CHECK(ss(0) < -700);
      const Eigen::MatrixXd proba = g.predict_proba(far);
      CHECK(proba.allFinite());
      CHECK((proba.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-12);
      // 200 is closer to +40 than to -40 (for equal variances).
      const Eigen::Index plus = g.means()(0, 0) > 0 ? 0 : 1;
      CHECK(g.predict(far)(1) == static_cast<int>(plus));
      // The fit itself, with a component 40 sd from the other's data, stays finite.
      CHECK(all_parameters_finite(g));
    }
  }
}

// =============================================================================================
// The fitted parameters

TEST_CASE("GaussianMixture: the E- and M-step kernels agree with their references",
          "[gmm][kernels]") {
  // diagonal_quadratic (log-densities of the diagonal and spherical models),
  // add_diagonal_moments (their statistics) and add_weighted_moments (the full and tied
  // statistics), each against the plain Eigen expression it replaces: feature counts below,
  // at and above the register group of 8 and the compiled sizes (1-12), row counts that are
  // not a multiple of a SIMD packet, weights of mixed sizes.
  namespace ed = emcluster::detail;
  ed::Random rng(29);
  for (const Eigen::Index d : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 21}) {
    for (const Eigen::Index rows : {1, 3, 8, 17, 256, 1001}) {
      INFO("d = " << d << ", rows = " << rows);
      Eigen::MatrixXd xd(rows, d);
      for (Eigen::Index i = 0; i < xd.size(); ++i) xd.data()[i] = 100.0 + 3.0 * rng.normal();
      const Eigen::Index k = 3;
      Eigen::MatrixXd shifts(k, d);
      for (Eigen::Index i = 0; i < shifts.size(); ++i) shifts.data()[i] = 100.0 + rng.normal();
      Eigen::VectorXd r(rows);
      for (Eigen::Index i = 0; i < rows; ++i) r(i) = std::exp(4.0 * rng.normal());
      for (const auto type : {CovarianceType::diagonal, CovarianceType::spherical}) {
        ed::MixtureStats fast(type, k, d), reference(type, k, d);
        for (Eigen::Index j = 0; j < k; ++j) {
          ed::add_diagonal_moments(xd, r.data(), shifts, j, fast);
          ed::add_diagonal_moments_reference(xd, r.data(), shifts, j, reference);
        }
        const double scale = reference.values.cwiseAbs().maxCoeff();
        REQUIRE(scale > 0);
        for (Eigen::Index v = 0; v < fast.values.size(); ++v) {
          INFO("statistic " << v);
          CHECK(std::abs(fast.values(v) - reference.values(v)) <= 1e-13 * scale);
        }
      }
      // add_weighted_moments (full and tied statistics), a row of the shifts (strided) as
      // the centre, against the reference on the centred block.
      for (Eigen::Index j = 0; j < k && d > 0; ++j) {
        Eigen::RowVectorXd f_fast = Eigen::RowVectorXd::Zero(d), f_reference = f_fast;
        Eigen::MatrixXd s_fast = Eigen::MatrixXd::Zero(d, d), s_reference = s_fast;
        Eigen::MatrixXd diff, scratch;
        ed::add_weighted_moments(xd, shifts.row(j), r.array(), f_fast,
                                 Eigen::Map<Eigen::MatrixXd>(s_fast.data(), d, d), diff, scratch);
        const Eigen::MatrixXd centred = xd.rowwise() - shifts.row(j);
        ed::add_weighted_moments_reference(centred, r.array(), f_reference,
                                           Eigen::Map<Eigen::MatrixXd>(s_reference.data(), d, d),
                                           scratch);
        const double scale = std::max(s_reference.cwiseAbs().maxCoeff(), r.sum());
        for (Eigen::Index a = 0; a < d; ++a) {
          INFO("feature " << a);
          CHECK(std::abs(f_fast(a) - f_reference(a)) <= 1e-13 * scale);
          for (Eigen::Index b = 0; b <= a; ++b) {
            CHECK(std::abs(s_fast(a, b) - s_reference(a, b)) <= 1e-13 * scale);
          }
        }
      }
      Eigen::VectorXd p(d);
      for (Eigen::Index f = 0; f < d; ++f) p(f) = 0.5 + std::abs(rng.normal());
      const Eigen::RowVectorXd mu = shifts.row(1);
      for (const double* weights :
           {static_cast<const double*>(p.data()), static_cast<const double*>(nullptr)}) {
        Eigen::VectorXd fast(rows), reference(rows);
        ed::diagonal_quadratic(xd, mu, weights, -3.5, -0.5, fast.data());
        ed::diagonal_quadratic_reference(xd, mu, weights, -3.5, -0.5, reference.data());
        for (Eigen::Index i = 0; i < rows; ++i) {
          INFO("row " << i);
          CHECK(fast(i) == Approx(reference(i)).epsilon(1e-14).margin(1e-14));
        }
      }
    }
  }
}

TEST_CASE("GaussianMixture: recovers the parameters of a known mixture", "[gmm]") {
  const KnownMixture truth = three_in_2d();
  const Eigen::MatrixXd X = draw(truth, 6000, 11);
  GaussianMixture<>::Options o;
  o.n_components = 3;
  o.seed = 1;
  GaussianMixture<> g(o);
  g.fit(X);
  CHECK(g.converged());
  // Match components by nearest mean.
  for (Eigen::Index t = 0; t < 3; ++t) {
    Eigen::Index j = 0;
    (g.means().rowwise() - truth.means[static_cast<std::size_t>(t)].transpose())
        .rowwise()
        .squaredNorm()
        .minCoeff(&j);
    INFO("true component " << t << " -> fitted " << j);
    // Tolerances: about four standard errors at n_j >= 1200 samples.
    CHECK((g.means().row(j).transpose() - truth.means[static_cast<std::size_t>(t)])
              .cwiseAbs()
              .maxCoeff() < 0.12);
    CHECK((g.covariance(j) - truth.covariances[static_cast<std::size_t>(t)]).cwiseAbs().maxCoeff() <
          0.12 * truth.covariances[static_cast<std::size_t>(t)].cwiseAbs().maxCoeff());
    CHECK(std::abs(g.weights()(j) - truth.weights(t)) < 0.025);
  }
  // The true parameters' log-likelihood is no better than the fitted one (EM maximises it).
  MixtureParameters true_parameters;
  true_parameters.weights = truth.weights;
  true_parameters.means.resize(3, 2);
  for (std::size_t t = 0; t < 3; ++t)
    true_parameters.means.row(static_cast<Eigen::Index>(t)) = truth.means[t];
  true_parameters.covariances = truth.covariances;
  double ll_true = 0;
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    ll_true += mixture_log_density(true_parameters, X.row(i));
  CHECK(g.score(X) >= ll_true / static_cast<double>(X.rows()));
  CHECK(g.n_parameters() == 3 * 3 + 3 * 2 + 2);
  CHECK(g.bic(X) == Approx(-2 * g.score(X) * 6000 + 17 * std::log(6000.0)).epsilon(1e-12));
  CHECK(g.aic(X) == Approx(-2 * g.score(X) * 6000 + 34).epsilon(1e-12));
}

TEST_CASE("GaussianMixture: sample() draws from the fitted model", "[gmm]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 3000, 13);
  for (CovarianceType type : kAllTypes) {
    INFO(type_name(type));
    GaussianMixture<>::Options o;
    o.n_components = 3;
    o.covariance_type = type;
    GaussianMixture<> g(o);
    g.fit(X);
    const Eigen::Index n = 60000;
    const auto [S, labels] = g.sample(n, 99);
    REQUIRE(S.rows() == n);
    for (Eigen::Index j = 0; j < 3; ++j) {
      std::vector<Eigen::Index> rows;
      for (Eigen::Index i = 0; i < n; ++i) {
        if (labels(i) == j) rows.push_back(i);
      }
      const auto m = static_cast<Eigen::Index>(rows.size());
      CHECK(static_cast<double>(m) / static_cast<double>(n) == Approx(g.weights()(j)).margin(0.01));
      Eigen::MatrixXd Sj(m, 2);
      for (Eigen::Index r = 0; r < m; ++r) Sj.row(r) = S.row(rows[static_cast<std::size_t>(r)]);
      const Eigen::RowVectorXd mean = Sj.colwise().mean();
      const Eigen::MatrixXd centred = Sj.rowwise() - mean;
      const Eigen::MatrixXd cov = centred.transpose() * centred / static_cast<double>(m - 1);
      const Eigen::MatrixXd C = g.covariance(j);
      CHECK((mean - g.means().row(j)).cwiseAbs().maxCoeff() <
            5 * std::sqrt(C.diagonal().maxCoeff() / static_cast<double>(m)));
      CHECK((cov - C).cwiseAbs().maxCoeff() < 0.06 * C.cwiseAbs().maxCoeff());
    }
    const auto again = g.sample(n, 99);
    CHECK(again.first == S);
    CHECK(again.second == labels);
  }
  // With a noise component: noise points (label -1) are uniform in the box.
  GaussianMixture<>::Options o;
  o.n_components = 3;
  o.noise_component = true;
  o.noise_low = Eigen::Vector2d(-20, -20);
  o.noise_high = Eigen::Vector2d(30, 30);
  GaussianMixture<> g(o);
  g.fit(X);
  const auto [S, labels] = g.sample(40000, 5);
  Eigen::Index noise = 0;
  for (Eigen::Index i = 0; i < S.rows(); ++i) {
    if (labels(i) != -1) continue;
    ++noise;
    CHECK(S(i, 0) >= -20);
    CHECK(S(i, 1) < 30);
  }
  CHECK(static_cast<double>(noise) / 40000.0 == Approx(g.noise_weight()).margin(0.004));
  CHECK_THROWS_AS(g.sample(0, 1), std::invalid_argument);
}

TEST_CASE("GaussianMixture: the first iteration starts from explicit initial parameters", "[gmm]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 600, 91);
  GaussianMixture<>::Options o;
  o.n_components = 3;
  o.covariance_type = CovarianceType::diagonal;
  o.init = GaussianMixtureInit::explicit_parameters;
  o.initial_means = (Eigen::MatrixXd(3, 2) << 0, 0, 6, 1, 1, 7).finished();
  o.initial_weights = Eigen::Vector3d(0.2, 0.3, 0.5);
  o.initial_precisions = {Eigen::Vector2d(1, 1), Eigen::Vector2d(0.5, 1), Eigen::Vector2d(0.25, 2)};
  o.max_iter = 1;
  o.tol = 0;
  std::vector<double> lb;
  o.callback = [&](const GaussianMixtureIteration& it) { lb.push_back(it.lower_bound); };
  GaussianMixture<> g(o);
  g.fit(X);
  // The first lower bound is the log-likelihood of exactly the given parameters.
  double ll = 0;
  const double var[3][2] = {{1, 1}, {2, 1}, {4, 0.5}};
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    double p = 0;
    for (int j = 0; j < 3; ++j) {
      double l = std::log(o.initial_weights(j)) - std::log(2 * M_PI);
      for (int f = 0; f < 2; ++f) {
        const double z = X(i, f) - o.initial_means(j, f);
        l += -0.5 * z * z / var[j][f] - 0.5 * std::log(var[j][f]);
      }
      p += std::exp(l);
    }
    ll += std::log(p);
  }
  REQUIRE(lb.size() == 1);
  CHECK(lb[0] == Approx(ll / 600).epsilon(1e-12));
  // A full precision given as a matrix (not symmetric: rejected; not positive definite: rejected).
  GaussianMixture<>::Options f;
  f.n_components = 1;
  f.initial_means = Eigen::MatrixXd::Zero(1, 2);
  f.initial_weights = Eigen::VectorXd::Ones(1);
  f.initial_precisions = {(Eigen::MatrixXd(2, 2) << 1, 0.5, 0.4, 1).finished()};
  CHECK_THROWS_WITH(GaussianMixture<>(f).fit(X), Contains("symmetric"));
  f.initial_precisions = {(Eigen::MatrixXd(2, 2) << 1, 2, 2, 1).finished()};
  CHECK_THROWS_WITH(GaussianMixture<>(f).fit(X), Contains("positive definite"));
  f.initial_precisions = {(Eigen::MatrixXd(2, 2) << 2, 0.5, 0.5, 1).finished()};
  GaussianMixture<> one(f);
  CHECK_NOTHROW(one.fit(X));
}

TEST_CASE("GaussianMixture: sample weights act as repeated rows", "[gmm][weights]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 200, 61);
  Eigen::VectorXd w(200);
  std::vector<Eigen::Index> rows;
  for (Eigen::Index i = 0; i < 200; ++i) {
    w(i) = static_cast<double>(i % 3);
    for (int r = 0; r < i % 3; ++r) rows.push_back(i);
  }
  Eigen::MatrixXd repeated(static_cast<Eigen::Index>(rows.size()), 2);
  for (std::size_t r = 0; r < rows.size(); ++r)
    repeated.row(static_cast<Eigen::Index>(r)) = X.row(rows[r]);
  for (CovarianceType type : kAllTypes) {
    INFO(type_name(type));
    GaussianMixture<>::Options o;
    o.n_components = 3;
    o.covariance_type = type;
    o.init = GaussianMixtureInit::explicit_parameters;  // means only: the rest from the
                                                        // nearest-mean assignment
    o.initial_means = (Eigen::MatrixXd(3, 2) << 0, 0, 6, 1, 1, 7).finished();
    o.tol = 0;
    o.max_iter = 15;
    GaussianMixture<> a(o), b(o);
    a.fit(X, w);
    b.fit(repeated);
    CHECK((a.means() - b.means()).cwiseAbs().maxCoeff() < 1e-10);
    CHECK((a.weights() - b.weights()).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((a.covariance(2) - b.covariance(2)).cwiseAbs().maxCoeff() < 1e-10);
    CHECK(a.lower_bound() == Approx(b.lower_bound()).epsilon(1e-12));
  }
  // Weighted k-means init and noise run too.
  GaussianMixture<>::Options o;
  o.n_components = 3;
  o.noise_component = true;
  GaussianMixture<> g(o);
  CHECK(g.fit_predict(X, w).size() == 200);
  CHECK(all_parameters_finite(g));
}

TEST_CASE("GaussianMixture: warm start continues where the last fit stopped", "[gmm]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 800, 51);
  GaussianMixture<>::Options o;
  o.n_components = 3;
  o.tol = 0;
  o.max_iter = 6;
  o.seed = 3;
  GaussianMixture<> straight(o);
  straight.fit(X);

  o.max_iter = 3;
  o.warm_start = true;
  std::vector<GaussianMixtureIteration> its;
  o.callback = [&](const GaussianMixtureIteration& it) { its.push_back(it); };
  GaussianMixture<> warm(o);
  warm.fit(X);
  warm.fit(X);
  CHECK(warm.n_iter() == 3);
  CHECK(warm.means() == straight.means());
  CHECK(warm.covariance(0) == straight.covariance(0));
  CHECK(warm.lower_bound() == straight.lower_bound());
  REQUIRE(its.size() == 6);
  CHECK(std::isinf(its[0].change));
  CHECK(std::isfinite(its[3].change));  // continues from the previous lower bound
  CHECK(its[3].change == its[3].lower_bound - its[2].lower_bound);
}

// =============================================================================================
// Degenerate data

TEST_CASE("GaussianMixture: singular data give a valid model or numerical_error, never NaN",
          "[gmm][singular]") {
  SECTION("duplicated points: every component collapses onto one point, reg_covar keeps it valid") {
    Eigen::MatrixXd X(60, 2);
    for (Eigen::Index i = 0; i < 60; ++i)
      X.row(i) =
          Eigen::RowVector2d(static_cast<double>(i % 3), static_cast<double>((i % 3) * (i % 3)));
    for (CovarianceType type : kAllTypes) {
      INFO(type_name(type));
      GaussianMixture<>::Options o;
      o.n_components = 3;
      o.covariance_type = type;
      GaussianMixture<> g(o);
      g.fit(X);
      CHECK(all_parameters_finite(g));
      if (type != CovarianceType::tied) {
        for (Eigen::Index j = 0; j < 3; ++j)
          CHECK(g.covariance(j).cwiseAbs().maxCoeff() == Approx(1e-6).epsilon(1e-6));
      }
      CHECK(g.predict_proba(X).allFinite());
    }
  }
  SECTION("a constant feature") {
    Eigen::MatrixXd X = draw(three_in_2d(), 500, 21);
    X.col(1).setConstant(3.0);
    for (CovarianceType type : kAllTypes) {
      INFO(type_name(type));
      GaussianMixture<>::Options o;
      o.n_components = 3;
      o.covariance_type = type;
      GaussianMixture<> g(o);
      g.fit(X);
      CHECK(all_parameters_finite(g));
      if (type != CovarianceType::spherical) {
        for (Eigen::Index j = 0; j < 3; ++j)
          CHECK(g.covariance(j)(1, 1) == Approx(1e-6).epsilon(1e-6));
      }
      CHECK(g.score_samples(X).allFinite());
    }
  }
  SECTION("more components than distinct points") {
    Eigen::MatrixXd X(30, 2);
    for (Eigen::Index i = 0; i < 30; ++i)
      X.row(i) = Eigen::RowVector2d(static_cast<double>(i % 3), 1.0 - static_cast<double>(i % 3));
    for (CovarianceType type : kAllTypes) {
      for (GaussianMixtureInit init :
           {GaussianMixtureInit::kmeans, GaussianMixtureInit::kmeans_plus_plus,
            GaussianMixtureInit::random_points, GaussianMixtureInit::random_responsibilities}) {
        INFO(type_name(type) << " init " << static_cast<int>(init));
        GaussianMixture<>::Options o;
        o.n_components = 5;
        o.covariance_type = type;
        o.init = init;
        GaussianMixture<> g(o);
        try {
          g.fit(X);
          CHECK(all_parameters_finite(g));
          CHECK(g.predict_proba(X).allFinite());
        } catch (const emcluster::numerical_error& e) {
          CHECK_THAT(e.what(), Contains("reg_covar"));
        }
      }
    }
  }
  SECTION("reg_covar = 0 on a collapsed component: numerical_error, the fitted model unchanged") {
    const Eigen::MatrixXd good = draw(three_in_2d(), 300, 2);
    Eigen::MatrixXd bad(30, 2);
    for (Eigen::Index i = 0; i < 30; ++i)
      bad.row(i) = Eigen::RowVector2d(static_cast<double>(i % 3), 5.0);
    for (CovarianceType type : kAllTypes) {
      INFO(type_name(type));
      GaussianMixture<>::Options o;
      o.n_components = 3;
      o.covariance_type = type;
      o.reg_covar = 0;
      GaussianMixture<> g(o);
      g.fit(good);
      const Eigen::MatrixXd means = g.means();
      const Eigen::MatrixXd cov = g.covariance(1);
      const double lb = g.lower_bound();
      const Eigen::VectorXd ss = g.score_samples(good);
      try {
        g.fit(bad);
        FAIL("no exception");
      } catch (const emcluster::numerical_error& e) {
        const std::string what = e.what();
        CHECK_THAT(what, Contains("reg_covar"));
        CHECK_THAT(what, Contains(type == CovarianceType::tied ? "tied" : "component"));
      }
      CHECK(g.means() == means);
      CHECK(g.covariance(1) == cov);
      CHECK(g.lower_bound() == lb);
      CHECK(g.score_samples(good) == ss);
    }
  }
}

// =============================================================================================
// Reproducibility and precision

TEST_CASE(
    "GaussianMixture: the same seed gives the same model, and restarts keep the best lower bound",
    "[gmm]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 1500, 31);
  GaussianMixture<>::Options r;
  r.n_components = 3;
  r.tol = 1e-8;
  const double reference = GaussianMixture<>(r).fit(X).lower_bound();
  for (GaussianMixtureInit init :
       {GaussianMixtureInit::kmeans, GaussianMixtureInit::kmeans_plus_plus,
        GaussianMixtureInit::random_points, GaussianMixtureInit::random_responsibilities}) {
    INFO("init " << static_cast<int>(init));
    std::vector<double> finals;
    GaussianMixture<>::Options o;
    o.n_components = 3;
    o.init = init;
    o.n_init = 4;
    o.seed = 8;
    // Random responsibilities put every mean near the data's mean, a saddle EM leaves slowly:
    // with the default tol it stops there after two iterations (as scikit-learn's "random").
    if (init == GaussianMixtureInit::random_responsibilities) o.tol = 1e-6;
    o.callback = [&](const GaussianMixtureIteration& it) {
      if (static_cast<std::size_t>(it.restart) == finals.size()) finals.push_back(it.lower_bound);
      finals[static_cast<std::size_t>(it.restart)] = it.lower_bound;
    };
    GaussianMixture<> a(o);
    a.fit(X);
    REQUIRE(finals.size() == 4);
    CHECK(a.lower_bound() == *std::max_element(finals.begin(), finals.end()));
    o.callback = nullptr;
    GaussianMixture<> b(o);
    b.fit(X);
    CHECK(a.means() == b.means());
    CHECK(a.weights() == b.weights());
    CHECK(a.covariance(2) == b.covariance(2));
    CHECK(a.lower_bound() == b.lower_bound());
    CHECK(a.n_iter() == b.n_iter());
    // Every init finds the three components on these data (close to the converged optimum).
    CHECK(a.lower_bound() > reference - 0.01);
  }
  // Different seeds start differently.
  GaussianMixture<>::Options o;
  o.n_components = 3;
  o.init = GaussianMixtureInit::random_points;
  o.max_iter = 1;
  o.tol = 0;
  o.seed = 1;
  const Eigen::MatrixXd m1 = GaussianMixture<>(o).fit(X).means();
  o.seed = 2;
  CHECK(GaussianMixture<>(o).fit(X).means() != m1);
}

TEST_CASE("GaussianMixture: float and double instantiations agree", "[gmm]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 2000, 81);
  // Far from the origin compared with the spread: the E-step centres on each mean and the
  // M-step accumulates around the previous means, so float loses nothing to the offset.
  const Eigen::MatrixXd Xo = X.array() + 1000.0;
  for (CovarianceType type : kAllTypes) {
    INFO(type_name(type));
    GaussianMixture<>::Options o;
    o.n_components = 3;
    o.covariance_type = type;
    o.init = GaussianMixtureInit::explicit_parameters;
    o.initial_means = (Eigen::MatrixXd(3, 2) << 0, 0, 6, 1, 1, 7).finished().array() + 1000.0;
    GaussianMixture<float>::Options of;
    of.n_components = 3;
    of.covariance_type = type;
    of.init = GaussianMixtureInit::explicit_parameters;
    of.initial_means = o.initial_means.cast<float>();
    GaussianMixture<> g(o);
    GaussianMixture<float> gf(of);
    g.fit(Xo);
    const Eigen::MatrixXf Xf = Xo.cast<float>();
    gf.fit(Xf);
    CHECK(g.n_iter() == gf.n_iter());
    CHECK((gf.means().cast<double>() - g.means()).cwiseAbs().maxCoeff() < 1e-3);
    for (Eigen::Index j = 0; j < 3; ++j) {
      CHECK((gf.covariance(j).cast<double>() - g.covariance(j)).cwiseAbs().maxCoeff() <
            1e-3 * g.covariance(j).cwiseAbs().maxCoeff());
    }
    CHECK(gf.lower_bound() == Approx(g.lower_bound()).epsilon(1e-5));
    CHECK(gf.predict(Xf) == g.predict(Xo));
  }
}

// =============================================================================================
// The article's data

TEST_CASE("GaussianMixture: the article's data, with and without the noise component",
          "[gmm][ari][article]") {
  const emcluster::Dataset<> data = emcluster::make_article_data<double>(42);
  REQUIRE(data.X.rows() == 1830);
  const Eigen::MatrixXd Z = standardise(data.X);
  const Eigen::VectorXi truth_c = clusters_only(data.labels, data.labels);

  emcluster::KMeans<>::Options ko;
  ko.n_clusters = 3;
  ko.n_init = 10;
  ko.seed = 42;
  emcluster::KMeans<> km(ko);
  km.fit(Z);
  const double km_ari =
      emcluster::adjusted_rand_score(truth_c, clusters_only(data.labels, km.labels()));

  GaussianMixture<>::Options o;
  o.n_components = 3;
  o.covariance_type = CovarianceType::full;
  o.seed = 0;
  GaussianMixture<> g(o);
  const Eigen::VectorXi labels = g.fit_predict(Z);
  const double ari_all = emcluster::adjusted_rand_score(data.labels, labels);
  const double ari = emcluster::adjusted_rand_score(truth_c, clusters_only(data.labels, labels));

  o.noise_component = true;
  GaussianMixture<> gn(o);
  const Eigen::VectorXi labels_n = gn.fit_predict(Z);
  const double ari_n_all = emcluster::adjusted_rand_score(data.labels, labels_n);
  const double ari_n =
      emcluster::adjusted_rand_score(truth_c, clusters_only(data.labels, labels_n));
  int noise_found = 0, cluster_as_noise = 0;
  for (Eigen::Index i = 0; i < labels_n.size(); ++i) {
    if (labels_n(i) != -1) continue;
    (data.labels(i) == -1 ? noise_found : cluster_as_noise) += 1;
  }
  if (verbose()) {
    std::cout << "article data (seed 42, standardised): KMeans ARI (clusters only) " << km_ari
              << "; GMM full ARI " << ari_all << " (clusters only " << ari << "), n_iter "
              << g.n_iter() << "; with noise: ARI " << ari_n_all << " (clusters only " << ari_n
              << "), noise weight " << gn.noise_weight() << " (truth " << 30.0 / 1830.0 << "), "
              << noise_found << " of 30 noise points labelled -1, " << cluster_as_noise
              << " cluster points labelled -1\n";
  }
  // Measured (seed 42): KMeans 0.862; GMM 0.909 (0.887 with the noise points); with the
  // noise component 0.924 (0.920), noise weight 0.0196, 25 of the 30 noise points labelled
  // -1 and 3 cluster points. With the true parameters (Bayes labels) the ARI would be 0.929
  // (clusters only): the clusters overlap. Bounds a little below the measured values.
  CHECK(ari > km_ari + 0.03);
  CHECK(ari >= 0.89);
  CHECK(ari_all >= 0.87);
  CHECK(ari_n >= 0.91);
  CHECK(ari_n_all >= 0.90);
  CHECK(ari_n > km_ari);
  CHECK(std::abs(gn.noise_weight() - 30.0 / 1830.0) < 0.006);
  CHECK(noise_found >= 22);
  CHECK(cluster_as_noise <= 6);
  CHECK(gn.bic(Z) < g.bic(Z));  // the noise component pays for its one parameter
  CHECK(gn.weights().sum() + gn.noise_weight() == Approx(1.0).epsilon(1e-12));
}

// =============================================================================================
// Errors beyond the estimator contract

TEST_CASE("GaussianMixture: bad options throw std::invalid_argument naming the option",
          "[gmm][errors]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 100, 101);
  auto fit_with = [&](const GaussianMixture<>::Options& o) { GaussianMixture<>(o).fit(X); };
  GaussianMixture<>::Options base;
  base.n_components = 3;
  {
    auto o = base;
    o.n_components = 0;
    CHECK_THROWS_WITH(fit_with(o), Contains("n_components = 0"));
  }
  {
    auto o = base;
    o.reg_covar = -1e-6;
    CHECK_THROWS_WITH(fit_with(o), Contains("reg_covar"));
  }
  {
    auto o = base;
    o.tol = -1;
    CHECK_THROWS_WITH(fit_with(o), Contains("tol"));
    o.tol = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(fit_with(o), Contains("tol"));
  }
  {
    auto o = base;
    o.max_iter = 0;
    CHECK_THROWS_WITH(fit_with(o), Contains("max_iter"));
  }
  {
    auto o = base;
    o.n_init = 0;
    CHECK_THROWS_WITH(fit_with(o), Contains("n_init"));
  }
  {
    auto o = base;
    o.n_components = 101;
    CHECK_THROWS_WITH(fit_with(o), Contains("fewer than n_components"));
  }
  {
    auto o = base;
    o.init = GaussianMixtureInit::explicit_parameters;
    CHECK_THROWS_WITH(fit_with(o), Contains("initial_means"));
    o.initial_means = Eigen::MatrixXd::Zero(2, 2);
    CHECK_THROWS_WITH(fit_with(o), Contains("initial_means is 2 x 2"));
  }
  {
    auto o = base;
    o.initial_weights = Eigen::Vector3d(0.5, 0.5, 0.5);
    CHECK_THROWS_WITH(fit_with(o), Contains("sum to"));
    o.initial_weights = Eigen::Vector2d(0.5, 0.5);
    CHECK_THROWS_WITH(fit_with(o), Contains("initial_weights has 2"));
    o.initial_weights = Eigen::Vector3d(1.5, -0.25, -0.25);
    CHECK_THROWS_WITH(fit_with(o), Contains("initial_weights[0]"));
  }
  {
    auto o = base;
    o.covariance_type = CovarianceType::diagonal;
    o.initial_precisions = {Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 1)};
    CHECK_THROWS_WITH(fit_with(o), Contains("needs 3"));
    o.initial_precisions = {Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 1), Eigen::Vector3d(1, 1, 1)};
    CHECK_THROWS_WITH(fit_with(o), Contains("must be 2 x 1"));
    o.initial_precisions = {Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 0)};
    CHECK_THROWS_WITH(fit_with(o), Contains("initial_precisions[2]"));
  }
  {
    auto o = base;
    o.noise_component = true;
    o.initial_noise_weight = 1.0;
    CHECK_THROWS_WITH(fit_with(o), Contains("initial_noise_weight"));
    o.initial_noise_weight = 0.1;
    o.noise_low = Eigen::Vector2d(0, 0);
    CHECK_THROWS_WITH(fit_with(o), Contains("noise_high"));
    o.noise_high = Eigen::Vector2d(1, 0);
    CHECK_THROWS_WITH(fit_with(o), Contains("noise_low[1] < noise_high[1]"));
    o.noise_low = Eigen::Vector3d(0, 0, 0);
    o.noise_high = Eigen::Vector3d(1, 1, 1);
    CHECK_THROWS_WITH(fit_with(o), Contains("3 entries"));
    // The data's own box needs volume.
    auto p = base;
    p.noise_component = true;
    Eigen::MatrixXd C = X;
    C.col(1).setConstant(2.0);
    CHECK_THROWS_WITH(GaussianMixture<>(p).fit(C), Contains("column 1 of X is constant"));
  }
}

TEST_CASE("GaussianMixture: a component index out of range and a warm start of another width throw",
          "[gmm][errors]") {
  const Eigen::MatrixXd X = draw(three_in_2d(), 100, 111);
  GaussianMixture<> g;  // one component
  g.fit(X);
  CHECK_THROWS_WITH(g.covariance(1), Contains("out of range"));
  CHECK_THROWS_WITH(g.covariance(-1), Contains("out of range"));
  CHECK_THROWS_WITH(g.precisions_cholesky(1), Contains("out of range"));
  // A warm start on data with other columns is rejected, the model kept.
  GaussianMixture<>::Options o;
  o.warm_start = true;
  GaussianMixture<> w(o);
  w.fit(X);
  const Eigen::MatrixXd means = w.means();
  CHECK_THROWS_WITH(w.fit(Eigen::MatrixXd::Zero(10, 3)), Contains("fitted on 2"));
  CHECK(w.means() == means);
}
