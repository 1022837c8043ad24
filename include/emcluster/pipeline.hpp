/// @file pipeline.hpp
/// @brief Pipeline<Model>: a StandardScaler followed by a clustering model, fitted and used
/// on raw data as one estimator (and saved as one model file, see io.hpp).
///
/// @code
/// #include <emcluster/pipeline.hpp>
///
/// emcluster::KMeans<>::Options opts;
/// opts.n_clusters = 3;
/// emcluster::Pipeline<emcluster::KMeans<>> pipe(emcluster::KMeans<>(opts));
/// Eigen::VectorXi labels = pipe.fit_predict(X_raw);   // standardized inside
/// Eigen::VectorXi more = pipe.predict(Y_raw);         // with the training data's scaling
/// @endcode
#pragma once

#include <Eigen/Core>

#include <utility>

#include "detail/model_access.hpp"
#include "exceptions.hpp"
#include "preprocessing.hpp"

namespace emcluster {

/// A StandardScaler<Model::Scalar> then Model, on raw data: fit() learns the scaling and fits
/// the model to the standardized data; every method on new data standardizes it with the
/// learnt scaling first (one n x d copy, the scaler's output), then asks the model.
///
/// @tparam Model KMeans<S>, MiniBatchKMeans<S> or GaussianMixture<S> (any estimator with
///         `Matrix`, `fit(X)`, `predict(X)` and `is_fitted()`). predict_proba(),
///         score_samples() and score() compile only when Model has them.
///
/// A fit that throws (in the scaler or in the model) leaves the pipeline unchanged.
///
/// @code
/// emcluster::GaussianMixture<>::Options opts;
/// opts.n_components = 3;
/// opts.noise_component = true;
/// emcluster::Pipeline<emcluster::GaussianMixture<>> pipe{emcluster::GaussianMixture<>(opts)};
/// pipe.fit(X_raw);
/// Eigen::MatrixXd p = pipe.predict_proba(Y_raw);        // n x (3 + 1)
/// Eigen::VectorXd mu = pipe.scaler().mean();            // per-feature means of X_raw
/// double w = pipe.model().noise_weight();
/// @endcode
template <typename Model>
class Pipeline {
 public:
  using Scalar = typename Model::Matrix::Scalar;   ///< the data's scalar type: float or double
  using Scaler = StandardScaler<Scalar>;           ///< the first step
  using Matrix = typename Scaler::Matrix;          ///< standardized data, n x d
  using ScalerOptions = typename Scaler::Options;  ///< with_mean, with_std

  /// A default scaler and a default Model.
  Pipeline() = default;
  /// The given (unfitted or fitted) model after a scaler with the given options.
  explicit Pipeline(Model model, ScalerOptions scaler_options = {})
      : scaler_(scaler_options), model_(std::move(model)) {}

  /// Learns the scaling of X (n x d, raw data) and fits the model to the standardized X.
  /// @return *this.
  template <typename Derived>
  Pipeline& fit(const Eigen::MatrixBase<Derived>& X) {
    Scaler scaler = scaler_;
    scaler.fit(X);
    Model model = model_;
    model.fit(scaler.transform(X));
    scaler_ = std::move(scaler);  // commit only now: a throw above changed nothing
    model_ = std::move(model);
    return *this;
  }

  /// fit(X), then the model's labels of the standardized X.
  template <typename Derived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X) {
    Scaler scaler = scaler_;
    scaler.fit(X);
    Model model = model_;
    Eigen::VectorXi labels = model.fit_predict(scaler.transform(X));
    scaler_ = std::move(scaler);
    model_ = std::move(model);
    return labels;
  }

  /// The model's labels of the standardized rows of X.
  template <typename Derived>
  Eigen::VectorXi predict(const Eigen::MatrixBase<Derived>& X) const {
    return model_.predict(standardize(X));
  }

  /// The model's posterior probabilities of the standardized X (mixtures).
  template <typename Derived>
  auto predict_proba(const Eigen::MatrixBase<Derived>& X) const {
    return model_.predict_proba(standardize(X));
  }

  /// The model's per-row log-density of the standardized X (mixtures). In the standardized
  /// units: add sum log scale() to compare with a density of the raw data.
  template <typename Derived>
  auto score_samples(const Eigen::MatrixBase<Derived>& X) const {
    return model_.score_samples(standardize(X));
  }

  /// The model's score of the standardized X (minus the inertia for K-means, the mean
  /// log-density for mixtures).
  template <typename Derived>
  double score(const Eigen::MatrixBase<Derived>& X) const {
    return model_.score(standardize(X));
  }

  /// X standardized by the fitted scaler (what the model sees).
  template <typename Derived>
  Matrix transform(const Eigen::MatrixBase<Derived>& X) const {
    return standardize(X);
  }

  /// Whether both steps are fitted.
  bool is_fitted() const { return scaler_.is_fitted() && model_.is_fitted(); }
  /// The first step.
  const Scaler& scaler() const { return scaler_; }
  /// The second step.
  const Model& model() const { return model_; }

 private:
  friend struct detail::ModelAccess;  // model files (io.hpp) restore both steps

  template <typename Derived>
  Matrix standardize(const Eigen::MatrixBase<Derived>& X) const {
    if (!model_.is_fitted()) {
      throw not_fitted_error("Pipeline::predict: the model is not fitted yet; call fit() first");
    }
    return scaler_.transform(X);
  }

  Scaler scaler_;
  Model model_;
};

}  // namespace emcluster
