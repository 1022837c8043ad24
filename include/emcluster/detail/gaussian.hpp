/// @file detail/gaussian.hpp
/// @brief The numerical kernels behind GaussianMixture: per-block weighted log-densities
/// from precision Cholesky factors, log-sum-exp responsibilities, per-chunk sufficient
/// statistics (responsibility sums, shifted first and second moments, log-likelihood), their
/// deterministic combination, and the M-step that turns them into parameters.
///
/// Everything here works on one block of rows at a time: memory beyond the data is
/// O(k d^2) for the statistics plus O(block x k) for the block's log-densities, never n x k.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../exceptions.hpp"
#include "../options.hpp"
#include "parallel.hpp"
#include "validation.hpp"

namespace emcluster::detail {

/// log(2 pi).
inline constexpr double kLogTwoPi = 1.83787706640934548356;

/// Added to every responsibility sum before dividing by it (scikit-learn adds the same
/// 10 * machine epsilon): a component that received no responsibility keeps finite means,
/// a covariance of reg_covar times the identity, and a tiny positive weight.
inline constexpr double kResponsibilityFloor = 10 * std::numeric_limits<double>::epsilon();

/// Below this, exp() underflows to zero in double.
inline constexpr double kExpUnderflow = -745.2;

/// Number of covariance blocks a model stores: one per component, one for `tied`.
inline Eigen::Index covariance_blocks(CovarianceType type, Eigen::Index k) {
  return type == CovarianceType::tied ? 1 : k;
}

/// Name of a covariance type, for messages.
inline const char* covariance_type_name(CovarianceType type) {
  switch (type) {
    case CovarianceType::full:
      return "full";
    case CovarianceType::tied:
      return "tied";
    case CovarianceType::diagonal:
      return "diagonal";
    case CovarianceType::spherical:
      return "spherical";
  }
  return "?";
}

/// Free parameters of a mixture, counted as scikit-learn does (k - 1 weights, k d means and
/// the covariance entries), plus one for the weight of a noise component.
inline Eigen::Index free_parameters(CovarianceType type, Eigen::Index k, Eigen::Index d, bool noise) {
  Eigen::Index cov = 0;
  switch (type) {
    case CovarianceType::full:
      cov = k * d * (d + 1) / 2;
      break;
    case CovarianceType::tied:
      cov = d * (d + 1) / 2;
      break;
    case CovarianceType::diagonal:
      cov = k * d;
      break;
    case CovarianceType::spherical:
      cov = k;
      break;
  }
  return cov + k * d + k - 1 + (noise ? 1 : 0);
}

/// Parameters of a mixture, in double whatever the data's scalar type.
///
/// Covariances and precision Cholesky factors are stored in compact form, one block per
/// entry of the vectors: `full` k blocks d x d, `tied` one block d x d, `diagonal` k blocks
/// d x 1 (the variances), `spherical` k blocks 1 x 1. A precision Cholesky factor P satisfies
/// P P^T = covariance^-1; for `full` and `tied` it is upper triangular (the transposed inverse
/// of the covariance's lower Cholesky factor, scikit-learn's precisions_cholesky_), for
/// `diagonal` and `spherical` it holds 1 / sqrt(variance).
struct MixtureParams {
  CovarianceType type = CovarianceType::full;
  Eigen::VectorXd weights;                          ///< k mixing weights of the Gaussians
  double noise_weight = 0.0;                        ///< weight of the uniform noise component
  Eigen::MatrixXd means;                            ///< k x d
  std::vector<Eigen::MatrixXd> covariances;         ///< compact blocks (empty before an M-step)
  std::vector<Eigen::MatrixXd> precisions_cholesky; ///< compact blocks
  Eigen::Index k() const { return means.rows(); }
  Eigen::Index d() const { return means.cols(); }
};

/// A uniform background density over an axis-aligned box.
struct NoiseBox {
  bool enabled = false;
  Eigen::VectorXd low, high;  ///< d corners
  double log_density = 0.0;   ///< -log(volume)
};

[[noreturn]] inline void fail_not_positive_definite(const char* where, CovarianceType type, Eigen::Index block,
                                                    double reg_covar) {
  const std::string what = type == CovarianceType::tied
                               ? std::string("the shared (tied) covariance")
                               : message("the covariance of component ", block);
  throw numerical_error(message(
      where, ": ", what, " is not positive definite even after adding reg_covar = ", reg_covar,
      " to its diagonal (the component collapsed onto too few distinct points, or features are "
      "collinear or constant); increase reg_covar (for example to 1e-4, or more for data with a large scale) "
      "or use fewer components"));
}

/// Precision Cholesky factor of one compact covariance block; throws numerical_error naming
/// the component when the block is not positive definite (or not finite).
inline Eigen::MatrixXd precision_cholesky_from_covariance(const Eigen::MatrixXd& cov, CovarianceType type,
                                                          Eigen::Index block, double reg_covar, const char* where) {
  if (!cov.allFinite()) fail_not_positive_definite(where, type, block, reg_covar);
  if (type == CovarianceType::full || type == CovarianceType::tied) {
    const Eigen::LLT<Eigen::MatrixXd> llt(cov);
    if (llt.info() != Eigen::Success) fail_not_positive_definite(where, type, block, reg_covar);
    // cov = L L^T  =>  cov^-1 = L^-T L^-1 = P P^T with P = L^-T (upper triangular): one
    // triangular solve, no general inverse.
    Eigen::MatrixXd inv_l = Eigen::MatrixXd::Identity(cov.rows(), cov.cols());
    llt.matrixL().solveInPlace(inv_l);
    Eigen::MatrixXd p = inv_l.transpose();
    if (!p.allFinite() || !(p.diagonal().array() > 0).all()) fail_not_positive_definite(where, type, block, reg_covar);
    return p;
  }
  if (!(cov.array() > 0).all()) fail_not_positive_definite(where, type, block, reg_covar);
  Eigen::MatrixXd p = cov.array().rsqrt().matrix();
  if (!p.allFinite()) fail_not_positive_definite(where, type, block, reg_covar);
  return p;
}

/// Precision Cholesky factor of a precision matrix the caller gave (compact block). For
/// `full`/`tied` the upper triangular U with U U^T = precision, from the Cholesky factor of
/// the precision with rows and columns reversed: if J is the reversal, J A J = L L^T gives
/// A = (J L J)(J L J)^T with J L J upper triangular. Throws std::invalid_argument.
inline Eigen::MatrixXd precision_cholesky_from_precision(const Eigen::MatrixXd& precision, CovarianceType type,
                                                         Eigen::Index block, const char* where) {
  if (type == CovarianceType::full || type == CovarianceType::tied) {
    const Eigen::MatrixXd reversed = precision.reverse();
    const Eigen::LLT<Eigen::MatrixXd> llt(reversed);
    Eigen::MatrixXd u = Eigen::MatrixXd(llt.matrixL()).reverse();
    if (llt.info() != Eigen::Success || !u.allFinite() || !(u.diagonal().array() > 0).all()) {
      fail(where, "initial_precisions[", block, "] is not positive definite");
    }
    return u;
  }
  if (!(precision.array() > 0).all()) fail(where, "initial_precisions[", block, "] has an entry <= 0");
  return precision.array().sqrt().matrix();
}

/// Sufficient statistics of one chunk (and, combined, of all rows), in double.
///
/// Around fixed shifts s_j (the means of the current parameters): N_j = sum w r_ij,
/// F_j = sum w r_ij (x_i - s_j), and the second moments: `full` S_j = sum w r_ij (x_i - s_j)
/// (x_i - s_j)^T (lower triangle); `diagonal`/`spherical` its diagonal, one row per
/// component; `tied` T = sum_i w g_i (x_i - c)(x_i - c)^T with g_i = sum_j r_ij and c the
/// reference point. Plus sum w log p(x) and sum w.
struct MixtureStats {
  Eigen::VectorXd resp_sum;              ///< k
  double noise_resp_sum = 0;
  Eigen::MatrixXd first;                 ///< k x d
  std::vector<Eigen::MatrixXd> second;   ///< see above
  double log_likelihood = 0;
  double weight = 0;

  void reset(CovarianceType type, Eigen::Index k, Eigen::Index d) {
    resp_sum = Eigen::VectorXd::Zero(k);
    noise_resp_sum = 0;
    first = Eigen::MatrixXd::Zero(k, d);
    second.clear();
    switch (type) {
      case CovarianceType::full:
        second.assign(static_cast<std::size_t>(k), Eigen::MatrixXd::Zero(d, d));
        break;
      case CovarianceType::tied:
        second.assign(1, Eigen::MatrixXd::Zero(d, d));
        break;
      case CovarianceType::diagonal:
      case CovarianceType::spherical:
        second.assign(1, Eigen::MatrixXd::Zero(k, d));
        break;
    }
    log_likelihood = 0;
    weight = 0;
  }

  void add(const MixtureStats& o) {
    resp_sum += o.resp_sum;
    noise_resp_sum += o.noise_resp_sum;
    first += o.first;
    for (std::size_t b = 0; b < second.size(); ++b) second[b] += o.second[b];
    log_likelihood += o.log_likelihood;
    weight += o.weight;
  }

  /// Bytes one chunk's statistics take.
  static std::size_t bytes(CovarianceType type, Eigen::Index k, Eigen::Index d) {
    const auto kk = static_cast<std::size_t>(k), dd = static_cast<std::size_t>(d);
    std::size_t second_size = 0;
    switch (type) {
      case CovarianceType::full:
        second_size = kk * dd * dd;
        break;
      case CovarianceType::tied:
        second_size = dd * dd;
        break;
      case CovarianceType::diagonal:
      case CovarianceType::spherical:
        second_size = kk * dd;
        break;
    }
    return sizeof(double) * (kk + kk * dd + second_size + 4);
  }
};

/// Scratch space of one thread for the fused EM pass (all in double).
struct EmWorkspace {
  Eigen::MatrixXd xd;    ///< the block, rows x d
  Eigen::MatrixXd diff;  ///< block minus a mean (or the tied reference)
  Eigen::MatrixXd y;     ///< (x - mu) P
  Eigen::MatrixXd prob;  ///< rows x columns: log-densities, then weighted responsibilities
  Eigen::ArrayXd top, sum, scale, lse, expo;
};

/// Feature count up to which second moments are accumulated as vectorised dot products
/// over the block's rows; above it, one small GEMM per component.
inline constexpr Eigen::Index kDotMomentsMaxFeatures = 12;

/// y = diff * P for an upper triangular d x d factor P, column by column (every column an
/// axpy over the block's rows, so small d costs no GEMM set-up).
inline void upper_triangular_product(const Eigen::MatrixXd& diff, const Eigen::MatrixXd& P, Eigen::MatrixXd& y) {
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
inline void mahalanobis_squared(const Eigen::MatrixXd& xd, const Eigen::RowVectorXd& mu, const Eigen::MatrixXd& P,
                                EmWorkspace& ws) {
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
      for (Eigen::Index g = 0; g < d; ++g) centred[g] = ei::psub(ei::ploadu<Packet>(x + g * rows + r), ei::pset1<Packet>(mu(g)));
      Packet sum = ei::pzero(centred[0]);
      for (Eigen::Index f = 0; f < d; ++f) {
        Packet y = ei::pmul(centred[0], ei::pset1<Packet>(P(0, f)));
        for (Eigen::Index g = 1; g <= f; ++g) y = ei::pmadd(centred[g], ei::pset1<Packet>(P(g, f)), y);
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
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// First moments F += D^T r and the lower triangle of S += D^T diag(r) D for a rows x d
/// block D (vectorised dot products over the rows for small d, one GEMM above).
template <typename FirstRow>
inline void add_weighted_moments(const Eigen::MatrixXd& D, const Eigen::ArrayXd& r, FirstRow&& F, Eigen::MatrixXd& S,
                                 Eigen::MatrixXd& scratch) {
  const Eigen::Index d = D.cols();
  scratch = D.array().colwise() * r;
  F += scratch.colwise().sum();
  if (d > kDotMomentsMaxFeatures) {
    S.noalias() += scratch.transpose() * D;
    return;
  }
  for (Eigen::Index a = 0; a < d; ++a) {
    for (Eigen::Index b = 0; b <= a; ++b) S(a, b) += scratch.col(a).dot(D.col(b));
  }
}

/// Adds one block to the statistics. xd: the block in double (rows x d); resp: rows x k (or
/// k + 1 with a noise column), already multiplied by the sample weights; shifts: k x d (the
/// current means); reference: c for `tied`.
inline void accumulate_block(const Eigen::MatrixXd& xd, const Eigen::MatrixXd& resp, const Eigen::MatrixXd& shifts,
                             const Eigen::RowVectorXd& reference, CovarianceType type, MixtureStats& s,
                             EmWorkspace& ws, Eigen::MatrixXd& scratch) {
  const Eigen::Index k = shifts.rows(), d = shifts.cols();
  for (Eigen::Index j = 0; j < k; ++j) {
    const Eigen::ArrayXd r = resp.col(j).array();
    s.resp_sum(j) += r.sum();
    ws.diff = xd.rowwise() - shifts.row(j);
    switch (type) {
      case CovarianceType::full:
        add_weighted_moments(ws.diff, r, s.first.row(j), s.second[static_cast<std::size_t>(j)], scratch);
        break;
      case CovarianceType::diagonal:
      case CovarianceType::spherical:
        for (Eigen::Index f = 0; f < d; ++f) {
          ws.expo = r * ws.diff.col(f).array();
          s.first(j, f) += ws.expo.sum();
          s.second[0](j, f) += (ws.expo * ws.diff.col(f).array()).sum();
        }
        break;
      case CovarianceType::tied:
        for (Eigen::Index f = 0; f < d; ++f) s.first(j, f) += (r * ws.diff.col(f).array()).sum();
        break;
    }
  }
  if (type == CovarianceType::tied) {
    // T += (x - c)^T diag(g) (x - c), g the row's total Gaussian responsibility.
    ws.scale = resp.leftCols(k).rowwise().sum().array();
    ws.diff = xd.rowwise() - reference;
    Eigen::RowVectorXd unused = Eigen::RowVectorXd::Zero(d);
    add_weighted_moments(ws.diff, ws.scale, unused, s.second[0], scratch);
  }
  if (resp.cols() > k) s.noise_resp_sum += resp.col(k).sum();
}

/// The M-step: new weights, means and covariances (plus reg_covar on the diagonal) from the
/// combined statistics, and their precision Cholesky factors. Throws numerical_error naming
/// the component whose covariance is not positive definite.
///
/// Why shifted moments: the scatter around the new mean mu_j = s_j + F_j / N_j follows from
/// the moments around the shift s_j without a second pass over the data,
///     sum r (x - mu)(x - mu)^T = S - F d^T - d F^T + N d d^T,   d = mu - s,
/// and because s_j (the previous mean) is close to mu_j, S is of the size of the scatter
/// itself: the subtraction loses nothing, unlike the textbook sum r x x^T - N mu mu^T, which
/// cancels catastrophically when the data sit far from the origin compared with their
/// spread (in float already at an offset of a few hundred standard deviations). The same
/// identity with s = c and d_j = mu_j - c, summed over the components, gives the tied
/// within-component scatter from T.
inline MixtureParams m_step(const MixtureStats& s, const Eigen::MatrixXd& shifts, const Eigen::RowVectorXd& reference,
                            CovarianceType type, double reg_covar, bool noise, const char* where) {
  const Eigen::Index k = shifts.rows(), d = shifts.cols();
  MixtureParams p;
  p.type = type;
  const Eigen::VectorXd nk = s.resp_sum.array() + kResponsibilityFloor;
  const double noise_nk = noise ? s.noise_resp_sum + kResponsibilityFloor : 0.0;
  const double total = nk.sum() + noise_nk;
  p.weights = nk / total;
  p.noise_weight = noise ? noise_nk / total : 0.0;
  p.means.resize(k, d);
  for (Eigen::Index j = 0; j < k; ++j) p.means.row(j) = shifts.row(j) + s.first.row(j) / nk(j);

  switch (type) {
    case CovarianceType::full:
      for (Eigen::Index j = 0; j < k; ++j) {
        // With d = F / nk and N = nk - floor: S - F d^T - d F^T + N d d^T = S - a F F^T.
        const double a = (2.0 - s.resp_sum(j) / nk(j)) / nk(j);
        const Eigen::RowVectorXd f = s.first.row(j);
        Eigen::MatrixXd cov = s.second[static_cast<std::size_t>(j)].selfadjointView<Eigen::Lower>();
        cov.noalias() -= a * (f.transpose() * f);
        cov /= nk(j);
        cov.diagonal().array() += reg_covar;
        p.covariances.push_back(std::move(cov));
      }
      break;
    case CovarianceType::tied: {
      Eigen::MatrixXd cov = s.second[0].selfadjointView<Eigen::Lower>();
      Eigen::MatrixXd cross = Eigen::MatrixXd::Zero(d, d);
      for (Eigen::Index j = 0; j < k; ++j) {
        // A_j = sum r (x - c) = F_j + N_j (s_j - c); e_j = mu_j - c.
        const Eigen::RowVectorXd a = s.first.row(j) + s.resp_sum(j) * (shifts.row(j) - reference);
        const Eigen::RowVectorXd e = p.means.row(j) - reference;
        cross.noalias() += a.transpose() * e;
        cov.noalias() += s.resp_sum(j) * (e.transpose() * e);
      }
      cov -= cross;
      cov -= cross.transpose();
      cov /= nk.sum();
      cov.diagonal().array() += reg_covar;
      p.covariances.push_back(std::move(cov));
      break;
    }
    case CovarianceType::diagonal:
    case CovarianceType::spherical:
      for (Eigen::Index j = 0; j < k; ++j) {
        const double a = (2.0 - s.resp_sum(j) / nk(j)) / nk(j);
        // Rounding can leave a tiny negative where the spread is zero: a variance is >= 0.
        const Eigen::VectorXd var =
            ((s.second[0].row(j).array() - a * s.first.row(j).array().square()) / nk(j)).max(0.0).transpose();
        if (type == CovarianceType::diagonal) {
          p.covariances.push_back((var.array() + reg_covar).matrix());
        } else {
          p.covariances.push_back(Eigen::MatrixXd::Constant(1, 1, var.mean() + reg_covar));
        }
      }
      break;
  }
  for (std::size_t b = 0; b < p.covariances.size(); ++b) {
    p.precisions_cholesky.push_back(
        precision_cholesky_from_covariance(p.covariances[b], type, static_cast<Eigen::Index>(b), reg_covar, where));
  }
  return p;
}

/// One pass over the rows accumulating MixtureStats around `shifts` (and `reference` for
/// tied). `fill(chunk, begin, end, xd, resp, lse, ws)` writes the block's responsibilities (rows x
/// columns, unweighted) and, optionally, the per-row log-likelihood (leave lse empty when there
/// is none). Chunks are combined in chunk order: the result does not depend on the threads.
template <typename Derived, typename Fill>
MixtureStats accumulate_pass(const Eigen::MatrixBase<Derived>& X, const double* w, CovarianceType type,
                             const Eigen::MatrixXd& shifts, const Eigen::RowVectorXd& reference, Fill&& fill) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = shifts.rows();
  const auto chunks = make_chunks(n, MixtureStats::bytes(type, k, d));
  std::vector<MixtureStats> partial(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    MixtureStats& s = partial[c];
    s.reset(type, k, d);
    Eigen::MatrixXd xd, resp, scratch;
    Eigen::VectorXd lse;
    EmWorkspace ws;
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      const Eigen::Index rows = end - begin;
      xd = X.derived().middleRows(begin, rows).template cast<double>();
      lse.resize(0);
      fill(c, begin, end, xd, resp, lse, ws);
      if (w) {
        const Eigen::Map<const Eigen::VectorXd> wb(w + begin, rows);
        for (Eigen::Index j = 0; j < resp.cols(); ++j) resp.col(j).array() *= wb.array();
        if (lse.size() == rows) s.log_likelihood += wb.dot(lse);
        s.weight += wb.sum();
      } else {
        if (lse.size() == rows) s.log_likelihood += lse.sum();
        s.weight += static_cast<double>(rows);
      }
      accumulate_block(xd, resp, shifts, reference, type, s, ws, scratch);
    });
  });
  MixtureStats total;
  total.reset(type, k, d);
  for (const auto& p : partial) total.add(p);
  return total;
}

/// Everything the E-step needs from a mixture, in double: the parameters, the box of the
/// noise component, and the per-component constants. Copyable (holds its own parameters).
struct MixtureDensity {
  MixtureParams params;
  NoiseBox box;
  Eigen::VectorXd log_constant;  ///< log w_j - d/2 log 2pi + log det P_j (no determinant: sum log diag P)
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
      log_constant(j) = std::log(params.weights(j)) - 0.5 * static_cast<double>(d) * kLogTwoPi + log_det;
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
  const Eigen::MatrixXd& factor(Eigen::Index j) const {
    return params.precisions_cholesky[params.type == CovarianceType::tied ? 0 : static_cast<std::size_t>(j)];
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
          L.col(j) = log_constant(j) - 0.5 * (ws.y.rowwise() - tied_means.row(j)).rowwise().squaredNorm().array();
        }
        break;
      case CovarianceType::diagonal:
        for (Eigen::Index j = 0; j < k; ++j) {
          const Eigen::MatrixXd& P = factor(j);
          auto col = L.col(j).array();
          col.setConstant(log_constant(j));
          for (Eigen::Index f = 0; f < d; ++f) col -= 0.5 * ((xd.col(f).array() - params.means(j, f)) * P(f, 0)).square();
        }
        break;
      case CovarianceType::spherical:
        for (Eigen::Index j = 0; j < k; ++j) {
          const double s2 = factor(j)(0, 0);
          ws.scale = Eigen::ArrayXd::Zero(rows);
          for (Eigen::Index f = 0; f < d; ++f) ws.scale += (xd.col(f).array() - params.means(j, f)).square();
          L.col(j) = (log_constant(j) - (0.5 * s2 * s2) * ws.scale).matrix();
        }
        break;
    }
    if (box.enabled) {
      for (Eigen::Index r = 0; r < rows; ++r) {
        bool inside = true;
        for (Eigen::Index f = 0; f < d && inside; ++f) inside = xd(r, f) >= box.low(f) && xd(r, f) <= box.high(f);
        L(r, k) = inside ? noise_constant : -std::numeric_limits<double>::infinity();
      }
    }
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

/// The hot loop of EM: for every block of rows, the E-step (weighted log-densities,
/// log-sum-exp, responsibilities) fused with the M-step's sufficient statistics around the
/// current means (and the reference c for tied), so that each row is read once per
/// iteration and nothing of size n x k exists. Returns, through `bad_row`, the first row
/// whose density is zero under every component (or -1); the statistics are then unusable.
template <typename Derived>
MixtureStats em_pass(const Eigen::MatrixBase<Derived>& X, const double* w, const MixtureDensity& density,
                     Eigen::Index& bad_row) {
  const auto n_chunks = make_chunks(X.rows(), MixtureStats::bytes(density.params.type, density.k(), X.cols())).size();
  std::vector<Eigen::Index> bad(n_chunks, -1);  // per chunk: reported in row order, whatever the threads
  MixtureStats stats = accumulate_pass(
      X, w, density.params.type, density.params.means, density.reference,
      [&](std::size_t c, Eigen::Index begin, Eigen::Index, const Eigen::MatrixXd& xd, Eigen::MatrixXd& resp,
          Eigen::VectorXd& lse, EmWorkspace& ws) {
        density.log_prob(xd, resp, ws);
        const Eigen::Index bad_in_block = log_prob_to_responsibilities(resp, ws);
        if (bad_in_block >= 0 && bad[c] < 0) bad[c] = begin + bad_in_block;
        if (bad[c] >= 0) {
          resp.setZero();
          return;
        }
        lse = ws.lse.matrix();
      });
  bad_row = -1;
  for (Eigen::Index b : bad) {
    if (b >= 0) {
      bad_row = b;
      break;
    }
  }
  return stats;
}

}  // namespace emcluster::detail
