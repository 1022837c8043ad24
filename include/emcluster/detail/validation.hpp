/// @file detail/validation.hpp
/// @brief Input checks shared by the estimators; each throws std::invalid_argument with a
/// message that names the caller, the argument and the offending position.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../exceptions.hpp"
#include "parallel.hpp"

namespace emcluster::detail {

/// Whether every entry of X is finite: x * 0 is 0 for finite x and NaN for NaN and +-Inf, so
/// one vectorised sum per chunk of rows tells (chunks in parallel on large data).
template <typename Derived>
bool all_finite(const Eigen::MatrixBase<Derived>& X) {
  using Scalar = typename Derived::Scalar;
  const auto chunks = make_chunks(X.rows(), 0);
  std::vector<char> ok(chunks.size(), 1);
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    ok[c] = std::isfinite(
        static_cast<double>((X.middleRows(chunk.begin, chunk.size()).array() * Scalar(0)).sum()));
  });
  for (char v : ok) {
    if (!v) return false;
  }
  return true;
}

/// Builds a message from streamable parts.
template <typename... Parts>
std::string message(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

/// Throws std::invalid_argument(where + ": " + ...).
template <typename... Parts>
[[noreturn]] void fail(const char* where, const Parts&... parts) {
  throw std::invalid_argument(message(where, ": ", parts...));
}

/// Checks that X has at least one row and one column and only finite values; reports the
/// first non-finite entry by row and column.
template <typename Derived>
void check_data(const char* where, const char* name, const Eigen::MatrixBase<Derived>& X) {
  if (X.rows() == 0 || X.cols() == 0) {
    fail(where, name, " is empty (", X.rows(), " x ", X.cols(),
         "); it needs at least one sample (row) and one feature (column)");
  }
  if (all_finite(X)) return;
  // Slow path, only on failure: locate the first bad entry in row order.
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      const auto v = X.coeff(i, j);
      if (!std::isfinite(static_cast<double>(v))) {
        fail(where, name, " has a non-finite value (",
             (std::isnan(static_cast<double>(v)) ? "NaN" : "Inf"), ") at row ", i, ", column ", j);
      }
    }
  }
}

/// Checks a per-sample weight vector: n entries, finite, non-negative, positive sum.
template <typename Derived>
void check_sample_weight(const char* where, const Eigen::MatrixBase<Derived>& w, Eigen::Index n) {
  if (w.size() != n) {
    fail(where, "sample_weight has ", w.size(), " entries but X has ", n, " rows");
  }
  double total = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double v = static_cast<double>(w.coeff(i));
    if (!std::isfinite(v)) fail(where, "sample_weight[", i, "] is not finite");
    if (v < 0) fail(where, "sample_weight[", i, "] = ", v, " is negative");
    total += v;
  }
  if (!(total > 0)) fail(where, "sample_weight sums to zero; at least one weight must be positive");
}

/// Checks that X has the number of columns the fitted model expects.
template <typename Derived>
void check_columns(const char* where, const Eigen::MatrixBase<Derived>& X, Eigen::Index expected) {
  if (X.cols() != expected) {
    fail(where, "X has ", X.cols(), " columns (features) but the model was fitted on ", expected);
  }
}

/// Checks the options KMeans and MiniBatchKMeans share: k >= 1, at least k samples, and
/// explicit initial centres of shape k x d with finite values.
template <typename Centers>
void check_centers_options(const char* where, Eigen::Index k, bool explicit_init,
                           const Centers& initial_centers, Eigen::Index n, Eigen::Index d) {
  if (k < 1) fail(where, "n_clusters = ", k, " must be at least 1");
  if (n < k) fail(where, "X has ", n, " samples, fewer than n_clusters = ", k);
  if (!explicit_init) return;
  if (initial_centers.rows() != k || initial_centers.cols() != d) {
    fail(where, "initial_centers is ", initial_centers.rows(), " x ", initial_centers.cols(),
         " but must be n_clusters x n_features = ", k, " x ", d);
  }
  check_data(where, "initial_centers", initial_centers);
}

/// Throws not_fitted_error unless fitted.
inline void check_fitted(const char* where, bool fitted) {
  if (!fitted) {
    throw not_fitted_error(message(where, ": the model is not fitted yet; call fit() first"));
  }
}

/// Throws not_fitted_error("cls::method: ...") unless fitted; the message is built only
/// then, so that accessors can check on every call.
inline void check_fitted(const char* cls, const char* method, bool fitted) {
  if (!fitted) {
    throw not_fitted_error(
        message(cls, "::", method, ": the model is not fitted yet; call fit() first"));
  }
}

/// The checks every predict-like method makes: fitted, finite non-empty data, the fitted
/// number of columns.
template <typename Derived>
void check_new_data(const char* where, bool fitted, const Eigen::MatrixBase<Derived>& X,
                    Eigen::Index columns) {
  check_fitted(where, fitted);
  check_data(where, "X", X);
  check_columns(where, X, columns);
}

}  // namespace emcluster::detail
