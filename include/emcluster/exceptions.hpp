/// @file exceptions.hpp
/// @brief The exception types emcluster throws beyond the standard ones.
///
/// Conventions used by every estimator:
/// - `std::invalid_argument`: bad input data or options (NaN/Inf, wrong sizes, k < 1, ...).
///   The message names the function, the argument and, for data, the row and column.
/// - `emcluster::not_fitted_error` (a `std::logic_error`): a method that needs a fitted model
///   was called before `fit`.
/// - `emcluster::numerical_error` (a `std::runtime_error`): the numbers themselves failed, for
///   example a covariance that is not positive definite even after regularisation.
///
/// A `fit` that throws leaves a previously fitted model exactly as it was.
#pragma once

#include <stdexcept>
#include <string>

namespace emcluster {

/// Thrown when a method that needs a fitted model is called before `fit`.
class not_fitted_error : public std::logic_error {
 public:
  explicit not_fitted_error(const std::string& what) : std::logic_error(what) {}
};

/// Thrown when a computation fails numerically (for example a covariance that is not
/// positive definite); the message says which part failed and what to change.
class numerical_error : public std::runtime_error {
 public:
  explicit numerical_error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace emcluster
