/// @file detail/validation.hpp
/// @brief Input checks shared by the estimators; each throws std::invalid_argument with a
/// message that names the caller, the argument and the offending position.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
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

/// Bounds of the largest |x| of a finite matrix: lo <= max |x| <= hi.
struct Magnitude {
  double lo = 0;  ///< a lower bound (0 for all-zero data)
  double hi = 0;  ///< an upper bound (+Inf when only the exact pass can tell)
};

/// Largest |x| of finite X, chunked in parallel (one extra pass; see scale_exponent).
template <typename Derived>
double max_abs(const Eigen::MatrixBase<Derived>& X) {
  const auto chunks = make_chunks(X.rows(), 0);
  std::vector<double> top(chunks.size(), 0.0);
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    if (chunk.size() > 0)
      top[c] = static_cast<double>(X.middleRows(chunk.begin, chunk.size()).cwiseAbs().maxCoeff());
  });
  double m = 0.0;
  for (double v : top) m = std::max(m, v);
  return m;
}

/// Checks that X has at least one row and one column and only finite values; reports the
/// first non-finite entry by row and column. The finiteness test is the sum of |x| per
/// chunk (NaN or Inf when an entry is), so it also bounds the largest |x| at no extra cost:
/// max <= sum <= n d max, with a factor 2 for the rounding of the sum.
template <typename Derived>
Magnitude check_data(const char* where, const char* name, const Eigen::MatrixBase<Derived>& X) {
  if (X.rows() == 0 || X.cols() == 0) {
    fail(where, name, " is empty (", X.rows(), " x ", X.cols(),
         "); it needs at least one sample (row) and one feature (column)");
  }
  const auto chunks = make_chunks(X.rows(), 0);
  std::vector<double> sums(chunks.size(), 0.0);
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    sums[c] = static_cast<double>(X.middleRows(chunk.begin, chunk.size()).cwiseAbs().sum());
  });
  bool finite = true;
  double total = 0.0;
  for (double v : sums) {
    finite = finite && std::isfinite(v);
    total += v;
  }
  const double entries = static_cast<double>(X.rows()) * static_cast<double>(X.cols());
  if (finite && std::isfinite(total)) return Magnitude{total / (2 * entries), 2 * total};
  // Slow path: locate the first bad entry in row order; a sum that overflowed on finite data
  // leaves the bounds open.
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      const auto v = X.coeff(i, j);
      if (!std::isfinite(static_cast<double>(v))) {
        fail(where, name, " has a non-finite value (",
             (std::isnan(static_cast<double>(v)) ? "NaN" : "Inf"), ") at row ", i, ", column ", j);
      }
    }
  }
  return Magnitude{0.0, std::numeric_limits<double>::infinity()};
}

/// The power-of-two exponent to take out of finite data X (with the bounds m of check_data)
/// before a K-means fit: 0 (compute on the data as given) when the largest |x| is 0 or
/// within [2^lo, 2^hi), where squared distances in Scalar and distances in float (Hamerly's
/// bounds) neither overflow nor lose the data's spread to underflow: float [2^-31, 2^48),
/// double [2^-100, 2^100). Otherwise e with max |x| = f 2^e, f in [0.5, 1): the fit runs on
/// X 2^-e, exact for every entry that stays normal. The exact largest |x| costs one more
/// pass, made only when the bounds m do not settle the question (extreme data, or mean |x|
/// far below the largest). Throws std::invalid_argument when the largest |x| is subnormal.
template <typename Scalar, typename Derived>
int scale_exponent(const char* where, const Eigen::MatrixBase<Derived>& X, const Magnitude& m) {
  constexpr bool is_float = sizeof(Scalar) == sizeof(float);
  constexpr int lo = is_float ? -31 : -100, hi = is_float ? 48 : 100;
  if (m.hi == 0) return 0;
  if (m.lo >= std::ldexp(1.0, lo) && m.hi < std::ldexp(1.0, hi)) return 0;
  const double top = max_abs(X);
  if (top == 0) return 0;
  if (top < static_cast<double>(std::numeric_limits<Scalar>::min())) {
    fail(where, "every value of X is subnormal (largest |x| = ", top,
         "); scale the data to normal numbers first");
  }
  int e = 0;
  std::frexp(top, &e);
  return (e > lo && e <= hi) ? 0 : e;
}

/// Checks a per-sample weight vector: n entries, finite, non-negative, at least one
/// positive. The sum itself may overflow (two weights of 1.7e308): the estimators divide the
/// weights by a power of two first (normalize_weights), or must reject such weights.
template <typename Derived>
void check_sample_weight(const char* where, const Eigen::MatrixBase<Derived>& w, Eigen::Index n) {
  if (w.size() != n) {
    fail(where, "sample_weight has ", w.size(), " entries but X has ", n, " rows");
  }
  double top = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double v = static_cast<double>(w.coeff(i));
    if (!std::isfinite(v)) fail(where, "sample_weight[", i, "] is not finite");
    if (v < 0) fail(where, "sample_weight[", i, "] = ", v, " is negative");
    top = std::max(top, v);
  }
  if (!(top > 0)) fail(where, "sample_weight sums to zero; at least one weight must be positive");
}

/// Divides checked weights (check_sample_weight) by 2^e, e the exponent of the largest
/// weight, when that weight lies outside [2^-64, 2^64] or the sum overflows; returns e (0:
/// untouched, so ordinary weights keep their exact values). Weighted means do not change
/// (the division is exact for every weight that stays normal); weighted sums such as the
/// inertia must be multiplied back by 2^e.
inline int normalize_weights(Eigen::VectorXd& w) {
  if (w.size() == 0) return 0;
  const double top = w.maxCoeff();
  int e = 0;
  std::frexp(top, &e);
  if (e >= -64 && e <= 64 && std::isfinite(w.sum())) return 0;
  for (Eigen::Index i = 0; i < w.size(); ++i) w(i) = std::ldexp(w(i), -e);
  return e;
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
