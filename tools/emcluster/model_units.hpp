// Saved models for the emcluster command: loading one whatever its estimator and scalar type
// (with_model), the columns it was fitted on (model_columns), and a mixture's fit in the
// data's units: a mixture fitted on standardized data z = (x - mean) / scale has the density
// p_x(x) = p_z(z) / prod(scale) of the raw data, so its log-likelihood in the data's units is
// the standardized one minus sum(log scale) per row, and BIC and AIC follow from it.
#pragma once

#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/io.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/minibatch_kmeans.hpp>
#include <emcluster/pipeline.hpp>

#include <Eigen/Core>

#include <cmath>
#include <string>
#include <type_traits>

#include "data.hpp"

namespace emcluster_cli {

/// Calls f with the loaded model of the file, whatever its estimator and scalar type.
template <class F>
void with_model(const std::string& path, F&& f) {
  const auto info = emcluster::read_model_info(path);
  const bool f32 = info.scalar == "float32";
  const std::string& e = info.estimator;
  const std::string& inner = info.model_estimator;
  using namespace emcluster;
  const auto dispatch = [&](auto tag) {
    using S = decltype(tag);
    if (e == "KMeans") return f(load_model<KMeans<S>>(path));
    if (e == "MiniBatchKMeans") return f(load_model<MiniBatchKMeans<S>>(path));
    if (e == "GaussianMixture") return f(load_model<GaussianMixture<S>>(path));
    if (e == "Pipeline" && inner == "KMeans") return f(load_model<Pipeline<KMeans<S>>>(path));
    if (e == "Pipeline" && inner == "MiniBatchKMeans") {
      return f(load_model<Pipeline<MiniBatchKMeans<S>>>(path));
    }
    if (e == "Pipeline" && inner == "GaussianMixture") {
      return f(load_model<Pipeline<GaussianMixture<S>>>(path));
    }
    throw model_file_error(path + ": a " + e +
                           " model cannot cluster (expected KMeans, MiniBatchKMeans, "
                           "GaussianMixture or a Pipeline of one)");
  };
  if (f32) {
    dispatch(float{});
  } else {
    dispatch(double{});
  }
}

template <class M>
struct IsMixture : std::false_type {};
template <class S>
struct IsMixture<emcluster::GaussianMixture<S>> : std::true_type {};
template <class S>
struct IsMixture<emcluster::Pipeline<emcluster::GaussianMixture<S>>> : std::true_type {};

template <class M>
struct IsPipeline : std::false_type {};
template <class M>
struct IsPipeline<emcluster::Pipeline<M>> : std::true_type {};

template <class M>
using ScalarOf = typename M::Matrix::Scalar;

/// The clustering model of a model or a pipeline.
template <class M>
const auto& model_of(const M& m) {
  if constexpr (IsPipeline<M>::value) {
    return m.model();
  } else {
    return m;
  }
}

template <class M>
Eigen::Index features_of(const M& m) {
  if constexpr (IsPipeline<M>::value) {
    return m.scaler().n_features();
  } else {
    return m.n_features();
  }
}

/// The columns DATA must provide for a loaded model.
template <class M>
ModelColumns model_columns(const std::string& path, const M& m) {
  ModelColumns c;
  c.names = emcluster::read_model_info(path).feature_names;
  c.features = features_of(m);
  c.path = path;
  return c;
}

/// A mixture's fit of data in the data's own units (and, for a pipeline, the standardized).
struct MixtureFit {
  double mean_log_likelihood = 0;  ///< per row, of the raw data
  double bic = 0, aic = 0;         ///< of the raw data
  bool standardized = false;       ///< fitted on standardized data (a pipeline)
  double standardized_mean_log_likelihood = 0;

  std::string describe() const {
    std::string s =
        "mean log-likelihood " + g(mean_log_likelihood) + ", BIC " + g(bic) + ", AIC " + g(aic);
    if (standardized) {
      s += " (in the data's units; standardized: mean log-likelihood " +
           g(standardized_mean_log_likelihood) + ")";
    }
    return s;
  }
};

template <class S, class Derived>
MixtureFit mixture_fit(const emcluster::GaussianMixture<S>& m,
                       const Eigen::MatrixBase<Derived>& X) {
  MixtureFit f;
  f.mean_log_likelihood = m.score(X);
  f.bic = m.bic(X);
  f.aic = m.aic(X);
  return f;
}

template <class S, class Derived>
MixtureFit mixture_fit(const emcluster::Pipeline<emcluster::GaussianMixture<S>>& p,
                       const Eigen::MatrixBase<Derived>& X) {
  const auto& m = p.model();
  const double n = static_cast<double>(X.rows());
  const double params = static_cast<double>(m.n_parameters());
  double log_scale = 0;
  const auto& scale = p.scaler().scale();
  for (Eigen::Index j = 0; j < scale.size(); ++j)
    log_scale += std::log(static_cast<double>(scale(j)));
  MixtureFit f;
  f.standardized = true;
  f.standardized_mean_log_likelihood = p.score(X);
  f.mean_log_likelihood = f.standardized_mean_log_likelihood - log_scale;
  f.bic = -2.0 * n * f.mean_log_likelihood + params * std::log(n);
  f.aic = -2.0 * n * f.mean_log_likelihood + 2.0 * params;
  return f;
}

}  // namespace emcluster_cli
