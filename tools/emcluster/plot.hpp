// `emcluster plot`: a 2-D scatter of the data coloured by label (grey: noise, label -1), on
// the first two columns, or on the first two principal components when the data have more;
// with a model, its centres (K-means) or its means and 1- and 2-sigma ellipses (mixtures),
// mapped into the same plane. Large data are drawn as a uniform random subset of at most
// --max-points points (the same subset every run: selection sampling with std::mt19937_64
// seeded 0). The SVG is drawn by tools/common/svg_plot.hpp.
#pragma once

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model_units.hpp"
#include "svg_plot.hpp"

namespace emcluster_cli {

/// The plane of the plot: a point x of the data goes to P^T (x - origin).
struct Plane {
  Eigen::VectorXd origin;
  Eigen::MatrixXd P;  // d x 2
  std::string axes;   // for the title
};

inline Plane plot_plane(const Eigen::MatrixXd& X, const std::vector<std::string>& names) {
  const Eigen::Index d = X.cols();
  Plane plane;
  if (d < 2) throw std::invalid_argument("plot: the data have 1 column; a plot needs 2 or more");
  if (d == 2) {
    plane.origin = Eigen::VectorXd::Zero(2);
    plane.P = Eigen::MatrixXd::Identity(2, 2);
    const bool named = names.size() == 2 && !names[0].empty() && !names[1].empty();
    plane.axes = named ? names[0] + " (x) and " + names[1] + " (y)" : "columns 1 (x) and 2 (y)";
    return plane;
  }
  plane.origin = X.colwise().mean().transpose();
  const Eigen::MatrixXd centred = X.rowwise() - plane.origin.transpose();
  const Eigen::MatrixXd cov = centred.transpose() * centred / static_cast<double>(X.rows());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  // Eigenvalues ascending: the last two columns, the largest first.
  plane.P.resize(d, 2);
  plane.P.col(0) = eig.eigenvectors().col(d - 1);
  plane.P.col(1) = eig.eigenvectors().col(d - 2);
  const double total = eig.eigenvalues().sum();
  char share[64];
  std::snprintf(
      share, sizeof(share), "%.0f%%",
      total > 0 ? 100.0 * (eig.eigenvalues()(d - 1) + eig.eigenvalues()(d - 2)) / total : 0.0);
  plane.axes = "first two principal components (" + std::string(share) + " of the variance)";
  return plane;
}

/// Model parameters in the data's units: means/centres (k x d) and, for mixtures,
/// covariances (d x d each).
struct ModelInUnits {
  Eigen::MatrixXd centres;
  std::vector<Eigen::MatrixXd> covariances;
};

template <class M>
ModelInUnits model_in_units(const M& model) {
  ModelInUnits m;
  const auto& inner = model_of(model);
  if constexpr (IsMixture<M>::value) {
    m.centres = inner.means().template cast<double>();
    for (Eigen::Index j = 0; j < inner.n_components(); ++j) {
      m.covariances.push_back(inner.covariance(j).template cast<double>());
    }
  } else {
    m.centres = inner.cluster_centers().template cast<double>();
  }
  if constexpr (IsPipeline<M>::value) {
    const Eigen::VectorXd mu = model.scaler().mean().template cast<double>();
    const Eigen::VectorXd s = model.scaler().scale().template cast<double>();
    for (Eigen::Index j = 0; j < m.centres.rows(); ++j) {
      m.centres.row(j) = (m.centres.row(j).transpose().cwiseProduct(s) + mu).transpose();
    }
    for (auto& c : m.covariances) c = s.asDiagonal() * c * s.asDiagonal();
  }
  return m;
}

/// At most m of the n row indices, ascending, uniformly at random (selection sampling,
/// Knuth's algorithm S, with std::mt19937_64 seeded 0 and 53-bit uniform draws): the same
/// subset on every platform.
inline std::vector<Eigen::Index> plot_subset(Eigen::Index n, Eigen::Index m) {
  std::vector<Eigen::Index> rows;
  if (m <= 0 || m >= n) {
    for (Eigen::Index i = 0; i < n; ++i) rows.push_back(i);
    return rows;
  }
  std::mt19937_64 rng(0);
  Eigen::Index needed = m;
  for (Eigen::Index i = 0; i < n && needed > 0; ++i) {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    if (u * static_cast<double>(n - i) < static_cast<double>(needed)) {
      rows.push_back(i);
      --needed;
    }
  }
  return rows;
}

struct PlotInput {
  Eigen::MatrixXd X;
  std::vector<std::string> names;
  Eigen::VectorXi labels;
  std::string title;
  Eigen::Index max_points = 0;
  bool equal_axes = false;
};

/// The SVG document of the plot; `model` (may be null) adds the model's centres or ellipses.
inline std::string plot_document(const PlotInput& in, const ModelInUnits* model) {
  const Plane plane = plot_plane(in.X, in.names);
  svg_plot::Panel panel;
  const std::vector<Eigen::Index> rows = plot_subset(in.X.rows(), in.max_points);
  panel.points.resize(static_cast<Eigen::Index>(rows.size()), 2);
  panel.labels.resize(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto i = rows[r];
    const auto out = static_cast<Eigen::Index>(r);
    panel.points.row(out) = (in.X.row(i) - plane.origin.transpose()) * plane.P;
    panel.labels(out) = in.labels(i);
  }
  if (model != nullptr) {
    panel.centers = (model->centres.rowwise() - plane.origin.transpose()) * plane.P;
    for (std::size_t j = 0; j < model->covariances.size(); ++j) {
      svg_plot::Ellipse e;
      e.center = panel.centers.row(static_cast<Eigen::Index>(j)).transpose();
      e.covariance = plane.P.transpose() * model->covariances[j] * plane.P;
      e.label = static_cast<int>(j);
      panel.ellipses.push_back(e);
    }
  }
  const Eigen::Index noise = (in.labels.array() < 0).count();
  std::string subset;
  if (static_cast<Eigen::Index>(rows.size()) < in.X.rows()) {
    subset = "; " + std::to_string(rows.size()) + " of " + std::to_string(in.X.rows()) +
             " points drawn (a uniform random subset)";
  }
  panel.title = (in.title.empty() ? std::string() : in.title + ": ") + plane.axes +
                (noise > 0 ? " (grey: noise)" : "") + subset;
  svg_plot::Style style;
  style.equal_axes = in.equal_axes;
  return svg_plot::document({panel}, style);
}

}  // namespace emcluster_cli
