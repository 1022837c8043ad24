/// @file detail/mixture_estep.hpp
/// @brief The E-step of a Gaussian mixture, one block of rows at a time: per-component
/// weighted log-densities from the precision Cholesky factors (MixtureDensity::log_prob, with
/// the Mahalanobis kernel mahalanobis_squared), then log-sum-exp responsibilities and the
/// per-row log-likelihood (log_prob_to_responsibilities); and the passes over new data
/// (for_each_log_prob_block, total_log_likelihood). Memory: O(block x k), never n x k.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "../exceptions.hpp"
#include "../options.hpp"
#include "mixture_params.hpp"
#include "parallel.hpp"
#include "validation.hpp"

namespace emcluster::detail {

/// log(2 pi).
inline constexpr double kLogTwoPi = 1.83787706640934548356;

/// Below this, exp() underflows to zero in double.
inline constexpr double kExpUnderflow = -745.2;

/// Scratch space of one thread for the E-step and the statistics of a block (all in double).
struct EmWorkspace {
  Eigen::MatrixXd diff;                       ///< block minus a mean (or the tied reference)
  Eigen::MatrixXd y;                          ///< (x - mu) P
  Eigen::ArrayXd top, sum, scale, lse, expo;  ///< per-row values
};

/// Feature count up to which the Mahalanobis terms are computed in registers and second
/// moments accumulated as vectorised dot products over the block's rows; above it, one
/// small GEMM per component.
inline constexpr Eigen::Index kDotMomentsMaxFeatures = 12;

/// y = diff * P for an upper triangular d x d factor P, column by column (every column an
/// axpy over the block's rows, so small d costs no GEMM set-up).
inline void upper_triangular_product(const Eigen::MatrixXd& diff, const Eigen::MatrixXd& P,
                                     Eigen::MatrixXd& y) {
  const Eigen::Index d = P.cols();
  y.resize(diff.rows(), d);
  if (d > kDotMomentsMaxFeatures) {
    y.noalias() = diff * P.triangularView<Eigen::Upper>();
    return;
  }
  for (Eigen::Index f = 0; f < d; ++f) {
    y.col(f) = diff.col(0) * P(0, f);
    for (Eigen::Index g = 1; g <= f; ++g) y.col(f) += diff.col(g) * P(g, f);
  }
}

// Packet code follows. GCC warns that a packet type's alignment attribute is dropped when it
// is a template argument; Eigen's own packet code silences that warning the same way.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
/// scale(r) = ||(x_r - mu)^T P||^2 for every row r of the block xd (rows x d, column-major),
/// P upper triangular d x d. For d <= kDotMomentsMaxFeatures one SIMD packet of rows at a
/// time: the centred values and the d products stay in registers, nothing of size rows x d
/// is written. Above that, the block product (upper_triangular_product).
inline void mahalanobis_squared(const Eigen::MatrixXd& xd, const Eigen::RowVectorXd& mu,
                                const Eigen::MatrixXd& P, EmWorkspace& ws) {
  namespace ei = Eigen::internal;
  using Packet = ei::packet_traits<double>::type;
  constexpr Eigen::Index N = ei::unpacket_traits<Packet>::size;
  const Eigen::Index rows = xd.rows(), d = xd.cols();
  ws.scale.resize(rows);
  if (d > kDotMomentsMaxFeatures) {
    ws.diff = xd.rowwise() - mu;
    upper_triangular_product(ws.diff, P, ws.y);
    ws.scale = ws.y.rowwise().squaredNorm().array();
    return;
  }
  const double* x = xd.data();
  double* out = ws.scale.data();
  Eigen::Index r = 0;
  if constexpr (N > 1) {
    Packet centred[kDotMomentsMaxFeatures];
    for (; r + N <= rows; r += N) {
      for (Eigen::Index g = 0; g < d; ++g) {
        centred[g] = ei::psub(ei::ploadu<Packet>(x + g * rows + r), ei::pset1<Packet>(mu(g)));
      }
      Packet sum = ei::pzero(centred[0]);
      for (Eigen::Index f = 0; f < d; ++f) {
        Packet y = ei::pmul(centred[0], ei::pset1<Packet>(P(0, f)));
        for (Eigen::Index g = 1; g <= f; ++g) {
          y = ei::pmadd(centred[g], ei::pset1<Packet>(P(g, f)), y);
        }
        sum = ei::pmadd(y, y, sum);
      }
      ei::pstoreu(out + r, sum);
    }
  }
  for (; r < rows; ++r) {
    double sum = 0;
    for (Eigen::Index f = 0; f < d; ++f) {
      double y = 0;
      for (Eigen::Index g = 0; g <= f; ++g) y += (x[g * rows + r] - mu(g)) * P(g, f);
      sum += y * y;
    }
    out[r] = sum;
  }
}

/// out(r) = constant + factor * sum_f ((x_rf - mu_f) p_f)^2 over the rows r of the block xd
/// (p = nullptr: every p_f = 1), the log-density of the diagonal and spherical models. The
/// plain reference of diagonal_quadratic: one vectorised column operation per feature, each a
/// read and a write of the whole output column.
inline void diagonal_quadratic_reference(const Eigen::MatrixXd& xd, const Eigen::RowVectorXd& mu,
                                         const double* p, double constant, double factor,
                                         double* out) {
  const Eigen::Index rows = xd.rows(), d = xd.cols();
  Eigen::Map<Eigen::ArrayXd> col(out, rows);
  col.setZero();
  for (Eigen::Index f = 0; f < d; ++f) {
    col += ((xd.col(f).array() - mu(f)) * (p ? p[f] : 1.0)).square();
  }
  col = constant + factor * col;
}

/// diagonal_quadratic_reference, written for the memory traffic of one read of the block and
/// one write of the output: a SIMD packet of rows at a time, the sum over the features in a
/// register (the reference reads and writes the output column once per feature). The same
/// operations in the same order per row: equal to the reference up to the rounding of a
/// multiply and add the compiler may contract in one and not the other.
inline void diagonal_quadratic(const Eigen::MatrixXd& xd, const Eigen::RowVectorXd& mu,
                               const double* p, double constant, double factor, double* out) {
  namespace ei = Eigen::internal;
  using Packet = ei::packet_traits<double>::type;
  constexpr Eigen::Index N = ei::unpacket_traits<Packet>::size;
  const Eigen::Index rows = xd.rows(), d = xd.cols();
  const double* x = xd.data();
  Eigen::Index r = 0;
  if constexpr (N > 1) {
    const Packet pc = ei::pset1<Packet>(constant), pf = ei::pset1<Packet>(factor);
    for (; r + N <= rows; r += N) {
      Packet sum = ei::pset1<Packet>(0.0);
      for (Eigen::Index f = 0; f < d; ++f) {
        Packet y = ei::psub(ei::ploadu<Packet>(x + f * rows + r), ei::pset1<Packet>(mu(f)));
        if (p) y = ei::pmul(y, ei::pset1<Packet>(p[f]));
        sum = ei::padd(sum, ei::pmul(y, y));
      }
      ei::pstoreu(out + r, ei::padd(pc, ei::pmul(pf, sum)));
    }
  }
  for (; r < rows; ++r) {
    double sum = 0;
    for (Eigen::Index f = 0; f < d; ++f) {
      double y = x[f * rows + r] - mu(f);
      if (p) y *= p[f];
      sum += y * y;
    }
    out[r] = constant + factor * sum;
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Everything the E-step needs from a mixture, in double: the parameters, the box of the
/// noise component, and the per-component constants. Copyable (holds its own parameters).
struct MixtureDensity {
  MixtureParams params;
  NoiseBox box;
  /// log w_j - d/2 log 2pi + log det P_j (no determinant: sum log diag P)
  Eigen::VectorXd log_constant;
  Eigen::RowVectorXd reference;  ///< c, the mean of the component means (the tied centring point)
  Eigen::MatrixXd tied_means;    ///< tied: (mu_j - c) P
  double noise_constant = 0;     ///< log w_noise - log volume

  MixtureDensity() = default;
  MixtureDensity(MixtureParams p, const NoiseBox& b) : params(std::move(p)), box(b) {
    const CovarianceType type = params.type;
    const Eigen::Index k = params.k(), d = params.d();
    log_constant.resize(k);
    for (Eigen::Index j = 0; j < k; ++j) {
      const Eigen::MatrixXd& P = factor(j);
      double log_det = 0;
      switch (type) {
        case CovarianceType::full:
        case CovarianceType::tied:
          log_det = P.diagonal().array().log().sum();
          break;
        case CovarianceType::diagonal:
          log_det = P.array().log().sum();
          break;
        case CovarianceType::spherical:
          log_det = static_cast<double>(d) * std::log(P(0, 0));
          break;
      }
      log_constant(j) =
          std::log(params.weights(j)) - 0.5 * static_cast<double>(d) * kLogTwoPi + log_det;
    }
    reference = params.means.colwise().mean();
    if (type == CovarianceType::tied) {
      // Centre on c before the product: (x - c) P - (mu_j - c) P loses only what the spread
      // of the means costs, not the data's offset from the origin.
      tied_means = (params.means.rowwise() - reference) * factor(0).triangularView<Eigen::Upper>();
    }
    if (box.enabled) noise_constant = std::log(params.noise_weight) + box.log_density;
  }

  Eigen::Index k() const { return params.k(); }
  /// Columns of a block's log-density matrix: k, plus one for noise.
  Eigen::Index columns() const { return params.k() + (box.enabled ? 1 : 0); }
  /// Precision Cholesky factor of component j (the shared one for `tied`).
  const Eigen::MatrixXd& factor(Eigen::Index j) const {
    return params.block(params.precisions_cholesky, j);
  }

  /// Weighted log-densities of a block (rows x d, in double): L(i, j) = log w_j + log N(x_i |
  /// mu_j, Sigma_j), and the noise column log w_0 - log volume (minus infinity outside the
  /// box) last. With P the precision Cholesky factor,
  ///     log N(x) = -d/2 log 2pi + sum log diag(P) - 1/2 ||(x - mu)^T P||^2.
  /// The data are centred on the mean before the product, so the result does not lose digits
  /// to the data's distance from the origin. Every operation is a vectorised column
  /// operation over the block's rows.
  void log_prob(const Eigen::MatrixXd& xd, Eigen::MatrixXd& L, EmWorkspace& ws) const {
    const Eigen::Index rows = xd.rows(), d = xd.cols(), k = params.k();
    L.resize(rows, columns());
    switch (params.type) {
      case CovarianceType::full:
        for (Eigen::Index j = 0; j < k; ++j) {
          mahalanobis_squared(xd, params.means.row(j), factor(j), ws);
          L.col(j) = (log_constant(j) - 0.5 * ws.scale).matrix();
        }
        break;
      case CovarianceType::tied:
        ws.diff = xd.rowwise() - reference;
        upper_triangular_product(ws.diff, factor(0), ws.y);
        for (Eigen::Index j = 0; j < k; ++j) {
          L.col(j) = log_constant(j) -
                     0.5 * (ws.y.rowwise() - tied_means.row(j)).rowwise().squaredNorm().array();
        }
        break;
      case CovarianceType::diagonal:
        for (Eigen::Index j = 0; j < k; ++j) {
          diagonal_quadratic(xd, params.means.row(j), factor(j).data(), log_constant(j), -0.5,
                             L.col(j).data());
        }
        break;
      case CovarianceType::spherical:
        for (Eigen::Index j = 0; j < k; ++j) {
          const double s2 = factor(j)(0, 0);
          diagonal_quadratic(xd, params.means.row(j), nullptr, log_constant(j), -0.5 * s2 * s2,
                             L.col(j).data());
        }
        break;
    }
    if (box.enabled) {
      for (Eigen::Index r = 0; r < rows; ++r) {
        bool inside = true;
        for (Eigen::Index f = 0; f < d && inside; ++f) {
          inside = xd(r, f) >= box.low(f) && xd(r, f) <= box.high(f);
        }
        L(r, k) = inside ? noise_constant : -std::numeric_limits<double>::infinity();
      }
    }
  }

  /// The Gaussian component with the smallest squared Mahalanobis distance ||(x - mu_j)^T
  /// P_j||^2 to x (the first on ties), computed with x, the means and the factors scaled by
  /// powers of two so that nothing overflows: the most probable component of a row whose
  /// log-density is below the double range under every component (log_prob gives minus
  /// infinity there). The log constants are negligible next to such distances.
  Eigen::Index nearest_component_scaled(const Eigen::RowVectorXd& x) const {
    const Eigen::Index k = params.k(), d = params.d();
    const double size = std::max(x.cwiseAbs().maxCoeff(), params.means.cwiseAbs().maxCoeff());
    const int t = size > 0 ? std::ilogb(size) : 0;
    double largest_factor = 0;
    for (const auto& P : params.precisions_cholesky) {
      largest_factor = std::max(largest_factor, P.cwiseAbs().maxCoeff());
    }
    const int v = largest_factor > 0 ? std::ilogb(largest_factor) : 0;
    Eigen::RowVectorXd diff(d), y(d);
    Eigen::Index best = 0;
    double best_distance = std::numeric_limits<double>::infinity();
    for (Eigen::Index j = 0; j < k; ++j) {
      for (Eigen::Index f = 0; f < d; ++f) {
        diff(f) = std::ldexp(x(f), -t) - std::ldexp(params.means(j, f), -t);  // |.| <= 4
      }
      const Eigen::MatrixXd& P = factor(j);
      for (Eigen::Index f = 0; f < d; ++f) {
        switch (params.type) {
          case CovarianceType::full:
          case CovarianceType::tied:
            y(f) = 0;
            for (Eigen::Index g = 0; g <= f; ++g) y(f) += diff(g) * std::ldexp(P(g, f), -v);
            break;
          case CovarianceType::diagonal:
            y(f) = diff(f) * std::ldexp(P(f, 0), -v);
            break;
          case CovarianceType::spherical:
            y(f) = diff(f) * std::ldexp(P(0, 0), -v);
            break;
        }
      }
      const double distance = y.squaredNorm();
      if (distance < best_distance) {
        best_distance = distance;
        best = j;
      }
    }
    return best;
  }

  /// Rows of a block's log-densities L (from log_prob on xd) that are minus infinity (or NaN,
  /// an overflowed product) under every column: replaced by 0 for their nearest_component_scaled
  /// and minus infinity elsewhere, so that they get that component with probability 1.
  /// Returns whether any row was replaced.
  bool resolve_far_rows(const Eigen::MatrixXd& xd, Eigen::MatrixXd& L) const {
    constexpr double minus_inf = -std::numeric_limits<double>::infinity();
    bool any = false;
    for (Eigen::Index r = 0; r < L.rows(); ++r) {
      bool far = true;
      for (Eigen::Index j = 0; j < L.cols(); ++j) {
        if (std::isnan(L(r, j))) L(r, j) = minus_inf;
        if (L(r, j) > minus_inf) far = false;
      }
      if (!far) continue;
      any = true;
      L.row(r).setConstant(minus_inf);
      L(r, nearest_component_scaled(xd.row(r))) = 0.0;
    }
    return any;
  }
};

/// Turns a block of weighted log-densities into responsibilities in place (rows sum to 1)
/// and leaves the per-row log-likelihood log sum_j exp(L(i, j)) in ws.lse (log-sum-exp around
/// the row maximum; exp underflows to exactly zero). Returns the first row whose density is
/// zero under every component (or not finite), -1 if none.
inline Eigen::Index log_prob_to_responsibilities(Eigen::MatrixXd& L, EmWorkspace& ws) {
  const Eigen::Index rows = L.rows(), cols = L.cols();
  ws.top = L.col(0).array();
  for (Eigen::Index j = 1; j < cols; ++j) ws.top = ws.top.max(L.col(j).array());
  if (!ws.top.isFinite().all()) {
    for (Eigen::Index r = 0; r < rows; ++r) {
      if (!std::isfinite(ws.top(r))) return r;
    }
  }
  ws.sum = Eigen::ArrayXd::Zero(rows);
  for (Eigen::Index j = 0; j < cols; ++j) {
    // Separate statements: a mixed expression makes Eigen fall back to scalar exp. Eigen's
    // vectorised exp returns a denormal far below kExpUnderflow; that probability is zero.
    auto col = L.col(j).array();
    col -= ws.top;
    ws.expo = col.max(kExpUnderflow).exp();
    col = (col < kExpUnderflow).select(0.0, ws.expo);
    ws.sum += col;
  }
  ws.lse = ws.top + ws.sum.log();
  ws.scale = ws.sum.inverse();
  for (Eigen::Index j = 0; j < cols; ++j) L.col(j).array() *= ws.scale;
  return -1;
}

/// Per-row log sum_j exp(lp(i, j)) of a block of weighted log-densities, around the row
/// maximum (minus infinity where every entry is).
inline Eigen::VectorXd row_log_sum_exp(const Eigen::MatrixXd& lp) {
  const Eigen::VectorXd m = lp.rowwise().maxCoeff();
  Eigen::VectorXd out(lp.rows());
  for (Eigen::Index i = 0; i < lp.rows(); ++i) {
    out(i) = std::isfinite(m(i)) ? m(i) + std::log((lp.row(i).array() - m(i)).exp().sum()) : m(i);
  }
  return out;
}

/// Throws numerical_error: sample `row` has zero density under every component.
[[noreturn]] inline void fail_zero_density(const char* where, Eigen::Index row) {
  throw numerical_error(message(
      where, ": sample ", row,
      " lies so far from every component (and outside the noise box, if any) that its "
      "log-density is below the range of double (under about -1.8e308) for all of them, so the "
      "log-likelihood cannot be computed; remove such outliers or add a noise component whose "
      "box covers them"));
}

/// Calls body(chunk, begin, lp, ws) for every block of rows [begin, begin + lp.rows()) of X
/// with the block's weighted log-densities lp under `density` (the body may overwrite them)
/// and the chunk's workspace ws; chunks in parallel.
/// With resolve_far, rows of minus infinite log-density under every column are first given to
/// their nearest component (MixtureDensity::resolve_far_rows).
template <typename Derived, typename Body>
void for_each_log_prob_block(const Eigen::MatrixBase<Derived>& X, const MixtureDensity& density,
                             const std::vector<Chunk>& chunks, Body&& body,
                             bool resolve_far = false) {
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    Eigen::MatrixXd xd, lp;
    EmWorkspace ws;
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      xd = X.derived().middleRows(begin, end - begin).template cast<double>();
      density.log_prob(xd, lp, ws);
      if (resolve_far) density.resolve_far_rows(xd, lp);
      body(c, begin, lp, ws);
    });
  });
}

/// Calls body(begin, resp) for every block of rows [begin, begin + resp.rows()) of X with the
/// block's responsibilities (posterior probabilities, rows summing to 1, the noise column
/// last). A row whose log-density is below the double range under every column goes with
/// probability 1 to its nearest component (MixtureDensity::resolve_far_rows).
template <typename Derived, typename Body>
void for_each_posterior_block(const Eigen::MatrixBase<Derived>& X, const MixtureDensity& density,
                              const char* where, Body&& body) {
  for_each_log_prob_block(
      X, density, make_chunks(X.rows(), 0),
      [&](std::size_t, Eigen::Index begin, Eigen::MatrixXd& lp, EmWorkspace& ws) {
        const Eigen::Index bad = log_prob_to_responsibilities(lp, ws);
        if (bad >= 0) fail_zero_density(where, begin + bad);
        body(begin, static_cast<const Eigen::MatrixXd&>(lp));
      },
      true);
}

/// The most probable component of every row of X (the first on ties), -1 where it is the
/// noise component; for a row below the double range everywhere, its nearest component.
template <typename Derived>
Eigen::VectorXi most_probable_components(const Eigen::MatrixBase<Derived>& X,
                                         const MixtureDensity& density) {
  Eigen::VectorXi labels(X.rows());
  const Eigen::Index k = density.k();
  for_each_log_prob_block(
      X, density, make_chunks(X.rows(), 0),
      [&](std::size_t, Eigen::Index begin, Eigen::MatrixXd& lp, EmWorkspace&) {
        for (Eigen::Index i = 0; i < lp.rows(); ++i) {
          Eigen::Index best = 0;
          lp.row(i).maxCoeff(&best);
          labels(begin + i) = best == k ? -1 : static_cast<int>(best);
        }
      },
      true);
  return labels;
}

/// Sum over the rows of X of the mixture's log-density (summed in double, in chunk order).
template <typename Derived>
double total_log_likelihood(const Eigen::MatrixBase<Derived>& X, const MixtureDensity& density) {
  const auto chunks = make_chunks(X.rows(), 0);
  std::vector<double> partial(chunks.size(), 0.0);
  for_each_log_prob_block(X, density, chunks,
                          [&](std::size_t c, Eigen::Index, Eigen::MatrixXd& lp, EmWorkspace&) {
                            partial[c] += row_log_sum_exp(lp).sum();
                          });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace emcluster::detail
