// Choosing the number of clusters and the model on the seed article's data, as R's mclust
// does: a Gaussian mixture for every k = 1..9, every covariance type (full, tied, diagonal,
// spherical) and with and without the uniform noise component, ranked by BIC. Prints the
// BIC table and the choice, and writes <out>/model_selection.csv (every candidate) and
// <out>/model_selection.svg (BIC against k, one line per model, and the chosen model's
// clustering beside it).
//
//   model_selection [output directory, default "out"]
#include <emcluster/datasets.hpp>
#include <emcluster/metrics.hpp>
#include <emcluster/model_selection.hpp>
#include <emcluster/preprocessing.hpp>
#include <emcluster/version.hpp>

#include <Eigen/Core>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "svg_plot.hpp"

namespace {

constexpr std::uint64_t kDataSeed = 42;    // the article's data
constexpr std::uint64_t kSearchSeed = 42;  // the K-means starts of the search

constexpr emcluster::CovarianceType kTypes[] = {
    emcluster::CovarianceType::full, emcluster::CovarianceType::tied,
    emcluster::CovarianceType::diagonal, emcluster::CovarianceType::spherical};

/// "diagonal covariances + noise, k = 3".
std::string describe(const emcluster::MixtureCandidate& c) {
  return std::string(emcluster::detail::covariance_type_name(c.covariance_type)) + " covariances" +
         (c.noise ? " + noise" : "") + ", k = " + std::to_string(c.k);
}

/// The row with the lowest value of `member` (failed rows left out).
const emcluster::MixtureCandidate& lowest(const std::vector<emcluster::MixtureCandidate>& rows,
                                          double emcluster::MixtureCandidate::*member) {
  const emcluster::MixtureCandidate* best = nullptr;
  for (const auto& c : rows) {
    if (!c.failed && (best == nullptr || c.*member < (*best).*member)) best = &c;
  }
  if (best == nullptr) throw std::runtime_error("every candidate failed");
  return *best;
}

/// Adjusted Rand index over the points the generator drew from a cluster (truth >= 0).
double ari_clusters_only(const Eigen::VectorXi& truth, const Eigen::VectorXi& labels) {
  std::vector<int> rows;
  for (Eigen::Index i = 0; i < truth.size(); ++i) {
    if (truth(i) >= 0) rows.push_back(static_cast<int>(i));
  }
  const Eigen::VectorXi t = truth(rows), l = labels(rows);
  return emcluster::adjusted_rand_score(t, l);
}

/// BIC against k, one line per model: solid without noise, dashed with it.
svg_plot::Chart bic_chart(const emcluster::GaussianMixtureSearch<>& search) {
  svg_plot::Chart chart;
  chart.title = "BIC by number of components (lower is better)";
  chart.x_label = "number of Gaussian components k";
  chart.y_label = "BIC";
  for (bool noise : {false, true}) {
    for (int t = 0; t < 4; ++t) {
      svg_plot::Series s;
      s.name = std::string(emcluster::detail::covariance_type_name(kTypes[t])) +
               (noise ? " + noise" : "");
      s.label = t;
      s.dashed = noise;
      for (const auto& c : search.results()) {
        if (c.covariance_type != kTypes[t] || c.noise != noise) continue;
        s.x.push_back(static_cast<double>(c.k));
        s.y.push_back(c.failed ? std::numeric_limits<double>::quiet_NaN() : c.bic);
      }
      if (!s.x.empty()) chart.series.push_back(s);
    }
  }
  chart.mark_x = static_cast<double>(search.best().k);
  chart.mark_y = search.best().bic;
  return chart;
}

/// The chosen model's clustering: labels (grey: noise), means, 1- and 2-sigma ellipses.
svg_plot::Panel chosen_panel(const emcluster::GaussianMixtureSearch<>& search,
                             const Eigen::MatrixXd& Z, const Eigen::VectorXi& labels) {
  const auto& model = search.best_model();
  svg_plot::Panel panel;
  panel.title = "Chosen: " + describe(search.best()) + " (grey: noise)";
  panel.points = Z;
  panel.labels = labels;
  panel.centers = model.means();
  for (Eigen::Index j = 0; j < model.n_components(); ++j) {
    panel.ellipses.push_back(
        {model.means().row(j).transpose(), model.covariance(j), static_cast<int>(j)});
  }
  return panel;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : "out";
  std::filesystem::create_directories(out_dir);

  const emcluster::Dataset<double> data = emcluster::make_article_data<double>(kDataSeed);
  const Eigen::MatrixXd Z = emcluster::StandardScaler<double>().fit_transform(data.X);
  const Eigen::Index noise_points = (data.labels.array() < 0).count();
  std::printf("emcluster %s: choosing k and the model on the seed article's data\n",
              emcluster::version_string);
  std::printf(
      "data: %ld points (3 Gaussian clusters with axis-aligned covariances, %ld noise "
      "points), seed %lu, standardized\n\n",
      static_cast<long>(Z.rows()), static_cast<long>(noise_points),
      static_cast<unsigned long>(kDataSeed));

  emcluster::GaussianMixtureSearch<>::Options options;  // k = 1..9, four types, BIC
  options.noise = emcluster::NoiseSearch::both;
  options.seed = kSearchSeed;
  emcluster::GaussianMixtureSearch<> search(options);
  const auto start = std::chrono::steady_clock::now();
  search.fit(Z);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  std::printf("%s", search.summary().c_str());
  std::size_t failed = 0;
  for (const auto& c : search.results()) failed += c.failed ? 1 : 0;
  std::printf(
      "(%zu candidates, %zu failed, searched in %.0f ms; the full table with "
      "log-likelihoods, ICL and AIC is in the CSV)\n\n",
      search.results().size(), failed, ms);

  const emcluster::MixtureCandidate& best = search.best();
  const Eigen::VectorXi labels = search.best_model().predict(Z);
  std::printf(
      "choice by BIC: %s: BIC %.3f, log-likelihood %.3f, %ld parameters, noise weight "
      "%.4f (true share %.4f)\n",
      describe(best).c_str(), best.bic, best.log_likelihood, static_cast<long>(best.n_parameters),
      best.noise_weight, static_cast<double>(noise_points) / static_cast<double>(Z.rows()));
  std::printf(
      "  adjusted Rand index against the true labels: %.4f (all points), %.4f (cluster "
      "points only)\n",
      emcluster::adjusted_rand_score(data.labels, labels), ari_clusters_only(data.labels, labels));
  if (best.k == 3 && best.noise) {
    std::printf("  three clusters plus background noise: what the data were drawn from\n");
  } else {
    std::printf("  NOT the three clusters plus noise the data were drawn from\n");
  }
  const auto& by_icl = lowest(search.results(), &emcluster::MixtureCandidate::icl);
  const auto& by_aic = lowest(search.results(), &emcluster::MixtureCandidate::aic);
  std::printf("ICL would choose %s (ICL %.3f); AIC %s (AIC %.3f)\n", describe(by_icl).c_str(),
              by_icl.icl, describe(by_aic).c_str(), by_aic.aic);

  emcluster::KMeansSearch<>::Options kopts;  // k = 2..9 by the silhouette
  kopts.seed = kSearchSeed;
  emcluster::KMeansSearch<> kmeans(kopts);
  kmeans.fit(Z);
  std::printf("K-means by the silhouette chooses k = %ld (mean silhouette %.4f)\n",
              static_cast<long>(kmeans.best().k), kmeans.best().silhouette);

  const std::filesystem::path csv_path = out_dir / "model_selection.csv";
  const std::filesystem::path svg_path = out_dir / "model_selection.svg";
  std::ofstream csv(csv_path);
  csv << search.csv();
  csv.close();
  if (!csv) throw std::runtime_error("cannot write " + csv_path.string());
  svg_plot::write(svg_path.string(), bic_chart(search), {chosen_panel(search, Z, labels)});
  std::printf("\nwrote %s\nwrote %s\n", csv_path.string().c_str(), svg_path.string().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "model_selection: %s\n", e.what());
  return 1;
}
