/// @file detail/kmeans_estimator.hpp
/// @brief What KMeans and MiniBatchKMeans share (the job of scikit-learn's _BaseKMeans): the
/// fitted centres, labels, inertia and iteration count, the methods that use them on new data
/// (predict, transform, score), the fit entry points with their weight conversion, and the
/// checks: scalar type, fitted state, new data.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include "../exceptions.hpp"
#include "lloyd_pass.hpp"
#include "model_access.hpp"
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
    return model().fit_impl(X, nullptr, 0);
  }
  /// Fits with a non-negative weight per sample (n entries, positive sum).
  template <typename Derived, typename WDerived>
  Model& fit(const Eigen::MatrixBase<Derived>& X,
             const Eigen::MatrixBase<WDerived>& sample_weight) {
    check_scalar<Derived>();
    int weight_exp = 0;
    const Eigen::VectorXd w =
        weights_as_double(where("fit").c_str(), sample_weight, X.rows(), &weight_exp);
    return model().fit_impl(X, w.data(), weight_exp);
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
    return with_model_scale(X, [&](const auto& Xs) {
      return nearest_centers(Xs, prepared_, model().options().kernel);
    });
  }

  /// Euclidean distance from every row of X to every centre: an n x k matrix, which the
  /// caller asked for. Exact differences, not the GEMM identity.
  template <typename Derived>
  Matrix transform(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("transform", X);
    Matrix D = with_model_scale(X, [&](const auto& Xs) { return center_distances(Xs, prepared_); });
    if (scale_exp_ != 0) D = D.unaryExpr([e = scale_exp_](Scalar v) { return std::ldexp(v, e); });
    return D;
  }

  /// Minus the inertia of X under the fitted centres (higher is better, as scikit-learn).
  template <typename Derived>
  double score(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("score", X);
    const double scaled = with_model_scale(X, [&](const auto& Xs) {
      return inertia_of(Xs, nullptr, prepared_, model().options().kernel);
    });
    return -unscaled_inertia(where("score").c_str(), scaled, 2 * scale_exp_);
  }
  /// Minus the weighted inertia of X under the fitted centres.
  template <typename Derived, typename WDerived>
  double score(const Eigen::MatrixBase<Derived>& X,
               const Eigen::MatrixBase<WDerived>& sample_weight) const {
    check_new_data("score", X);
    int weight_exp = 0;
    const Eigen::VectorXd w =
        weights_as_double(where("score").c_str(), sample_weight, X.rows(), &weight_exp);
    const double scaled = with_model_scale(X, [&](const auto& Xs) {
      return inertia_of(Xs, w.data(), prepared_, model().options().kernel);
    });
    return -unscaled_inertia(where("score").c_str(), scaled, 2 * scale_exp_ + weight_exp);
  }

  /// The fitted centres, k x d.
  const Matrix& cluster_centers() const {
    check_fitted(Model::kName, "cluster_centers", fitted_);
    return centers_;
  }
  /// Label of every sample of the last fit (the nearest final centre).
  const Eigen::VectorXi& labels() const {
    check_fitted(Model::kName, "labels", fitted_);
    return labels_;
  }
  /// Sum of w ||x - c_label||^2 over those samples, for the final centres. Throws
  /// numerical_error when that true value exceeds the largest double (data near 2^512 and
  /// beyond); it underflows to 0 or a subnormal for data near 2^-512 and below.
  double inertia() const {
    check_fitted(Model::kName, "inertia", fitted_);
    return unscaled_inertia(where("inertia").c_str(), inertia_, inertia_exp_);
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
  friend struct ModelAccess;  // model files (io.hpp) read and restore the fitted state

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

  /// Checks sample weights for n samples and returns them in double, divided by 2^e
  /// (normalize_weights) with e stored in *weight_exp when they are extreme; with
  /// weight_exp null they must sum to a finite value (std::invalid_argument otherwise).
  template <typename WDerived>
  static Eigen::VectorXd weights_as_double(const char* where,
                                           const Eigen::MatrixBase<WDerived>& sample_weight,
                                           Eigen::Index n, int* weight_exp) {
    check_sample_weight(where, sample_weight, n);
    Eigen::VectorXd w = sample_weight.template cast<double>();
    if (weight_exp) {
      *weight_exp = normalize_weights(w);
    } else if (!std::isfinite(w.sum())) {
      fail(where,
           "sample_weight sums to more than the largest double; divide the weights by a "
           "common factor");
    }
    return w;
  }

  /// f(X) when the model was fitted on the data as given, else f(X 2^-e) with the model's
  /// exponent e: an expression, evaluated block by block by the kernels, no copy.
  template <typename Derived, typename F>
  decltype(auto) with_model_scale(const Eigen::MatrixBase<Derived>& X, F&& f) const {
    if (scale_exp_ == 0) return f(X);
    return f(X * static_cast<Scalar>(std::ldexp(1.0, -scale_exp_)));
  }

  /// value 2^e, with numerical_error when that overflows double.
  static double unscaled_inertia(const char* where, double value, int e) {
    const double r = e == 0 ? value : std::ldexp(value, e);
    if (std::isinf(r) && std::isfinite(value)) {
      throw numerical_error(message(where, ": inertia overflows double: ", value, " x 2^", e,
                                    "; the data (or weights) are too large for a squared "
                                    "distance sum; scale them down"));
    }
    return r;
  }

  /// The checks of every method on new data: scalar type, fitted, finite non-empty data with
  /// the fitted number of columns.
  template <typename Derived>
  void check_new_data(const char* method, const Eigen::MatrixBase<Derived>& X) const {
    check_scalar<Derived>();
    detail::check_new_data(where(method).c_str(), fitted_, X, prepared_.d());
  }

  /// Commits a successful fit (everything before must leave the model untouched). The
  /// centres and inertia are those of the data the fit ran on, X 2^-scale_exp with weights
  /// divided by 2^weight_exp; the model keeps them so and reports them in the user's units.
  void commit(PreparedCenters<Scalar>&& prepared, Eigen::VectorXi&& labels, double inertia,
              int scale_exp = 0, int weight_exp = 0) {
    Matrix centers = scale_exp == 0 ? prepared.centers
                                    : Matrix(prepared.centers.unaryExpr([scale_exp](Scalar v) {
                                        return std::ldexp(v, scale_exp);
                                      }));
    prepared_ = std::move(prepared);
    centers_ = std::move(centers);
    labels_ = std::move(labels);
    inertia_ = inertia;
    scale_exp_ = scale_exp;
    inertia_exp_ = 2 * scale_exp + weight_exp;
    fitted_ = true;
  }

  PreparedCenters<Scalar> prepared_;  ///< the fitted centres times 2^-scale_exp_, for the kernels
  Matrix centers_;                    ///< the fitted centres in the user's units
  Eigen::VectorXi labels_;            ///< labels of the last fit's samples
  double inertia_ = 0.0;              ///< inertia of those samples times 2^-inertia_exp_
  int scale_exp_ = 0;                 ///< the fit ran on X 2^-scale_exp_ (0 on ordinary data)
  int inertia_exp_ = 0;               ///< 2 scale_exp_ + the exponent taken out of the weights
  int n_iter_ = 0;                    ///< see n_iter()
  bool fitted_ = false;               ///< whether a fit has succeeded

 private:
  Model& model() { return static_cast<Model&>(*this); }
  const Model& model() const { return static_cast<const Model&>(*this); }
};

}  // namespace emcluster::detail
