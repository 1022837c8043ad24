/// @file detail/mixture_scale.hpp
/// @brief Power-of-two rescaling of a Gaussian mixture's data and parameters: the exponent e
/// that brings data of extreme magnitude into a safe range (data_exponent), exact scaling of
/// matrices and parameters by powers of two (ldexp_matrix, rescale_params), and the check
/// that a parameter is representable in the caller's scalar type (to_scalar_checked).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "../exceptions.hpp"
#include "mixture_params.hpp"
#include "reducer.hpp"
#include "validation.hpp"

namespace emcluster::detail {

/// Binary exponent of the data's range above which (or below minus which) a mixture is
/// fitted on the data times 2^-e: within it every E/M statistic (squared ranges, their sums
/// over the rows, squared spreads) stays far inside the scalar type's range, including the
/// K-means start, which works in the data's own type.
template <typename Scalar>
constexpr int safe_range_exponent() {
  return std::is_same<Scalar, float>::value ? 32 : 256;
}

/// Per-column minima and maxima (d each, in double) of the rows of every process (reducer);
/// +Inf and -Inf where no process holds rows.
template <typename Derived, typename Reducer>
std::pair<Eigen::VectorXd, Eigen::VectorXd> column_ranges(const Eigen::MatrixBase<Derived>& X,
                                                          const Reducer& reducer) {
  const Eigen::Index d = X.cols();
  Eigen::VectorXd lo = Eigen::VectorXd::Constant(d, std::numeric_limits<double>::infinity());
  Eigen::VectorXd hi = -lo;
  if (X.rows() > 0) {
    for (Eigen::Index f = 0; f < d; ++f) {
      lo(f) = static_cast<double>(X.col(f).minCoeff());
      hi(f) = static_cast<double>(X.col(f).maxCoeff());
    }
  }
  reducer.min(lo.data(), std::size_t(d));
  reducer.max(hi.data(), std::size_t(d));
  return {std::move(lo), std::move(hi)};
}

/// data_exponent (below) of the rows of every process (reducer).
template <typename Derived, typename Reducer>
int data_exponent(const Eigen::MatrixBase<Derived>& X, const Reducer& reducer) {
  using Scalar = typename Derived::Scalar;
  const auto ranges = column_ranges(X, reducer);
  double half_range = 0, magnitude = 0;
  for (Eigen::Index f = 0; f < X.cols(); ++f) {
    const double lo = ranges.first(f);
    const double hi = ranges.second(f);
    half_range = std::max(half_range, 0.5 * hi - 0.5 * lo);  // no overflow
    magnitude = std::max(magnitude, std::max(std::abs(lo), std::abs(hi)));
  }
  if (!(half_range > 0)) return 0;
  const int range_exponent = std::ilogb(half_range) + 1;
  const int safe = safe_range_exponent<Scalar>();
  if (range_exponent >= -safe && range_exponent <= safe) return 0;
  constexpr int max_exp = std::numeric_limits<Scalar>::max_exponent;
  constexpr int min_exp = std::numeric_limits<Scalar>::min_exponent;
  int e = std::clamp(range_exponent, 2 - max_exp, 1 - min_exp);  // 2^-e normal in Scalar
  e = std::max(e, std::ilogb(magnitude) - (max_exp - 3));        // largest |x| 2^-e finite
  return e;
}

/// The exponent e such that X * 2^-e has a range (largest max - min over the columns) in
/// [1, 2), or 0 when X's range is already within 2^+-safe_range_exponent (ordinary data:
/// nothing is rescaled) or X is constant. 2^-e is a normal number of X's type and the largest
/// |x| * 2^-e stays finite. One pass over X (the column minima and maxima).
template <typename Derived>
int data_exponent(const Eigen::MatrixBase<Derived>& X) {
  return data_exponent(X, LocalReducer(X.rows()));
}

/// 2^p in Scalar (p within the range of data_exponent's results).
template <typename Scalar>
Scalar pow2(int p) {
  return static_cast<Scalar>(std::ldexp(1.0, p));
}

/// M times 2^p, entry by entry (exact unless an entry overflows or leaves the normal range).
inline Eigen::MatrixXd ldexp_matrix(const Eigen::MatrixXd& M, int p) {
  return M.unaryExpr([p](double v) { return std::ldexp(v, p); });
}

/// Parameters of data X expressed for the data X * 2^p: means times 2^p, covariances times
/// 2^2p, precision Cholesky factors times 2^-p (weights unchanged).
inline MixtureParams rescale_params(MixtureParams params, int p) {
  if (p == 0) return params;
  params.means = ldexp_matrix(params.means, p);
  for (auto& c : params.covariances) c = ldexp_matrix(c, 2 * p);
  for (auto& c : params.precisions_cholesky) c = ldexp_matrix(c, -p);
  return params;
}

/// M (in double) as Scalar; throws numerical_error naming `where` and `what` when an entry is
/// beyond Scalar's range (it would become infinite).
template <typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> to_scalar_checked(const Eigen::MatrixXd& M,
                                                                        const char* where,
                                                                        const char* what) {
  const double largest = static_cast<double>(std::numeric_limits<Scalar>::max());
  if (!M.allFinite() || M.cwiseAbs().maxCoeff() > largest) {
    throw numerical_error(message(
        where, ": ", what, " has an entry (", M.cwiseAbs().maxCoeff(), ") beyond the range of ",
        std::is_same<Scalar, float>::value ? "float" : "double", " (largest ", largest,
        "), so it cannot be returned; fit GaussianMixture<double>, or standardise the features "
        "(StandardScaler) so that the parameters are of moderate size"));
  }
  return M.template cast<Scalar>();
}

}  // namespace emcluster::detail
