/// @file preprocessing.hpp
/// @brief Feature standardization (zero mean, unit variance per column), as scikit-learn's
/// StandardScaler; the article standardizes its data before clustering.
///
/// @code
/// #include <emcluster/preprocessing.hpp>
///
/// Eigen::MatrixXd X = ...;                  // n x d, samples in rows
/// emcluster::StandardScaler<> scaler;
/// Eigen::MatrixXd Z = scaler.fit_transform(X);  // every column: mean 0, std 1
/// Eigen::MatrixXd back = scaler.inverse_transform(Z);  // X again, up to rounding
/// @endcode
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "detail/column_stats.hpp"
#include "detail/model_access.hpp"
#include "detail/reducer.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"

namespace emcluster {

/// Standardizes features: z = (x - mean) / scale per column, with the mean and the population
/// standard deviation (divisor n, as scikit-learn) learnt by fit().
///
/// Statistics are accumulated in double whatever Scalar is, by the corrected two-pass
/// algorithm (mean first, then the squared deviations less the rounding residue of the
/// deviations' sum), in fixed-size chunks combined in chunk order: the results do not depend
/// on the thread count or on the storage order of X. Transforms compute in double and round
/// to Scalar once.
///
/// A constant feature, or one whose variance is indistinguishable from rounding error (the
/// scikit-learn test: var <= n eps var + (n |mean| eps)^2), keeps scale 1, so it is only
/// centred.
///
/// Numeric range: every finite input. Each column's exponent (that of its largest |x|) is
/// taken out by an exact power-of-two rescaling before the two passes and put back after, so
/// nothing overflows or underflows on the way: mean() and scale() are correct to a few ulps
/// for data anywhere from the smallest normal to the largest finite number (a column
/// multiplied by a power of two gives the same bits, scaled), the constant-feature test does
/// not depend on the magnitude, and transform() / inverse_transform() compute in the scaled
/// units. var() is the true variance rounded to Scalar: inf where it exceeds the type's range
/// (a double column of spread above ~1.3e154, a float one above ~1.8e19), 0 or subnormal
/// where it is below it; scale() is computed from the scaled standard deviation, so it is
/// right even then (and itself overflows to inf only for a float column whose standard
/// deviation exceeds FLT_MAX, which float data cannot have).
///
/// @tparam Scalar `float` or `double`: the scalar type of the transformed data and of the
///         accessors' vectors.
///
/// @code
/// emcluster::StandardScaler<float> scaler;
/// scaler.fit(X_train);                      // any Eigen expression, row- or column-major, Map
/// Eigen::MatrixXf Z = scaler.transform(X_test);
/// Eigen::VectorXf mu = scaler.mean(), sd = scaler.scale();
/// @endcode
///
/// Errors: std::invalid_argument for empty data, a NaN/Inf (named by row and column) or the
/// wrong number of columns; emcluster::not_fitted_error for transform before fit. A fit that
/// throws leaves the scaler as it was.
template <typename Scalar = double>
class StandardScaler {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster::StandardScaler<Scalar>: Scalar must be float or double");

 public:
  using Matrix =
      Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< transformed data, n x d
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;    ///< per-feature statistics, d

  /// Parameters fixed at construction.
  struct Options {
    bool with_mean = true;  ///< subtract the mean in transform (false: only scale)
    bool with_std =
        true;  ///< divide by the standard deviation in transform (false: scale() is all ones)
  };

  /// A scaler that centres and scales.
  StandardScaler() = default;
  /// A scaler with the given options.
  explicit StandardScaler(Options options) : options_(options) {}

  /// Learns the mean and standard deviation of every column of X (n x d, n >= 1).
  /// @return *this.
  template <typename Derived>
  StandardScaler& fit(const Eigen::MatrixBase<Derived>& X) {
    return fit_impl(X, nullptr, 0, detail::LocalReducer(X.rows()));
  }

  /// Standardizes X with the fitted statistics: (x - mean) / scale per column.
  template <typename Derived>
  Matrix transform(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("StandardScaler::transform", X);
    return (((X.template cast<double>().array().rowwise() * factor_.transpose().array()).rowwise() -
             shift_.transpose().array())
                .rowwise() /
            divisor_.transpose().array())
        .matrix()
        .template cast<Scalar>();
  }

  /// fit(X) then transform(X).
  template <typename Derived>
  Matrix fit_transform(const Eigen::MatrixBase<Derived>& X) {
    return fit(X).transform(X);
  }

  /// Undoes transform(): z * scale + mean per column.
  template <typename Derived>
  Matrix inverse_transform(const Eigen::MatrixBase<Derived>& Z) const {
    check_new_data("StandardScaler::inverse_transform", Z);
    return (((Z.template cast<double>().array().rowwise() * divisor_.transpose().array())
                 .rowwise() +
             shift_.transpose().array())
                .rowwise() *
            unfactor_.transpose().array())
        .matrix()
        .template cast<Scalar>();
  }

  /// Per-feature mean of the training data (d entries), whether or not with_mean is set.
  const Vector& mean() const {
    detail::check_fitted("StandardScaler::mean", fitted_);
    return mean_;
  }
  /// Per-feature divisor: the population standard deviation, 1 for a (near-)constant
  /// feature, all ones when with_std is false.
  const Vector& scale() const {
    detail::check_fitted("StandardScaler::scale", fitted_);
    return scale_;
  }
  /// Per-feature population variance of the training data (divisor n), rounded to Scalar: inf
  /// where the true variance exceeds the type's largest value (scale() is still finite then).
  const Vector& var() const {
    detail::check_fitted("StandardScaler::var", fitted_);
    return var_;
  }
  /// Number of samples fit() saw.
  Eigen::Index n_samples_seen() const {
    detail::check_fitted("StandardScaler::n_samples_seen", fitted_);
    return n_samples_;
  }
  /// True once fit() has succeeded.
  bool is_fitted() const { return fitted_; }
  /// Number of features (columns) fit() saw; throws not_fitted_error before fit.
  Eigen::Index n_features() const {
    detail::check_fitted("StandardScaler::n_features", fitted_);
    return mean_.size();
  }
  /// The options given at construction.
  const Options& options() const { return options_; }

 private:
  friend struct detail::ModelAccess;  // model files (io.hpp) read and restore the fitted state
  friend struct detail::FitAccess;    // the distributed fit of emcluster/mpi.hpp

  /// The fit on the rows of every process of the reducer (LocalReducer: this one): the same
  /// two passes, with the column sums of each pass summed over the processes (no weights).
  template <typename Derived, typename Reducer>
  StandardScaler& fit_impl(const Eigen::MatrixBase<Derived>& X, const double*, int,
                           const Reducer& reducer) {
    detail::check_shard_data("StandardScaler::fit", "X", X, reducer);
    if constexpr (bool(Derived::Flags & Eigen::DirectAccessBit)) {
      fit_plain(X.derived(), reducer);
    } else {
      // A lazy expression (a product, say) is evaluated once instead of once per block.
      const typename Derived::PlainObject evaluated = X;
      fit_plain(evaluated, reducer);
    }
    return *this;
  }

  template <typename Derived>
  void check_new_data(const char* where, const Eigen::MatrixBase<Derived>& X) const {
    detail::check_fitted(where, fitted_);
    detail::check_columns(where, X, mean_.size());
    detail::check_data(where, "X", X);
  }

  // v rounded to Scalar, +-inf beyond its range.
  static Scalar to_scalar(double v) {
    const double top = static_cast<double>(std::numeric_limits<Scalar>::max());
    const Scalar inf = std::numeric_limits<Scalar>::infinity();
    if (std::abs(v) > top) return v > 0 ? inf : -inf;
    return static_cast<Scalar>(v);
  }

  template <typename Plain, typename Reducer>
  void fit_plain(const Plain& X, const Reducer& reducer) {
    const Eigen::Index n = reducer.total_rows();
    const Eigen::Index d = X.cols();
    const auto ud = static_cast<std::size_t>(d);
    const double dn = static_cast<double>(n);
    // Pass 0: each column's exponent e (its largest |x| is 2^e up to a factor in [1, 2)),
    // taken out by the exact factor 2^-e so that nothing below overflows or underflows
    // (clamped so that 2^-e and 2^e are both normal numbers).
    Eigen::VectorXd max_abs = detail::column_max_abs(X);
    reducer.max(max_abs.data(), ud);
    Eigen::VectorXi exponent(d);
    Eigen::VectorXd factor(d);
    for (Eigen::Index j = 0; j < d; ++j) {
      const int e = max_abs(j) > 0 ? std::ilogb(max_abs(j)) : 0;
      exponent(j) = std::clamp(e, std::numeric_limits<double>::min_exponent - 1,
                               std::numeric_limits<double>::max_exponent - 2);
      factor(j) = std::ldexp(1.0, -exponent(j));
    }
    // On y = x 2^-e, pass 1: the mean. Pass 2: the deviations' squares and their sum (zero but
    // for rounding), combined by the corrected two-pass formula
    // var = (sum (y-m)^2 - (sum (y-m))^2 / n) / n. Power-of-two scaling commutes with every
    // rounding (barring subnormals), so ordinary data give the same bits as without it.
    // With several processes each pass's column sums are summed over them: the same two-pass
    // formula on all rows, numerically as stable as the single-process one.
    Eigen::VectorXd mean_y = detail::column_sums(X, Eigen::VectorXd::Zero(d), factor, false).sum;
    reducer.sum(mean_y.data(), ud);
    mean_y /= dn;
    detail::ColumnSums dev = detail::column_sums(X, mean_y, factor, true);
    reducer.sum(dev.sum.data(), ud);
    reducer.sum(dev.sum_sq.data(), ud);
    Eigen::VectorXd var_y(d), sd_y(d);
    const double eps = std::numeric_limits<double>::epsilon();
    for (Eigen::Index j = 0; j < d; ++j) {
      var_y(j) = std::max(0.0, (dev.sum_sq(j) - dev.sum(j) * dev.sum(j) / dn) / dn);
      // scikit-learn's _is_constant_feature (the variance is within the two-pass error bound),
      // on the scaled values: a column is constant when its scaled spread is, whatever its
      // magnitude. A constant column gets the standard deviation 2^-e, 1 in the user's units.
      const double bound = dn * eps * var_y(j) + (dn * mean_y(j) * eps) * (dn * mean_y(j) * eps);
      sd_y(j) = var_y(j) <= bound ? factor(j) : std::sqrt(var_y(j));
    }
    commit(exponent, mean_y, var_y, sd_y, n);
  }

  /// Sets the fitted state from each column's exponent e and its mean, variance and standard
  /// deviation in the scaled units (the data times 2^-e): everything else follows from them,
  /// each rounded once. fit() computes them; a model file (io.hpp) restores them.
  void commit(const Eigen::VectorXi& exponent, const Eigen::VectorXd& mean_y,
              const Eigen::VectorXd& var_y, const Eigen::VectorXd& sd_y, Eigen::Index n) {
    const Eigen::Index d = exponent.size();
    Eigen::VectorXd factor(d), unfactor(d), mean(d), var(d), sd(d);
    for (Eigen::Index j = 0; j < d; ++j) {
      factor(j) = std::ldexp(1.0, -exponent(j));
      unfactor(j) = std::ldexp(1.0, exponent(j));
      // Back to the user's units: the mean cannot overflow (|mean| <= max |x|); the variance
      // overflows to inf (underflows towards 0) exactly when the true one is beyond double's
      // range, while the standard deviation is taken from the scaled one (2^-e 2^e = 1 for a
      // constant column).
      mean(j) = std::ldexp(mean_y(j), exponent(j));
      var(j) = std::ldexp(var_y(j), 2 * exponent(j));
      sd(j) = std::ldexp(sd_y(j), exponent(j));
    }
    // Rounded to Scalar, inf beyond its range (var of float data; any of double data given to
    // a StandardScaler<float>) rather than a cast's undefined behaviour.
    Vector mean_s = mean.unaryExpr(&to_scalar);
    Vector var_s = var.unaryExpr(&to_scalar);
    Vector scale_s = options_.with_std ? Vector(sd.unaryExpr(&to_scalar)) : Vector(Vector::Ones(d));
    // Commit only now: a fit that threw above left the previous state untouched.
    shift_ = options_.with_mean ? mean_y : Eigen::VectorXd::Zero(d);
    divisor_ = options_.with_std ? sd_y : factor;
    factor_ = std::move(factor);
    unfactor_ = std::move(unfactor);
    scaled_mean_ = mean_y;
    scaled_var_ = var_y;
    scaled_std_ = sd_y;
    mean_ = std::move(mean_s);
    var_ = std::move(var_s);
    scale_ = std::move(scale_s);
    n_samples_ = n;
    fitted_ = true;
  }

  Options options_;
  Vector mean_, scale_, var_;  // what the accessors return
  // What transform uses, in double and per column: factor_ = 2^-e and unfactor_ = 2^e take the
  // column's exponent out and put it back; shift_ and divisor_ are the mean and the standard
  // deviation (or 1) in those scaled units, so z = (x factor_ - shift_) / divisor_.
  Eigen::VectorXd factor_, unfactor_, shift_, divisor_;
  // The statistics in those scaled units, whatever the options (what a model file saves).
  Eigen::VectorXd scaled_mean_, scaled_var_, scaled_std_;
  Eigen::Index n_samples_ = 0;
  bool fitted_ = false;
};

}  // namespace emcluster
