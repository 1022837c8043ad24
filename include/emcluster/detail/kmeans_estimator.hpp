/// @file detail/kmeans_estimator.hpp
/// @brief What KMeans and MiniBatchKMeans share (the job of scikit-learn's _BaseKMeans): the
/// fitted centres, labels, inertia and iteration count, the methods that use them on new data
/// (predict, transform, score), the fit entry points with their weight conversion, and the
/// checks: scalar type, fitted state, new data.
#pragma once

#include <Eigen/Core>

#include <string>
#include <type_traits>
#include <utility>

#include "../exceptions.hpp"
#include "lloyd_pass.hpp"
#include "nearest_center.hpp"
#include "validation.hpp"

namespace emcluster::detail {

/// Base of the centroid estimators, by the curiously recurring template pattern: Model is
/// the estimator deriving from it (KMeans<Scalar> or MiniBatchKMeans<Scalar>), which must
/// provide, to this base as a friend:
///
///     static constexpr const char* kName;              // "KMeans": the prefix of messages
///     const Options& options() const;                  // with n_clusters and kernel
///     Model& fit_impl(X, const double* w);             // the fit; w nullptr = all ones
///     Eigen::VectorXi labels_of_fit(X) const;          // what fit_predict returns after fit
///
/// and commits a successful fit with commit(). Every accessor of fitted state throws
/// not_fitted_error before the first successful fit; options(), n_clusters() and
/// is_fitted() never throw.
///
/// @code
/// emcluster::KMeans<> km(opts);           // or MiniBatchKMeans<>
/// km.fit(X);                              // fit(X, w) with sample weights
/// Eigen::VectorXi y = km.predict(Y);      // nearest centre of every row of Y
/// double s = km.score(Y);                 // minus the inertia of Y
/// @endcode
template <typename Model, typename Scalar>
class KMeansEstimator {
  static_assert(
      std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
      "emcluster::KMeans<Scalar>, MiniBatchKMeans<Scalar>: Scalar must be float or double");

 public:
  using Matrix =
      Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< k x d centres, n x k distances
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;    ///< per-feature values

  /// Fits the centres to X (n x d, samples in rows, every weight 1).
  /// @return the model, to chain `.labels()` or `.predict(...)`.
  template <typename Derived>
  Model& fit(const Eigen::MatrixBase<Derived>& X) {
    check_scalar<Derived>();
    return model().fit_impl(X, nullptr);
  }
  /// Fits with a non-negative weight per sample (n entries, positive sum).
  template <typename Derived, typename WDerived>
  Model& fit(const Eigen::MatrixBase<Derived>& X,
             const Eigen::MatrixBase<WDerived>& sample_weight) {
    check_scalar<Derived>();
    const Eigen::VectorXd w = weights_as_double(where("fit").c_str(), sample_weight, X.rows());
    return model().fit_impl(X, w.data());
  }

  /// Fits and returns the label of every sample.
  template <typename Derived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X) {
    return fit(X).labels_of_fit(X);
  }
  /// Fits with sample weights and returns the label of every sample.
  template <typename Derived, typename WDerived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X,
                              const Eigen::MatrixBase<WDerived>& sample_weight) {
    return fit(X, sample_weight).labels_of_fit(X);
  }

  /// Index of the nearest centre for every row of X.
  template <typename Derived>
  Eigen::VectorXi predict(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("predict", X);
    return nearest_centers(X, prepared_, model().options().kernel);
  }

  /// Euclidean distance from every row of X to every centre: an n x k matrix, which the
  /// caller asked for. Exact differences, not the GEMM identity.
  template <typename Derived>
  Matrix transform(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("transform", X);
    return center_distances(X, prepared_);
  }

  /// Minus the inertia of X under the fitted centres (higher is better, as scikit-learn).
  template <typename Derived>
  double score(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("score", X);
    return -inertia_of(X, nullptr, prepared_, model().options().kernel);
  }
  /// Minus the weighted inertia of X under the fitted centres.
  template <typename Derived, typename WDerived>
  double score(const Eigen::MatrixBase<Derived>& X,
               const Eigen::MatrixBase<WDerived>& sample_weight) const {
    check_new_data("score", X);
    const Eigen::VectorXd w = weights_as_double(where("score").c_str(), sample_weight, X.rows());
    return -inertia_of(X, w.data(), prepared_, model().options().kernel);
  }

  /// The fitted centres, k x d.
  const Matrix& cluster_centers() const {
    check_fitted(Model::kName, "cluster_centers", fitted_);
    return prepared_.centers;
  }
  /// Label of every sample of the last fit (the nearest final centre).
  const Eigen::VectorXi& labels() const {
    check_fitted(Model::kName, "labels", fitted_);
    return labels_;
  }
  /// Sum of w ||x - c_label||^2 over those samples, for the final centres.
  double inertia() const {
    check_fitted(Model::kName, "inertia", fitted_);
    return inertia_;
  }
  /// Iterations (KMeans: Lloyd iterations of the winning restart; MiniBatchKMeans: epochs
  /// started by the last fit).
  int n_iter() const {
    check_fitted(Model::kName, "n_iter", fitted_);
    return n_iter_;
  }
  /// Number of features seen by the fit. Throws not_fitted_error before fit (as every
  /// accessor of fitted state; earlier versions returned 0).
  Eigen::Index n_features() const {
    check_fitted(Model::kName, "n_features", fitted_);
    return prepared_.d();
  }
  /// Whether a fit has succeeded at least once.
  bool is_fitted() const { return fitted_; }
  /// k, from the options.
  Eigen::Index n_clusters() const { return model().options().n_clusters; }

 protected:
  KMeansEstimator() = default;
  ~KMeansEstimator() = default;
  KMeansEstimator(const KMeansEstimator&) = default;
  KMeansEstimator(KMeansEstimator&&) = default;
  KMeansEstimator& operator=(const KMeansEstimator&) = default;
  KMeansEstimator& operator=(KMeansEstimator&&) = default;

  /// "Model::method", for messages.
  static std::string where(const char* method) { return message(Model::kName, "::", method); }

  /// Data of another scalar type than the model's is a compile-time error.
  template <typename Derived>
  static constexpr void check_scalar() {
    static_assert(
        std::is_same<typename Derived::Scalar, Scalar>::value,
        "emcluster::KMeans<Scalar>, MiniBatchKMeans<Scalar>: X must have the model's scalar type");
  }

  /// Checks sample weights for n samples and returns them in double.
  template <typename WDerived>
  static Eigen::VectorXd weights_as_double(const char* where,
                                           const Eigen::MatrixBase<WDerived>& sample_weight,
                                           Eigen::Index n) {
    check_sample_weight(where, sample_weight, n);
    return sample_weight.template cast<double>();
  }

  /// The checks of every method on new data: scalar type, fitted, finite non-empty data with
  /// the fitted number of columns.
  template <typename Derived>
  void check_new_data(const char* method, const Eigen::MatrixBase<Derived>& X) const {
    check_scalar<Derived>();
    detail::check_new_data(where(method).c_str(), fitted_, X, prepared_.d());
  }

  /// Commits a successful fit (everything before must leave the model untouched).
  void commit(PreparedCenters<Scalar>&& prepared, Eigen::VectorXi&& labels, double inertia) {
    prepared_ = std::move(prepared);
    labels_ = std::move(labels);
    inertia_ = inertia;
    fitted_ = true;
  }

  PreparedCenters<Scalar> prepared_;  ///< the fitted centres, prepared for the kernels
  Eigen::VectorXi labels_;            ///< labels of the last fit's samples
  double inertia_ = 0.0;              ///< inertia of those samples
  int n_iter_ = 0;                    ///< see n_iter()
  bool fitted_ = false;               ///< whether a fit has succeeded

 private:
  Model& model() { return static_cast<Model&>(*this); }
  const Model& model() const { return static_cast<const Model&>(*this); }
};

}  // namespace emcluster::detail
