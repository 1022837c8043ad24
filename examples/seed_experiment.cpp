// The seed article's experiment ("K-means and Gaussian Mixture Models from scratch"):
// three elongated Gaussian clusters in 2-D plus uniform background noise, standardized, then
// clustered by K-means and by a Gaussian mixture (full covariances, with and without a
// uniform noise component). Prints a table (adjusted Rand index against the true labels,
// objective, BIC, iterations, fit time) and writes <out>/seed_experiment.csv and
// <out>/seed_experiment.svg (true labels | K-means | Gaussian mixture + noise).
//
//   seed_experiment [output directory, default "out"]
//
// Each method is one MethodResult: a row of the table, a label column of the CSV and, if
// `plot` is set, a panel of the SVG. Adding a method means writing its run_*() and pushing
// its result.
#include <emcluster/emcluster.hpp>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "svg_plot.hpp"

namespace {

constexpr std::uint64_t kDataSeed = 42;    // the article's data
constexpr std::uint64_t kMethodSeed = 42;  // the methods' random choices

/// What one clustering method produced, in standardized coordinates.
struct MethodResult {
  std::string name;            ///< the table row
  std::string csv_column;      ///< the CSV column of its labels
  std::string panel_title;     ///< the SVG panel's title (before ": ARI ...")
  bool plot = true;            ///< whether it gets a panel in the SVG
  std::string objective_name;  ///< what `objective` is ("inertia", ...)
  double objective = 0.0;
  double bic = std::numeric_limits<double>::quiet_NaN();  ///< NaN: not defined for the method
  int n_iter = 0;
  bool converged = false;
  double fit_ms = 0.0;
  Eigen::VectorXi labels;                   ///< one per point; -1 = noise, if the method has it
  Eigen::MatrixXd centers;                  ///< k x 2, drawn as crosses
  std::vector<svg_plot::Ellipse> ellipses;  ///< drawn at 1 and 2 sigma
};

constexpr int kTimingRuns = 5;  // fit times: the median of this many fits

/// Median wall time in milliseconds of kTimingRuns calls of `fit`. The seed is fixed, so
/// every call fits the same model; the median keeps a cold first call out of the table.
template <typename Fit>
double median_fit_ms(Fit&& fit) {
  std::vector<double> ms;
  for (int run = 0; run < kTimingRuns; ++run) {
    const auto start = std::chrono::steady_clock::now();
    fit();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

/// K-means with k = 3 and 10 restarts, as in the article (but with k-means++ seeding).
MethodResult run_kmeans(const Eigen::MatrixXd& Z) {
  emcluster::KMeans<>::Options options;
  options.n_clusters = 3;
  options.n_init = 10;
  options.seed = kMethodSeed;
  emcluster::KMeans<> kmeans(options);

  MethodResult r;
  r.fit_ms = median_fit_ms([&] { kmeans.fit(Z); });
  r.name = "K-means (k = 3, 10 restarts)";
  r.csv_column = "kmeans_label";
  r.panel_title = "K-means";
  r.objective_name = "inertia";
  r.objective = kmeans.inertia();
  r.n_iter = kmeans.n_iter();
  r.converged = kmeans.converged();
  r.labels = kmeans.labels();
  r.centers = kmeans.cluster_centers();
  return r;
}

/// A Gaussian mixture with 3 full-covariance components, initialised from one K-means run
/// (the default), with or without the uniform noise component over the data's bounding box.
/// The fit time includes that initial K-means run.
MethodResult run_gaussian_mixture(const Eigen::MatrixXd& Z, bool noise,
                                  emcluster::GaussianMixture<>* model_out = nullptr) {
  emcluster::GaussianMixture<>::Options options;
  options.n_components = 3;
  options.covariance_type = emcluster::CovarianceType::full;
  options.noise_component = noise;
  options.seed = kMethodSeed;
  emcluster::GaussianMixture<> gmm(options);

  MethodResult r;
  r.fit_ms = median_fit_ms([&] { gmm.fit(Z); });
  r.name = noise ? "GMM full k = 3 + noise" : "GMM full k = 3";
  r.csv_column = noise ? "gmm_label" : "gmm_no_noise_label";
  r.panel_title = noise ? "GMM + noise" : "GMM";
  r.plot = noise;
  r.objective_name = "mean log-lik";
  r.objective = gmm.lower_bound();
  r.bic = gmm.bic(Z);
  r.n_iter = gmm.n_iter();
  r.converged = gmm.converged();
  r.labels = gmm.predict(Z);
  r.centers = gmm.means();
  for (Eigen::Index j = 0; j < gmm.n_components(); ++j)
    r.ellipses.push_back({gmm.means().row(j).transpose(), gmm.covariance(j), static_cast<int>(j)});
  if (model_out != nullptr) *model_out = gmm;
  return r;
}

/// The permutation of 0..k-1 that maps the most points of `labels` onto the same true
/// cluster (labels -1 left out), so that the panels use the same colour for the same cluster.
/// Found by trying every permutation: k is 3 here.
std::vector<int> match_to_truth(const Eigen::VectorXi& truth, const Eigen::VectorXi& labels,
                                int k) {
  std::vector<int> perm(static_cast<std::size_t>(k)), best;
  std::iota(perm.begin(), perm.end(), 0);
  long best_hits = -1;
  do {
    long hits = 0;
    for (Eigen::Index i = 0; i < labels.size(); ++i)
      if (labels(i) >= 0 && labels(i) < k && truth(i) == perm[static_cast<std::size_t>(labels(i))])
        ++hits;
    if (hits > best_hits) {
      best_hits = hits;
      best = perm;
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

/// Labels recoloured by match_to_truth() (-1 stays -1).
Eigen::VectorXi matched_labels(const Eigen::VectorXi& truth, const Eigen::VectorXi& labels, int k) {
  const std::vector<int> perm = match_to_truth(truth, labels, k);
  Eigen::VectorXi out = labels;
  for (Eigen::Index i = 0; i < out.size(); ++i)
    if (out(i) >= 0) out(i) = perm[static_cast<std::size_t>(out(i))];
  return out;
}

/// 1 for every cluster point (truth >= 0) that the matched labels put in another cluster or
/// in the noise, else 0: the points ringed in the SVG.
Eigen::VectorXi misplaced(const Eigen::VectorXi& truth, const Eigen::VectorXi& matched) {
  return (truth.array() >= 0 && matched.array() != truth.array()).cast<int>();
}

/// A method's panel: its labels, centres and ellipses recoloured by match_to_truth(), and
/// its misplaced cluster points ringed.
svg_plot::Panel method_panel(const MethodResult& r, const Eigen::MatrixXd& Z,
                             const Eigen::VectorXi& truth, double ari_clusters) {
  const int k = static_cast<int>(r.centers.rows());
  const std::vector<int> perm = match_to_truth(truth, r.labels, k);
  svg_plot::Panel panel;
  panel.points = Z;
  panel.labels = matched_labels(truth, r.labels, k);
  panel.marked = misplaced(truth, panel.labels);
  char title[128];
  std::snprintf(title, sizeof title, "%s: ARI %.3f, %ld misplaced (ringed)", r.panel_title.c_str(),
                ari_clusters, static_cast<long>(panel.marked.sum()));
  panel.title = title;
  panel.centers.resize(k, 2);
  for (int j = 0; j < k; ++j)
    panel.centers.row(perm[static_cast<std::size_t>(j)]) = r.centers.row(j);
  for (svg_plot::Ellipse e : r.ellipses) {
    e.label = perm[static_cast<std::size_t>(e.label)];
    panel.ellipses.push_back(e);
  }
  return panel;
}

/// The true clusters as a panel: their sample means and covariances (noise left out).
svg_plot::Panel truth_panel(const Eigen::MatrixXd& Z, const Eigen::VectorXi& truth) {
  svg_plot::Panel panel;
  panel.title = "True labels (grey: noise)";
  panel.points = Z;
  panel.labels = truth;
  const int k = truth.maxCoeff() + 1;
  panel.centers.setZero(k, 2);
  for (int c = 0; c < k; ++c) {
    Eigen::Vector2d mean = Eigen::Vector2d::Zero();
    Eigen::Matrix2d scatter = Eigen::Matrix2d::Zero();
    Eigen::Index count = 0;
    for (Eigen::Index i = 0; i < Z.rows(); ++i) {
      if (truth(i) != c) continue;
      mean += Z.row(i).transpose();
      ++count;
    }
    mean /= static_cast<double>(count);
    for (Eigen::Index i = 0; i < Z.rows(); ++i) {
      if (truth(i) != c) continue;
      const Eigen::Vector2d d = Z.row(i).transpose() - mean;
      scatter += d * d.transpose();
    }
    panel.centers.row(c) = mean.transpose();
    panel.ellipses.push_back({mean, scatter / static_cast<double>(count), c});
  }
  return panel;
}

/// Adjusted Rand index of `labels` against `truth`, over all points or over the points the
/// generator drew from a cluster (truth >= 0).
double ari(const Eigen::VectorXi& truth, const Eigen::VectorXi& labels, bool clusters_only) {
  if (!clusters_only) return emcluster::adjusted_rand_score(truth, labels);
  std::vector<int> rows;
  for (Eigen::Index i = 0; i < truth.size(); ++i)
    if (truth(i) >= 0) rows.push_back(static_cast<int>(i));
  const Eigen::VectorXi t = truth(rows), l = labels(rows);
  return emcluster::adjusted_rand_score(t, l);
}

void write_csv(const std::string& path, const emcluster::Dataset<double>& data,
               const Eigen::MatrixXd& Z, const std::vector<MethodResult>& results) {
  std::ofstream csv(path);
  csv << "x,y,x_std,y_std,true_label";
  for (const MethodResult& r : results) csv << ',' << r.csv_column;
  csv << '\n';
  csv.precision(10);
  for (Eigen::Index i = 0; i < data.X.rows(); ++i) {
    csv << data.X(i, 0) << ',' << data.X(i, 1) << ',' << Z(i, 0) << ',' << Z(i, 1) << ','
        << data.labels(i);
    for (const MethodResult& r : results) csv << ',' << r.labels(i);
    csv << '\n';
  }
  csv.close();
  if (!csv) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) try {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : "out";
  std::filesystem::create_directories(out_dir);

  const emcluster::Dataset<double> data = emcluster::make_article_data<double>(kDataSeed);
  emcluster::StandardScaler<double> scaler;
  const Eigen::MatrixXd Z = scaler.fit_transform(data.X);
  const Eigen::Index noise = (data.labels.array() < 0).count();
  std::printf("emcluster %s: the seed article's experiment\n", emcluster::version_string);
  std::printf("data: %ld points (%ld in %d clusters, %ld noise), seed %lu\n",
              static_cast<long>(data.X.rows()), static_cast<long>(data.X.rows() - noise),
              data.labels.maxCoeff() + 1, static_cast<long>(noise),
              static_cast<unsigned long>(kDataSeed));
  std::printf("standardized: mean (%.4f, %.4f), scale (%.4f, %.4f)\n\n", scaler.mean()(0),
              scaler.mean()(1), scaler.scale()(0), scaler.scale()(1));

  std::vector<MethodResult> results;
  emcluster::GaussianMixture<> mixture;
  results.push_back(run_kmeans(Z));
  results.push_back(run_gaussian_mixture(Z, false));
  results.push_back(run_gaussian_mixture(Z, true, &mixture));

  std::printf("%-28s %8s %8s %9s  %-12s %10s %8s %4s %4s %7s\n", "method", "ARI all", "ARI clus",
              "misplaced", "objective", "value", "BIC", "iter", "conv", "fit ms");
  for (const MethodResult& r : results) {
    char bic[32] = "-";
    if (!std::isnan(r.bic)) std::snprintf(bic, sizeof bic, "%.1f", r.bic);
    const int k = static_cast<int>(r.centers.rows());
    const long wrong = misplaced(data.labels, matched_labels(data.labels, r.labels, k)).sum();
    std::printf("%-28s %8.4f %8.4f %9ld  %-12s %10.4f %8s %4d %4s %7.2f\n", r.name.c_str(),
                ari(data.labels, r.labels, false), ari(data.labels, r.labels, true), wrong,
                r.objective_name.c_str(), r.objective, bic, r.n_iter, r.converged ? "yes" : "no",
                r.fit_ms);
  }
  std::printf(
      "(ARI all: the 30 noise points as a fourth class; ARI clus: cluster points only;\n"
      " misplaced: cluster points put in another cluster or in the noise, the clusters\n"
      " matched to the true ones; inertia: sum of squared distances in standardized units;\n"
      " mean log-lik: the EM lower bound per point; BIC on the standardized data, lower is\n"
      " better; fit ms: median of %d fits, the GMM's including the K-means run that\n"
      " initialises it)\n",
      kTimingRuns);

  const Eigen::VectorXi& gmm_labels = results.back().labels;
  Eigen::Index noise_found = 0, clusters_as_noise = 0;
  for (Eigen::Index i = 0; i < gmm_labels.size(); ++i) {
    if (gmm_labels(i) != -1) continue;
    ++(data.labels(i) < 0 ? noise_found : clusters_as_noise);
  }
  std::printf(
      "\nnoise component: weight %.4f (true share %ld/%ld = %.4f); %ld of the %ld true "
      "noise points labelled -1, and %ld cluster points\n",
      mixture.noise_weight(), static_cast<long>(noise), static_cast<long>(data.X.rows()),
      static_cast<double>(noise) / static_cast<double>(data.X.rows()),
      static_cast<long>(noise_found), static_cast<long>(noise),
      static_cast<long>(clusters_as_noise));
  std::printf(
      "mixture components (standardized units): weight, mean, standard deviations along "
      "the principal axes\n");
  for (Eigen::Index j = 0; j < mixture.n_components(); ++j) {
    const Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> eig(
        Eigen::Matrix2d(mixture.covariance(j)));
    std::printf("  %ld: %.4f  (%7.4f, %7.4f)  %.4f x %.4f\n", static_cast<long>(j),
                mixture.weights()(j), mixture.means()(j, 0), mixture.means()(j, 1),
                std::sqrt(eig.eigenvalues()(1)), std::sqrt(eig.eigenvalues()(0)));
  }

  const std::filesystem::path csv_path = out_dir / "seed_experiment.csv";
  const std::filesystem::path svg_path = out_dir / "seed_experiment.svg";
  write_csv(csv_path.string(), data, Z, results);

  std::vector<svg_plot::Panel> panels = {truth_panel(Z, data.labels)};
  for (const MethodResult& r : results)
    if (r.plot) panels.push_back(method_panel(r, Z, data.labels, ari(data.labels, r.labels, true)));
  svg_plot::write(svg_path.string(), panels);

  std::printf("\nwrote %s\nwrote %s\n", csv_path.string().c_str(), svg_path.string().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "seed_experiment: %s\n", e.what());
  return 1;
}
