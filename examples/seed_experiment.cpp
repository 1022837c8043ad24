// The seed article's experiment ("K-means and Gaussian Mixture Models from scratch"):
// three elongated Gaussian clusters in 2-D plus uniform background noise, standardized, then
// clustered. Prints a table (objective, iterations, fit time, adjusted Rand index against the
// true labels) and writes <out>/seed_experiment.csv and <out>/seed_experiment.svg.
//
//   seed_experiment [output directory, default "out"]
//
// Each method is one MethodResult: a row of the table, a label column of the CSV and a panel
// of the SVG. Adding a method means writing its run_*() and pushing its result.
#include <emcluster/emcluster.hpp>

#include <Eigen/Core>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "svg_plot.hpp"

namespace {

constexpr std::uint64_t kDataSeed = 42;     // the article's data
constexpr std::uint64_t kMethodSeed = 42;   // the methods' random choices

/// What one clustering method produced, in standardized coordinates.
struct MethodResult {
  std::string name;            ///< table row and panel title
  std::string csv_column;      ///< the CSV column of its labels
  std::string objective_name;  ///< what `objective` is ("inertia", ...)
  double objective = 0.0;
  int n_iter = 0;
  bool converged = false;
  double fit_ms = 0.0;
  Eigen::VectorXi labels;                   ///< one per point; -1 = noise, if the method has it
  Eigen::MatrixXd centers;                  ///< k x 2, drawn as crosses
  std::vector<svg_plot::Ellipse> ellipses;  ///< drawn at 1 and 2 sigma
};

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

/// K-means with k = 3 and 10 restarts, as in the article (but with k-means++ seeding).
MethodResult run_kmeans(const Eigen::MatrixXd& Z) {
  emcluster::KMeans<>::Options options;
  options.n_clusters = 3;
  options.n_init = 10;
  options.seed = kMethodSeed;
  emcluster::KMeans<> kmeans(options);

  const auto start = std::chrono::steady_clock::now();
  kmeans.fit(Z);
  MethodResult r;
  r.fit_ms = milliseconds_since(start);
  r.name = "K-means (k = 3, 10 restarts)";
  r.csv_column = "kmeans_label";
  r.objective_name = "inertia";
  r.objective = kmeans.inertia();
  r.n_iter = kmeans.n_iter();
  r.converged = kmeans.converged();
  r.labels = kmeans.labels();
  r.centers = kmeans.cluster_centers();
  return r;
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
  results.push_back(run_kmeans(Z));

  std::printf("%-30s %-10s %12s %6s %10s %9s %11s %14s\n", "method", "objective", "value",
              "iter", "converged", "fit ms", "ARI (all)", "ARI (clusters)");
  for (const MethodResult& r : results) {
    std::printf("%-30s %-10s %12.4f %6d %10s %9.2f %11.4f %14.4f\n", r.name.c_str(),
                r.objective_name.c_str(), r.objective, r.n_iter, r.converged ? "yes" : "no",
                r.fit_ms, ari(data.labels, r.labels, false), ari(data.labels, r.labels, true));
  }

  const std::filesystem::path csv_path = out_dir / "seed_experiment.csv";
  const std::filesystem::path svg_path = out_dir / "seed_experiment.svg";
  write_csv(csv_path.string(), data, Z, results);

  std::vector<svg_plot::Panel> panels = {truth_panel(Z, data.labels)};
  for (const MethodResult& r : results)
    panels.push_back({r.name, Z, r.labels, r.centers, r.ellipses});
  svg_plot::write(svg_path.string(), panels);

  std::printf("\nwrote %s\nwrote %s\n", csv_path.string().c_str(), svg_path.string().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "seed_experiment: %s\n", e.what());
  return 1;
}
