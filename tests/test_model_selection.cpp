// Tests of GaussianMixtureSearch and KMeansSearch: agreement with R's mclust (mclustBIC on
// faithful, iris, diabetes and banknote; tests/make_mclust_fixtures.R), the closed form at
// k = 1, ICL and AIC, shared initialisations, failed candidates as rows, the tables, the
// article's data, thread independence and bad input.
#include <catch2/catch.hpp>

#include <emcluster/datasets.hpp>
#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/model_selection.hpp>
#include <emcluster/preprocessing.hpp>

#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "support/check.hpp"

namespace {

using emcluster::CovarianceType;
using emcluster::GaussianMixtureSearch;
using emcluster::KMeansScore;
using emcluster::KMeansSearch;
using emcluster::MixtureCandidate;
using emcluster::NoiseSearch;
using emcluster::SelectionCriterion;
using emcluster_test::require_throw_with;

constexpr CovarianceType kAllTypes[] = {CovarianceType::full, CovarianceType::tied,
                                        CovarianceType::diagonal, CovarianceType::spherical};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

/// A data file of the mclust fixtures: a header line, then one sample per line.
Eigen::MatrixXd read_data(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);  // names
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    for (const std::string& cell : split(line)) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  REQUIRE(!rows.empty());
  Eigen::MatrixXd X(static_cast<Eigen::Index>(rows.size()),
                    static_cast<Eigen::Index>(rows[0].size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == rows[0].size());
    for (std::size_t j = 0; j < rows[i].size(); ++j) {
      X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
    }
  }
  return X;
}

/// One cell of mclust's BIC table (mclust's sign: higher is better; NaN for NA).
struct MclustCell {
  std::string type;
  Eigen::Index k = 0;
  double bic = 0;
  Eigen::Index n_parameters = 0;
  bool chosen = false;
};

std::map<std::string, std::vector<MclustCell>> read_mclust_table() {
  std::ifstream in(std::string(EMCLUSTER_TEST_DATA_DIR) + "/mclust_bic.csv");
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "dataset,n,d,model,type,k,bic,n_parameters,log_likelihood,chosen");
  std::map<std::string, std::vector<MclustCell>> table;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> f = split(line);
    REQUIRE(f.size() == 10);
    MclustCell c;
    c.type = f[4];
    c.k = std::stol(f[5]);
    c.bic = f[6] == "NA" ? std::numeric_limits<double>::quiet_NaN() : std::stod(f[6]);
    c.n_parameters = std::stol(f[7]);
    c.chosen = f[9] == "1";
    table[f[0]].push_back(c);
  }
  return table;
}

const MixtureCandidate& row_of(const GaussianMixtureSearch<>& search, Eigen::Index k,
                               CovarianceType type, bool noise = false) {
  for (const MixtureCandidate& c : search.results()) {
    if (c.k == k && c.covariance_type == type && c.noise == noise) return c;
  }
  FAIL("no row for k = " << k);
  return search.results().front();
}

/// The maximum log-likelihood of one Gaussian with the covariance type's constraint, by
/// the textbook formulas: -n/2 (d log 2 pi + log det S + d), S the constrained MLE.
double gaussian_mle_log_likelihood(const Eigen::MatrixXd& X, CovarianceType type) {
  const double n = static_cast<double>(X.rows());
  const Eigen::Index d = X.cols();
  const Eigen::RowVectorXd mean = X.colwise().mean();
  const Eigen::MatrixXd centred = X.rowwise() - mean;
  const Eigen::MatrixXd S = centred.transpose() * centred / n;
  double log_det = 0;
  switch (type) {
    case CovarianceType::full:
    case CovarianceType::tied:
      log_det = std::log(S.determinant());
      break;
    case CovarianceType::diagonal:
      log_det = S.diagonal().array().log().sum();
      break;
    case CovarianceType::spherical:
      log_det = static_cast<double>(d) * std::log(S.diagonal().mean());
      break;
  }
  const double log_two_pi = std::log(2.0 * 3.14159265358979323846);
  return -0.5 * n * (static_cast<double>(d) * log_two_pi + log_det + static_cast<double>(d));
}

Eigen::MatrixXd article_standardized() {
  const auto data = emcluster::make_article_data<double>(42);
  return emcluster::StandardScaler<>().fit_transform(data.X);
}

/// Three round, well separated clusters of 60 points in 2-D.
Eigen::MatrixXd three_blobs() {
  std::vector<Eigen::VectorXd> means(3, Eigen::VectorXd(2)), vars(3, Eigen::VectorXd(2));
  means[0] << 0, 0;
  means[1] << 8, 0;
  means[2] << 4, 7;
  for (auto& v : vars) v << 0.5, 0.5;
  return emcluster::make_clusters_with_noise<>({60, 60, 60}, means, vars, Eigen::VectorXd(),
                                               Eigen::VectorXd(), 0, 5)
      .X;
}

}  // namespace

TEST_CASE("GaussianMixtureSearch: k = 1 is the closed-form Gaussian MLE", "[model_selection]") {
  // Correlated 3-D data with unequal scales, and a real data set.
  Eigen::MatrixXd Y = emcluster::make_clusters_with_noise<>(
                          {500}, {Eigen::Vector3d(1, -2, 30)}, {Eigen::Vector3d(1, 4, 90)},
                          Eigen::VectorXd(), Eigen::VectorXd(), 0, 3)
                          .X;
  Y.col(1) += 0.8 * Y.col(0);
  Y.col(2) -= 2.5 * Y.col(1);
  const Eigen::MatrixXd faithful =
      read_data(std::string(EMCLUSTER_TEST_DATA_DIR) + "/mclust_faithful_X.csv");
  for (const Eigen::MatrixXd* X : std::vector<const Eigen::MatrixXd*>{&Y, &faithful}) {
    GaussianMixtureSearch<>::Options o;
    o.n_components = {1};
    o.reg_covar = 0;  // the plain MLE
    o.refine = 0;     // the first fit's iterations
    GaussianMixtureSearch<> search(o);
    search.fit(*X);
    REQUIRE(search.results().size() == 4);
    const double n = static_cast<double>(X->rows());
    for (CovarianceType type : kAllTypes) {
      INFO(emcluster::detail::covariance_type_name(type) << ", n = " << X->rows());
      const MixtureCandidate& c = row_of(search, 1, type);
      REQUIRE_FALSE(c.failed);
      const double expected = gaussian_mle_log_likelihood(*X, type);
      CHECK(std::abs(c.log_likelihood - expected) <= 1e-10 * std::abs(expected));
      CHECK(c.converged);
      CHECK(c.n_iter <= 2);
      const double p = static_cast<double>(c.n_parameters);
      CHECK(c.bic == Approx(-2 * c.log_likelihood + p * std::log(n)).epsilon(1e-14));
      CHECK(c.aic == Approx(-2 * c.log_likelihood + 2 * p).epsilon(1e-14));
      CHECK(c.icl == c.bic);  // one component: every posterior is 1
    }
    // tied and full are the same model at k = 1.
    CHECK(row_of(search, 1, CovarianceType::tied).log_likelihood ==
          Approx(row_of(search, 1, CovarianceType::full).log_likelihood).epsilon(1e-13));
  }
}

TEST_CASE("GaussianMixtureSearch agrees with mclust's mclustBIC", "[model_selection][mclust]") {
  // mclust: EM from its hierarchical clustering, no regularisation, relative tolerance 1e-5
  // on the log-likelihood. emcluster: ten K-means starts per k, no regularisation, tol 1e-5.
  const auto table = read_mclust_table();
  REQUIRE(table.size() == 4);
  std::ostringstream report;
  report << "mclust comparison (BIC in emcluster's sign, lower is better):\n";
  for (const auto& [name, cells] : table) {
    INFO("data set " << name);
    const Eigen::MatrixXd X =
        read_data(std::string(EMCLUSTER_TEST_DATA_DIR) + "/mclust_" + name + "_X.csv");
    REQUIRE(cells.size() == 36);
    GaussianMixtureSearch<>::Options o;
    o.reg_covar = 0;
    o.n_init = 10;
    o.kmeans_n_init = 1;
    o.tol = 1e-5;
    o.max_iter = 1000;
    GaussianMixtureSearch<> search(o);
    search.fit(X);
    REQUIRE(search.results().size() == 36);

    const MclustCell* mclust_choice = nullptr;
    for (const MclustCell& m : cells) {
      CovarianceType type = CovarianceType::full;
      for (CovarianceType t : kAllTypes) {
        if (m.type == emcluster::detail::covariance_type_name(t)) type = t;
      }
      const MixtureCandidate& c = row_of(search, m.k, type);
      INFO(m.type << ", k = " << m.k << ": emcluster " << c.bic << " (" << c.error << "), mclust "
                  << -m.bic);
      CHECK(c.n_parameters == m.n_parameters);
      if (m.chosen) mclust_choice = &m;
      if (std::isnan(m.bic)) {
        report << "  " << name << ' ' << m.type << " k = " << m.k << ": mclust NA, emcluster "
               << (c.failed ? std::string("failed") : std::to_string(c.bic)) << '\n';
        continue;
      }
      REQUIRE_FALSE(c.failed);
      const double theirs = -m.bic;
      if (m.k == 1) {
        CHECK(std::abs(c.bic - theirs) <= 1e-9 * std::abs(theirs));
        continue;
      }
      // At least as good as mclust's, or within 0.5 %.
      CHECK(c.bic <= theirs + 0.005 * std::abs(theirs));
      if (c.bic > theirs + 1e-6 * std::abs(theirs)) {
        char line[160];
        std::snprintf(line, sizeof line,
                      "  %s %s k = %ld: mclust better, %.4f vs emcluster %.4f (+%.3f%%)\n",
                      name.c_str(), m.type.c_str(), static_cast<long>(m.k), theirs, c.bic,
                      100.0 * (c.bic - theirs) / std::abs(theirs));
        report << line;
      }
    }
    REQUIRE(mclust_choice != nullptr);
    const MixtureCandidate& best = search.best();
    const bool same =
        best.k == mclust_choice->k &&
        mclust_choice->type == emcluster::detail::covariance_type_name(best.covariance_type);
    char line[200];
    std::snprintf(line, sizeof line,
                  "  %s: mclust chooses %s k = %ld (%.4f), emcluster %s k = %ld (%.4f)%s\n",
                  name.c_str(), mclust_choice->type.c_str(), static_cast<long>(mclust_choice->k),
                  -mclust_choice->bic, best.model().c_str(), static_cast<long>(best.k), best.bic,
                  same ? "" : ": different, emcluster's optimum has the lower BIC");
    report << line;
    // The same choice, or a different one only because emcluster found a better optimum
    // than the best cell of mclust's table.
    if (!same) CHECK(best.bic < -mclust_choice->bic);
  }
  std::cout << report.str();
}

TEST_CASE("GaussianMixtureSearch: the article's data choose k = 3 with a noise component",
          "[model_selection]") {
  const Eigen::MatrixXd Z = article_standardized();
  GaussianMixtureSearch<>::Options o;
  o.noise = NoiseSearch::both;
  o.seed = 42;
  GaussianMixtureSearch<> search(o);
  search.fit(Z);
  REQUIRE(search.results().size() == 9 * 4 * 2);
  const MixtureCandidate& best = search.best();
  CHECK(best.k == 3);
  CHECK(best.noise);
  CHECK(search.best_model().n_components() == 3);
  CHECK(search.best_model().noise_weight() > 0.005);
  CHECK(search.best_model().noise_weight() < 0.05);
  // The best model is the row: its BIC on the data is the row's.
  CHECK(search.best_model().bic(Z) == Approx(best.bic).epsilon(1e-12));
  // Every noise model beats the same model without noise here (30 background points).
  for (const MixtureCandidate& c : search.results()) {
    if (c.noise || c.failed) continue;
    const MixtureCandidate& with = row_of(search, c.k, c.covariance_type, true);
    if (c.k <= 4) CHECK(with.bic < c.bic);
  }
  // float data give the same choice.
  GaussianMixtureSearch<float> single(o);
  single.fit(Z.cast<float>().eval());
  CHECK(single.best().k == 3);
  CHECK(single.best().noise);
  CHECK(single.best().bic == Approx(best.bic).epsilon(1e-4));
}

TEST_CASE("GaussianMixtureSearch: ICL and AIC", "[model_selection]") {
  const Eigen::MatrixXd Z = article_standardized();
  GaussianMixtureSearch<>::Options o;
  o.n_components = {2, 3, 4};
  o.noise = NoiseSearch::both;
  o.seed = 7;
  o.refine = 0;  // which rows are refined depends on the criterion
  GaussianMixtureSearch<> by_bic(o);
  by_bic.fit(Z);
  o.criterion = SelectionCriterion::icl;
  GaussianMixtureSearch<> by_icl(o);
  by_icl.fit(Z);
  o.criterion = emcluster::parse_selection_criterion("AIC");
  GaussianMixtureSearch<> by_aic(o);
  by_aic.fit(Z);
  REQUIRE(by_bic.results().size() == by_icl.results().size());
  std::size_t min_icl = 0, min_aic = 0;
  for (std::size_t r = 0; r < by_bic.results().size(); ++r) {
    const MixtureCandidate &b = by_bic.results()[r], &i = by_icl.results()[r],
                           &a = by_aic.results()[r];
    REQUIRE_FALSE(b.failed);
    // The criterion changes the ranking, not the fits.
    CHECK(i.bic == b.bic);
    CHECK(a.log_likelihood == b.log_likelihood);
    CHECK(b.criterion == b.bic);
    CHECK(i.criterion == i.icl);
    CHECK(a.criterion == a.aic);
    CHECK(i.icl >= i.bic);  // the entropy term is never negative
    if (i.icl < by_icl.results()[min_icl].icl) min_icl = r;
    if (a.aic < by_aic.results()[min_aic].aic) min_aic = r;
  }
  CHECK(by_icl.best_index() == min_icl);
  CHECK(by_aic.best_index() == min_aic);
  // ICL from the full posterior matrix of the best model, computed here directly.
  const auto& model = by_icl.best_model();
  const Eigen::MatrixXd proba = model.predict_proba(Z);
  const double entropy_term = proba.rowwise().maxCoeff().array().log().sum();
  const MixtureCandidate& best = by_icl.best();
  CHECK(best.icl == Approx(best.bic - 2.0 * entropy_term).epsilon(1e-12));
  CHECK(emcluster::criterion_name(SelectionCriterion::icl) == std::string("ICL"));
}

TEST_CASE("GaussianMixtureSearch: candidates with the same k share one initialisation",
          "[model_selection]") {
  const Eigen::MatrixXd Z = article_standardized();
  GaussianMixtureSearch<>::Options o;
  o.n_components = {1, 2, 3, 4, 5};
  o.noise = NoiseSearch::both;
  o.seed = 11;
  o.refine = 0;  // the rows as fitted, before any refinement
  GaussianMixtureSearch<> many(o);
  many.fit(Z);
  o.n_components = {3};
  o.covariance_types = {CovarianceType::diagonal};
  o.noise = NoiseSearch::on;
  GaussianMixtureSearch<> one(o);
  one.fit(Z);
  // A row depends only on (seed, k, start), not on the other candidates.
  const MixtureCandidate& a = row_of(many, 3, CovarianceType::diagonal, true);
  const MixtureCandidate& b = one.results().front();
  CHECK(a.bic == b.bic);
  CHECK(a.icl == b.icl);
  CHECK(a.n_iter == b.n_iter);

  // The same fit by hand: one KMeans (seeded as the search seeds start 0 of k = 3), its
  // centres as the mixture's initial means.
  emcluster::KMeans<>::Options ko;
  ko.n_clusters = 3;
  ko.n_init = o.kmeans_n_init;
  ko.seed = emcluster::detail::candidate_seed(11, 3, 0);
  emcluster::KMeans<> km(ko);
  km.fit(Z);
  for (CovarianceType type : kAllTypes) {
    for (bool noise : {false, true}) {
      emcluster::GaussianMixture<>::Options go;
      go.n_components = 3;
      go.covariance_type = type;
      go.noise_component = noise;
      go.init = emcluster::GaussianMixtureInit::explicit_parameters;
      go.initial_means = km.cluster_centers();
      emcluster::GaussianMixture<> gmm(go);
      gmm.fit(Z);
      const MixtureCandidate& c = row_of(many, 3, type, noise);
      INFO(c.model());
      CHECK(c.log_likelihood ==
            Approx(gmm.score(Z) * static_cast<double>(Z.rows())).epsilon(1e-14));
      CHECK(c.n_iter == gmm.n_iter());
      CHECK(c.bic == Approx(gmm.bic(Z)).epsilon(1e-13));
    }
  }
  // More starts never do worse: each candidate keeps its best start, start 0 among them.
  o = GaussianMixtureSearch<>::Options();
  o.n_components = {2, 3, 4, 5};
  o.seed = 11;
  o.n_init = 4;
  GaussianMixtureSearch<> four(o);
  four.fit(Z);
  for (const MixtureCandidate& c : four.results()) {
    const MixtureCandidate& single = row_of(many, c.k, c.covariance_type, false);
    INFO(c.model() << " k = " << c.k);
    CHECK(c.log_likelihood >= single.log_likelihood - 1e-3 * Z.rows());
  }
}

TEST_CASE("GaussianMixtureSearch: the best candidates are refined to refine_tol",
          "[model_selection]") {
  const Eigen::MatrixXd Z = article_standardized();
  GaussianMixtureSearch<>::Options o;
  o.noise = NoiseSearch::both;
  o.refine = 0;
  GaussianMixtureSearch<> plain(o);
  plain.fit(Z);
  o.refine = 4;
  std::vector<MixtureCandidate> refined_calls;
  o.callback = [&](const MixtureCandidate& c) {
    if (c.refined) refined_calls.push_back(c);
  };
  GaussianMixtureSearch<> refined(o);
  refined.fit(Z);
  // The four best rows of the plain search, by BIC.
  std::vector<std::size_t> order(plain.results().size());
  for (std::size_t r = 0; r < order.size(); ++r) order[r] = r;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return plain.results()[a].bic < plain.results()[b].bic;
  });
  order.resize(4);
  REQUIRE(refined_calls.size() == 4);
  for (std::size_t r = 0; r < plain.results().size(); ++r) {
    const MixtureCandidate& before = plain.results()[r];
    const MixtureCandidate& after = refined.results()[r];
    const bool top = std::find(order.begin(), order.end(), r) != order.end();
    INFO(before.model() << " k = " << before.k);
    CHECK(after.refined == top);
    if (!top) {
      CHECK(after.bic == before.bic);
      CHECK(after.n_iter == before.n_iter);
      continue;
    }
    // EM only climbs: the refined fit is at least as likely, after more iterations.
    CHECK(after.log_likelihood >= before.log_likelihood - 1e-9 * std::abs(before.log_likelihood));
    CHECK(after.n_iter > before.n_iter);
  }
  // The best is chosen after the refinement, and is the best model.
  const auto& rows = refined.results();
  for (const MixtureCandidate& c : rows) CHECK(refined.best().bic <= c.bic);
  CHECK(refined.best_model().bic(Z) == Approx(refined.best().bic).epsilon(1e-12));
  CHECK(refined.table().find("refined") != std::string::npos);
}

TEST_CASE("GaussianMixtureSearch: a failed fit is a row, not an exception", "[model_selection]") {
  // Three distinct points, each repeated: without regularisation one Gaussian fits (the
  // points are not collinear) and every component with one point is singular.
  Eigen::MatrixXd X(60, 2);
  for (Eigen::Index i = 0; i < 60; ++i) {
    const Eigen::Index p = i % 3;
    X(i, 0) = p == 0 ? 0.0 : p == 1 ? 4.0 : 1.0;
    X(i, 1) = p == 0 ? 0.0 : p == 1 ? 1.0 : 3.0;
  }
  GaussianMixtureSearch<>::Options o;
  o.n_components = {1, 2, 3};
  o.covariance_types = {CovarianceType::full, CovarianceType::spherical};
  o.reg_covar = 0;
  o.refine = 0;
  std::vector<MixtureCandidate> seen;
  o.callback = [&](const MixtureCandidate& c) { seen.push_back(c); };
  GaussianMixtureSearch<> search(o);
  search.fit(X);
  REQUIRE(search.results().size() == 6);
  for (const MixtureCandidate& c : search.results()) {
    INFO(c.model() << " k = " << c.k);
    if (c.k == 1) {
      CHECK_FALSE(c.failed);
      CHECK(std::isfinite(c.bic));
    } else {
      CHECK(c.failed);
      CHECK(c.error.find("not positive definite") != std::string::npos);
      CHECK(std::isnan(c.bic));
      CHECK(std::isnan(c.criterion));
    }
  }
  CHECK(search.best().k == 1);
  // The callback saw every row, in order, with the final numbers.
  REQUIRE(seen.size() == 6);
  for (std::size_t r = 0; r < seen.size(); ++r) {
    CHECK(seen[r].k == search.results()[r].k);
    CHECK(seen[r].covariance_type == search.results()[r].covariance_type);
    CHECK(seen[r].failed == search.results()[r].failed);
    if (!seen[r].failed) CHECK(seen[r].bic == search.results()[r].bic);
  }
  // The failed rows in the text table and the CSV (their message quoted: it has commas).
  const std::string text = search.table();
  CHECK(text.find("failed: GaussianMixture::fit") != std::string::npos);
  const std::string csv = search.csv();
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  int failed_lines = 0;
  while (std::getline(lines, line)) {
    if (line.find(",\"GaussianMixture::fit") != std::string::npos) ++failed_lines;
  }
  CHECK(failed_lines == 4);

  // Every candidate failing is an error: one point repeated has no spread at all.
  const Eigen::MatrixXd same = Eigen::MatrixXd::Constant(20, 2, 1.5);
  const std::string fitted = search.csv();
  require_throw_with<emcluster::numerical_error>([&] { search.fit(same); },
                                                 "every one of the 6 candidates failed");
  CHECK(search.csv() == fitted);  // a fit that throws leaves the search as it was
  CHECK(seen.size() == 12);       // the failed fit still reported its rows
}

TEST_CASE("GaussianMixtureSearch: text table, summary and CSV", "[model_selection]") {
  const Eigen::MatrixXd Z = article_standardized();
  GaussianMixtureSearch<>::Options o;
  o.n_components = {1, 2, 3, 4};
  o.noise = NoiseSearch::both;
  GaussianMixtureSearch<> search(o);
  search.fit(Z);
  const auto& rows = search.results();
  // CSV: a header, one line per row, numbers that read back exactly.
  std::istringstream csv(search.csv());
  std::string line;
  std::getline(csv, line);
  CHECK(line ==
        "k,covariance_type,noise,mclust_model,log_likelihood,n_parameters,bic,icl,aic,"
        "noise_weight,n_iter,converged,refined,criterion,best,error");
  std::size_t r = 0;
  while (std::getline(csv, line)) {
    REQUIRE(r < rows.size());
    const std::vector<std::string> f = split(line);
    REQUIRE(f.size() == 16);
    CHECK(std::stol(f[0]) == rows[r].k);
    CHECK(f[1] == emcluster::detail::covariance_type_name(rows[r].covariance_type));
    CHECK(f[2] == (rows[r].noise ? "1" : "0"));
    CHECK(f[3] == emcluster::mclust_model_name(rows[r].covariance_type));
    CHECK(std::stod(f[6]) == rows[r].bic);
    CHECK(std::stod(f[7]) == rows[r].icl);
    CHECK(f[12] == (rows[r].refined ? "1" : "0"));
    CHECK(std::stod(f[13]) == rows[r].criterion);
    CHECK(f[14] == (r == search.best_index() ? "1" : "0"));
    ++r;
  }
  CHECK(r == rows.size());
  // Text: a header and one line per row; the best line marked.
  const std::string text = search.table();
  CHECK(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) == rows.size() + 1);
  CHECK(std::count(text.begin(), text.end(), '*') == 1);
  // The summary: a k x model matrix and the top three.
  const std::string summary = search.summary();
  CHECK(summary.find("diagonal+noise") != std::string::npos);
  CHECK(summary.find("top 3 by BIC") != std::string::npos);
  char best_bic[32];
  std::snprintf(best_bic, sizeof best_bic, "%.3f", search.best().bic);
  CHECK(summary.find(best_bic) != std::string::npos);
}

TEST_CASE("GaussianMixtureSearch: the same rows for any thread count", "[model_selection]") {
#ifdef _OPENMP
  // Over 16384 rows, so the passes run in parallel.
  const auto data = emcluster::make_article_data<double>(3, 10.0);
  const Eigen::MatrixXd Z = emcluster::StandardScaler<>().fit_transform(data.X);
  GaussianMixtureSearch<>::Options o;
  o.n_components = {2, 3};
  o.covariance_types = {CovarianceType::full, CovarianceType::diagonal};
  o.noise = NoiseSearch::both;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  GaussianMixtureSearch<> one(o);
  one.fit(Z);
  omp_set_num_threads(2);
  GaussianMixtureSearch<> two(o);
  two.fit(Z);
  omp_set_num_threads(saved);
  CHECK(one.csv() == two.csv());
#else
  SUCCEED("built without OpenMP");
#endif
}

TEST_CASE("GaussianMixtureSearch: bad options and data", "[model_selection]") {
  const Eigen::MatrixXd X = three_blobs();
  using E = std::invalid_argument;
  auto fit_with = [&](const std::function<void(GaussianMixtureSearch<>::Options&)>& edit) {
    GaussianMixtureSearch<>::Options o;
    edit(o);
    GaussianMixtureSearch<> s(o);
    s.fit(X);
  };
  require_throw_with<E>([&] { fit_with([](auto& o) { o.n_components.clear(); }); },
                        "n_components is empty");
  require_throw_with<E>([&] { fit_with([](auto& o) {
                                o.n_components = {2, 0};
                              }); },
                        "n_components[1] = 0 must be at least 1");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.n_components = {181}; }); },
                        "n_components[0] = 181 exceeds the number of samples");
  require_throw_with<E>([&] { fit_with([](auto& o) {
                                o.n_components = {2, 3, 2};
                              }); },
                        "n_components[2] = 2 repeats");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.covariance_types.clear(); }); },
                        "covariance_types is empty");
  require_throw_with<E>(
      [&] { fit_with([](auto& o) { o.covariance_types = {static_cast<CovarianceType>(9)}; }); },
      "covariance_types[0]");
  require_throw_with<E>(
      [&] { fit_with([](auto& o) { o.criterion = static_cast<SelectionCriterion>(5); }); },
      "criterion");
  require_throw_with<E>([] { emcluster::parse_selection_criterion("likelihood"); },
                        "criterion \"likelihood\" is unknown");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.noise = static_cast<NoiseSearch>(3); }); },
                        "noise");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.n_init = 0; }); }, "n_init");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.reg_covar = -1; }); }, "reg_covar");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.refine = -1; }); }, "refine = -1");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.refine_max_iter = 0; }); },
                        "refine_max_iter");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.init_sample_size = -5; }); },
                        "init_sample_size");
  require_throw_with<E>(
      [&] {
        fit_with([](auto& o) {
          o.noise = NoiseSearch::on;
          o.noise_low = Eigen::VectorXd::Zero(3);
          o.noise_high = Eigen::VectorXd::Ones(3);
        });
      },
      "noise_low");
  Eigen::MatrixXd bad = X;
  bad(3, 1) = std::numeric_limits<double>::quiet_NaN();
  GaussianMixtureSearch<> s;
  require_throw_with<E>([&] { s.fit(bad); }, "row 3, column 1");
  require_throw_with<emcluster::not_fitted_error>([&] { (void)s.results(); }, "fit");
  require_throw_with<emcluster::not_fitted_error>([&] { (void)s.best_model(); }, "fit");
  require_throw_with<emcluster::not_fitted_error>([&] { (void)s.table(); }, "fit");
}

TEST_CASE("KMeansSearch: chooses k by silhouette, Calinski-Harabasz or Davies-Bouldin",
          "[model_selection]") {
  const Eigen::MatrixXd X = three_blobs();
  for (KMeansScore score :
       {KMeansScore::silhouette, KMeansScore::calinski_harabasz, KMeansScore::davies_bouldin}) {
    INFO(emcluster::score_name(score));
    KMeansSearch<>::Options o;
    o.n_clusters = {1, 2, 3, 4, 5, 6};
    o.score = score;
    o.all_scores = true;
    o.seed = 5;
    std::size_t calls = 0;
    o.callback = [&](const emcluster::KMeansCandidate&) { ++calls; };
    KMeansSearch<> search(o);
    search.fit(X);
    REQUIRE(search.results().size() == 6);
    CHECK(calls == 6);
    CHECK(search.best().k == 3);
    CHECK(search.best_model().n_clusters() == 3);
    // k = 1: every index is undefined; a failed row.
    CHECK(search.results()[0].failed);
    CHECK_FALSE(search.results()[0].error.empty());
    for (std::size_t r = 1; r < search.results().size(); ++r) {
      const emcluster::KMeansCandidate& c = search.results()[r];
      REQUIRE_FALSE(c.failed);
      // The row's scores are those of its own K-means labels.
      emcluster::KMeans<>::Options ko;
      ko.n_clusters = c.k;
      ko.seed = emcluster::detail::candidate_seed(5, c.k, 0);
      emcluster::KMeans<> km(ko);
      km.fit(X);
      CHECK(c.inertia == km.inertia());
      CHECK(c.silhouette == emcluster::silhouette_score(X, km.labels()));
      CHECK(c.calinski_harabasz == emcluster::calinski_harabasz_score(X, km.labels()));
      CHECK(c.davies_bouldin == emcluster::davies_bouldin_score(X, km.labels()));
      const emcluster::KMeansCandidate& b = search.best();
      if (score == KMeansScore::davies_bouldin) {
        CHECK(b.criterion <= c.criterion);
      } else {
        CHECK(b.criterion >= c.criterion);
      }
    }
    const std::string text = search.table();
    CHECK(std::count(text.begin(), text.end(), '*') == 1);
    std::istringstream csv(search.csv());
    std::string line;
    std::getline(csv, line);
    CHECK(line ==
          "k,inertia,silhouette,calinski_harabasz,davies_bouldin,n_iter,converged,criterion,"
          "best,error");
    int lines = 0;
    while (std::getline(csv, line)) ++lines;
    CHECK(lines == 6);
  }
  // Only the chosen index unless all_scores.
  KMeansSearch<>::Options o;
  o.score = emcluster::parse_kmeans_score("Davies_Bouldin");
  KMeansSearch<> db(o);
  db.fit(X);
  CHECK(std::isnan(db.best().silhouette));
  CHECK(std::isfinite(db.best().davies_bouldin));
  CHECK(db.best().k == 3);
}

TEST_CASE("KMeansSearch: bad options", "[model_selection]") {
  const Eigen::MatrixXd X = three_blobs();
  using E = std::invalid_argument;
  auto fit_with = [&](const std::function<void(KMeansSearch<>::Options&)>& edit) {
    KMeansSearch<>::Options o;
    edit(o);
    KMeansSearch<> s(o);
    s.fit(X);
  };
  require_throw_with<E>([&] { fit_with([](auto& o) { o.n_clusters.clear(); }); },
                        "n_clusters is empty");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.n_clusters = {-1}; }); },
                        "n_clusters[0] = -1 must be at least 1");
  require_throw_with<E>([&] { fit_with([](auto& o) {
                                o.n_clusters = {3, 500};
                              }); },
                        "n_clusters[1] = 500 exceeds");
  require_throw_with<E>([&] { fit_with([](auto& o) { o.score = static_cast<KMeansScore>(4); }); },
                        "score");
  require_throw_with<E>([] { emcluster::parse_kmeans_score("gap"); }, "score \"gap\" is unknown");
  require_throw_with<emcluster::numerical_error>(
      [&] { fit_with([](auto& o) { o.n_clusters = {1}; }); }, "every one of the 1");
  KMeansSearch<> s;
  require_throw_with<emcluster::not_fitted_error>([&] { (void)s.best(); }, "fit");
}
