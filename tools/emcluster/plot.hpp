// `emcluster plot`: a 2-D scatter of the data coloured by label (grey: noise, label -1), on
// the first two columns, or on the first two principal components when the data have more;
// with a model, its centres (K-means) or its means and 1- and 2-sigma ellipses (mixtures),
// mapped into the same plane. The SVG is drawn by tools/common/svg_plot.hpp.
#pragma once

#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/io.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/minibatch_kmeans.hpp>
#include <emcluster/pipeline.hpp>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <string>
#include <vector>

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

template <class Gmm>
void mixture_parameters(const Gmm& g, ModelInUnits& m) {
  m.centres = g.means().template cast<double>();
  for (Eigen::Index j = 0; j < g.n_components(); ++j) {
    m.covariances.push_back(g.covariance(j).template cast<double>());
  }
}

template <class Pipe>
void unstandardize(const Pipe& p, ModelInUnits& m) {
  const Eigen::VectorXd mu = p.scaler().mean().template cast<double>();
  const Eigen::VectorXd s = p.scaler().scale().template cast<double>();
  for (Eigen::Index j = 0; j < m.centres.rows(); ++j) {
    m.centres.row(j) = (m.centres.row(j).transpose().cwiseProduct(s) + mu).transpose();
  }
  for (auto& c : m.covariances) c = s.asDiagonal() * c * s.asDiagonal();
}

inline ModelInUnits model_in_units(const std::string& path) {
  const auto info = emcluster::read_model_info(path);
  ModelInUnits m;
  const std::string& e = info.estimator;
  const std::string& inner = info.model_estimator;
  if (e == "GaussianMixture") {
    mixture_parameters(emcluster::load_model<emcluster::GaussianMixture<double>>(path), m);
  } else if (e == "KMeans") {
    m.centres = emcluster::load_model<emcluster::KMeans<double>>(path).cluster_centers();
  } else if (e == "MiniBatchKMeans") {
    m.centres = emcluster::load_model<emcluster::MiniBatchKMeans<double>>(path).cluster_centers();
  } else if (e == "Pipeline" && inner == "GaussianMixture") {
    const auto p =
        emcluster::load_model<emcluster::Pipeline<emcluster::GaussianMixture<double>>>(path);
    mixture_parameters(p.model(), m);
    unstandardize(p, m);
  } else if (e == "Pipeline" && inner == "KMeans") {
    const auto p = emcluster::load_model<emcluster::Pipeline<emcluster::KMeans<double>>>(path);
    m.centres = p.model().cluster_centers();
    unstandardize(p, m);
  } else if (e == "Pipeline" && inner == "MiniBatchKMeans") {
    const auto p =
        emcluster::load_model<emcluster::Pipeline<emcluster::MiniBatchKMeans<double>>>(path);
    m.centres = p.model().cluster_centers();
    unstandardize(p, m);
  } else {
    throw emcluster::model_file_error(path + ": a " + e +
                                      " has no clusters to draw (expected a K-means or mixture "
                                      "model, or a pipeline of one)");
  }
  return m;
}

inline void plot(const Eigen::MatrixXd& X, const std::vector<std::string>& names,
                 const Eigen::VectorXi& labels, const std::string& model_path,
                 const std::string& title, const std::string& out) {
  const Plane plane = plot_plane(X, names);
  svg_plot::Panel panel;
  panel.points = (X.rowwise() - plane.origin.transpose()) * plane.P;
  panel.labels = labels;
  if (!model_path.empty()) {
    const ModelInUnits m = model_in_units(model_path);
    if (m.centres.cols() != X.cols()) {
      throw emcluster::model_file_error(model_path + ": the model has " +
                                        std::to_string(m.centres.cols()) + " features, the data " +
                                        std::to_string(X.cols()));
    }
    panel.centers = (m.centres.rowwise() - plane.origin.transpose()) * plane.P;
    for (std::size_t j = 0; j < m.covariances.size(); ++j) {
      svg_plot::Ellipse e;
      e.center = panel.centers.row(static_cast<Eigen::Index>(j)).transpose();
      e.covariance = plane.P.transpose() * m.covariances[j] * plane.P;
      e.label = static_cast<int>(j);
      panel.ellipses.push_back(e);
    }
  }
  const Eigen::Index noise = (labels.array() < 0).count();
  panel.title = (title.empty() ? std::string() : title + ": ") + plane.axes +
                (noise > 0 ? " (grey: noise)" : "");
  svg_plot::write(out, {panel});
}

}  // namespace emcluster_cli
