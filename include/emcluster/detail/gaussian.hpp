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
#include "parallel.hpp"
#include "validation.hpp"

namespace emcluster {

/// Shape of the components' covariance matrices (scikit-learn's `covariance_type`).
enum class CovarianceType {
  full,      ///< every component has its own d x d covariance
  tied,      ///< all components share one d x d covariance
  diagonal,  ///< every component has its own diagonal covariance (d variances)
  spherical  ///< every component has one variance for all features (a multiple of the identity)
};

}  // namespace emcluster

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

/// The parameters prepared for the E-step in the data's scalar type: means, precision
/// factors and the per-component log normalising constants (in double).
template <typename Scalar>
struct PreparedMixture {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

  CovarianceType type = CovarianceType::full;
  Matrix means;                  ///< k x d
  std::vector<Matrix> factors;   ///< full: k upper triangular d x d; tied: one
  Matrix scales;                 ///< diagonal: k x d precision factors; spherical: k x 1
  RowVector reference;           ///< tied: c, the mean of the component means
  Matrix shifted_means;          ///< tied: (mu_k - c) P, k x d
  Eigen::VectorXd log_constant;  ///< log w_k - d/2 log 2pi + log det P_k
  bool noise = false;
  double noise_log_constant = 0;  ///< log w_noise - log volume
  Eigen::RowVectorXd noise_low, noise_high;

  Eigen::Index k() const { return means.rows(); }
  Eigen::Index d() const { return means.cols(); }
  /// Columns of a block's log-density matrix: k, plus one for noise.
  Eigen::Index columns() const { return k() + (noise ? 1 : 0); }
};

/// Prepares parameters for the E-step.
template <typename Scalar>
PreparedMixture<Scalar> prepare_mixture(const MixtureParams& p, const NoiseBox& box) {
  PreparedMixture<Scalar> pm;
  const Eigen::Index k = p.k(), d = p.d();
  pm.type = p.type;
  pm.means = p.means.cast<Scalar>();
  pm.log_constant.resize(k);
  const double base = -0.5 * static_cast<double>(d) * kLogTwoPi;
  for (Eigen::Index j = 0; j < k; ++j) {
    double log_det = 0;  // log det P = sum log diag(P), from the factor itself: no determinant
    switch (p.type) {
      case CovarianceType::full:
        log_det = p.precisions_cholesky[static_cast<std::size_t>(j)].diagonal().array().log().sum();
        break;
      case CovarianceType::tied:
        log_det = p.precisions_cholesky[0].diagonal().array().log().sum();
        break;
      case CovarianceType::diagonal:
        log_det = p.precisions_cholesky[static_cast<std::size_t>(j)].array().log().sum();
        break;
      case CovarianceType::spherical:
        log_det = static_cast<double>(d) * std::log(p.precisions_cholesky[static_cast<std::size_t>(j)](0, 0));
        break;
    }
    pm.log_constant(j) = std::log(p.weights(j)) + base + log_det;
  }
  switch (p.type) {
    case CovarianceType::full:
      for (const auto& f : p.precisions_cholesky) pm.factors.push_back(f.cast<Scalar>());
      break;
    case CovarianceType::tied: {
      // Centre the data on c before the product: (x - c) P - (mu_k - c) P loses only what the
      // spread of the means (not the data's offset from the origin) costs.
      const Eigen::RowVectorXd c = p.means.colwise().mean();
      pm.reference = c.cast<Scalar>();
      pm.factors.push_back(p.precisions_cholesky[0].cast<Scalar>());
      const Eigen::MatrixXd centred = p.means.rowwise() - c;
      pm.shifted_means = (centred * p.precisions_cholesky[0].triangularView<Eigen::Upper>()).cast<Scalar>();
      break;
    }
    case CovarianceType::diagonal:
      pm.scales.resize(k, d);
      for (Eigen::Index j = 0; j < k; ++j) {
        pm.scales.row(j) = p.precisions_cholesky[static_cast<std::size_t>(j)].col(0).transpose().cast<Scalar>();
      }
      break;
    case CovarianceType::spherical:
      pm.scales.resize(k, 1);
      for (Eigen::Index j = 0; j < k; ++j) pm.scales(j, 0) = static_cast<Scalar>(p.precisions_cholesky[static_cast<std::size_t>(j)](0, 0));
      break;
  }
  if (box.enabled) {
    pm.noise = true;
    pm.noise_log_constant = std::log(p.noise_weight) + box.log_density;
    pm.noise_low = box.low.transpose();
    pm.noise_high = box.high.transpose();
  }
  return pm;
}

/// Scratch space of one thread for the E-step of one block.
template <typename Scalar>
struct EStepWorkspace {
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> diff;  ///< block minus a mean
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> y;     ///< (x - mu) P
};

/// Weighted log-densities of a block: out(i, j) = log w_j + log N(x_i | mu_j, Sigma_j), and
/// the noise column log w_0 - log volume (minus infinity outside the box) last. With P the
/// precision Cholesky factor,
///     log N(x) = -d/2 log 2pi + sum log diag(P) - 1/2 ||(x - mu)^T P||^2,
/// where (x - mu) P is one product per component for the whole block (a GEMM with a
/// triangular right-hand side). The data are centred on the mean before the product, so the
/// result does not lose digits to the data's distance from the origin; the squared norms are
/// summed in double.
template <typename Scalar, typename Block>
void weighted_log_prob(const PreparedMixture<Scalar>& pm, const Block& xb, Eigen::MatrixXd& out,
                       EStepWorkspace<Scalar>& ws) {
  const Eigen::Index rows = xb.rows(), k = pm.k();
  out.resize(rows, pm.columns());
  switch (pm.type) {
    case CovarianceType::full:
      for (Eigen::Index j = 0; j < k; ++j) {
        ws.diff = xb.rowwise() - pm.means.row(j);
        ws.y.noalias() = ws.diff * pm.factors[static_cast<std::size_t>(j)].template triangularView<Eigen::Upper>();
        out.col(j) = pm.log_constant(j) - 0.5 * ws.y.template cast<double>().rowwise().squaredNorm().array();
      }
      break;
    case CovarianceType::tied:
      ws.diff = xb.rowwise() - pm.reference;
      ws.y.noalias() = ws.diff * pm.factors[0].template triangularView<Eigen::Upper>();
      for (Eigen::Index j = 0; j < k; ++j) {
        out.col(j) = pm.log_constant(j) -
                     0.5 * (ws.y.rowwise() - pm.shifted_means.row(j)).template cast<double>().rowwise().squaredNorm().array();
      }
      break;
    case CovarianceType::diagonal:
      for (Eigen::Index j = 0; j < k; ++j) {
        ws.diff = (xb.rowwise() - pm.means.row(j)).array().rowwise() * pm.scales.row(j).array();
        out.col(j) = pm.log_constant(j) - 0.5 * ws.diff.template cast<double>().rowwise().squaredNorm().array();
      }
      break;
    case CovarianceType::spherical:
      for (Eigen::Index j = 0; j < k; ++j) {
        ws.diff = xb.rowwise() - pm.means.row(j);
        const double s = static_cast<double>(pm.scales(j, 0));
        out.col(j) = pm.log_constant(j) - (0.5 * s * s) * ws.diff.template cast<double>().rowwise().squaredNorm().array();
      }
      break;
  }
  if (pm.noise) {
    for (Eigen::Index i = 0; i < rows; ++i) {
      bool inside = true;
      for (Eigen::Index f = 0; f < xb.cols() && inside; ++f) {
        const double v = static_cast<double>(xb(i, f));
        inside = v >= pm.noise_low(f) && v <= pm.noise_high(f);
      }
      out(i, k) = inside ? pm.noise_log_constant : -std::numeric_limits<double>::infinity();
    }
  }
}

/// Turns a block of weighted log-densities into responsibilities in place and writes the
/// per-row log-likelihood log sum_j exp(out(i, j)) (log-sum-exp around the row maximum).
/// Returns the first row whose density is zero under every component (or not finite), -1 if
/// none.
inline Eigen::Index log_prob_to_responsibilities(Eigen::MatrixXd& out, Eigen::VectorXd& lse) {
  const Eigen::Index rows = out.rows();
  lse = out.rowwise().maxCoeff();
  for (Eigen::Index i = 0; i < rows; ++i) {
    if (!std::isfinite(lse(i))) return i;
  }
  out.colwise() -= lse;
  // Eigen's vectorised exp clamps its argument near -709 and returns a tiny denormal for
  // exp(-inf); a probability that underflows a double is exactly zero here.
  out = (out.array() > kExpUnderflow).select(out.array().exp(), 0.0).matrix();
  const Eigen::VectorXd sums = out.rowwise().sum();
  lse.array() += sums.array().log();
  out.array().colwise() /= sums.array();
  return -1;
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

/// Adds one block to the statistics. xd: the block in double (rows x d); resp: rows x k (or
/// k + 1 with a noise column), already multiplied by the sample weights; shifts: k x d;
/// reference: c for `tied`. `diff` is scratch.
inline void accumulate_block(const Eigen::MatrixXd& xd, const Eigen::MatrixXd& resp, const Eigen::MatrixXd& shifts,
                             const Eigen::RowVectorXd& reference, CovarianceType type, MixtureStats& s,
                             Eigen::MatrixXd& diff) {
  const Eigen::Index k = shifts.rows();
  for (Eigen::Index j = 0; j < k; ++j) {
    const auto r = resp.col(j);
    s.resp_sum(j) += r.sum();
    diff = xd.rowwise() - shifts.row(j);
    s.first.row(j).noalias() += r.transpose() * diff;
    switch (type) {
      case CovarianceType::full:
        // S_j += D^T diag(r) D as a symmetric rank update (lower triangle) of sqrt(r) D.
        diff.array().colwise() *= r.array().sqrt();
        s.second[static_cast<std::size_t>(j)].selfadjointView<Eigen::Lower>().rankUpdate(diff.transpose());
        break;
      case CovarianceType::diagonal:
      case CovarianceType::spherical:
        s.second[0].row(j).noalias() += r.transpose() * diff.cwiseAbs2();
        break;
      case CovarianceType::tied:
        break;
    }
  }
  if (type == CovarianceType::tied) {
    diff = xd.rowwise() - reference;
    diff.array().colwise() *= resp.leftCols(k).rowwise().sum().array().sqrt();
    s.second[0].selfadjointView<Eigen::Lower>().rankUpdate(diff.transpose());
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
/// tied). `fill(chunk, begin, end, xb, resp, lse)` writes the block's responsibilities (rows x
/// columns, unweighted) and, optionally, the per-row log-likelihood (leave lse empty when there
/// is none). Chunks are combined in chunk order: the result does not depend on the threads.
template <typename Derived, typename Fill>
MixtureStats accumulate_pass(const Eigen::MatrixBase<Derived>& X, const double* w, CovarianceType type,
                             const Eigen::MatrixXd& shifts, const Eigen::RowVectorXd& reference, Fill&& fill) {
  using Scalar = typename Derived::Scalar;
  const Eigen::Index n = X.rows(), d = X.cols(), k = shifts.rows();
  const auto chunks = make_chunks(n, MixtureStats::bytes(type, k, d));
  std::vector<MixtureStats> partial(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    MixtureStats& s = partial[c];
    s.reset(type, k, d);
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> xb;
    Eigen::MatrixXd xd, resp, diff;
    Eigen::VectorXd lse;
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      const Eigen::Index rows = end - begin;
      xb = X.derived().middleRows(begin, rows);
      lse.resize(0);
      fill(c, begin, end, xb, resp, lse);
      if (w) {
        const Eigen::Map<const Eigen::VectorXd> wb(w + begin, rows);
        resp.array().colwise() *= wb.array();
        if (lse.size() == rows) s.log_likelihood += wb.dot(lse);
        s.weight += wb.sum();
      } else {
        if (lse.size() == rows) s.log_likelihood += lse.sum();
        s.weight += static_cast<double>(rows);
      }
      xd = xb.template cast<double>();
      accumulate_block(xd, resp, shifts, reference, type, s, diff);
    });
  });
  MixtureStats total;
  total.reset(type, k, d);
  for (const auto& p : partial) total.add(p);
  return total;
}

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

/// The hot loop of EM: for every block of rows, the E-step (weighted log-densities in log
/// space, log-sum-exp, responsibilities) fused with the M-step's sufficient statistics
/// around the current means, so that each row is read once per iteration and nothing of
/// size n x k exists. Every operation is a vectorised column operation over the block's
/// rows. The statistics are exactly those of accumulate_pass (same shifts and reference), so
/// m_step applies unchanged. Returns the first row whose density is zero under every
/// component (or -1) through `bad_row`.
template <typename Derived>
MixtureStats em_pass(const Eigen::MatrixBase<Derived>& X, const double* w, const MixtureParams& p,
                     const NoiseBox& box, const Eigen::RowVectorXd& reference, Eigen::Index& bad_row) {
  const CovarianceType type = p.type;
  const Eigen::Index n = X.rows(), d = X.cols(), k = p.k();
  const Eigen::Index cols = k + (box.enabled ? 1 : 0);
  // Per-component constants: log w_j - d/2 log 2pi + log det P_j.
  Eigen::VectorXd log_constant(k);
  for (Eigen::Index j = 0; j < k; ++j) {
    const Eigen::MatrixXd& P = p.precisions_cholesky[type == CovarianceType::tied ? 0 : static_cast<std::size_t>(j)];
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
    log_constant(j) = std::log(p.weights(j)) - 0.5 * static_cast<double>(d) * kLogTwoPi + log_det;
  }
  Eigen::MatrixXd tied_means;  // (mu_j - c) P
  if (type == CovarianceType::tied) {
    tied_means = (p.means.rowwise() - reference) * p.precisions_cholesky[0].triangularView<Eigen::Upper>();
  }
  const double noise_constant = box.enabled ? std::log(p.noise_weight) + box.log_density : 0.0;

  const auto chunks = make_chunks(n, MixtureStats::bytes(type, k, d));
  std::vector<MixtureStats> partial(chunks.size());
  std::vector<Eigen::Index> bad(chunks.size(), -1);
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    MixtureStats& s = partial[c];
    s.reset(type, k, d);
    EmWorkspace ws;
    Eigen::MatrixXd scratch;
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      if (bad[c] >= 0) return;
      const Eigen::Index rows = end - begin;
      ws.xd = X.derived().middleRows(begin, rows).template cast<double>();
      auto& L = ws.prob;
      L.resize(rows, cols);
      // E-step: weighted log-densities, one column per component.
      switch (type) {
        case CovarianceType::full:
          for (Eigen::Index j = 0; j < k; ++j) {
            ws.diff = ws.xd.rowwise() - p.means.row(j);
            upper_triangular_product(ws.diff, p.precisions_cholesky[static_cast<std::size_t>(j)], ws.y);
            ws.scale = ws.y.col(0).array().square();
            for (Eigen::Index f = 1; f < d; ++f) ws.scale += ws.y.col(f).array().square();
            L.col(j) = (log_constant(j) - 0.5 * ws.scale).matrix();
          }
          break;
        case CovarianceType::tied:
          ws.diff = ws.xd.rowwise() - reference;
          upper_triangular_product(ws.diff, p.precisions_cholesky[0], ws.y);
          for (Eigen::Index j = 0; j < k; ++j) {
            L.col(j) = log_constant(j) - 0.5 * (ws.y.rowwise() - tied_means.row(j)).rowwise().squaredNorm().array();
          }
          break;
        case CovarianceType::diagonal:
          for (Eigen::Index j = 0; j < k; ++j) {
            const Eigen::MatrixXd& P = p.precisions_cholesky[static_cast<std::size_t>(j)];
            auto col = L.col(j).array();
            col.setConstant(log_constant(j));
            for (Eigen::Index f = 0; f < d; ++f) {
              col -= 0.5 * ((ws.xd.col(f).array() - p.means(j, f)) * P(f, 0)).square();
            }
          }
          break;
        case CovarianceType::spherical:
          for (Eigen::Index j = 0; j < k; ++j) {
            const double s2 = p.precisions_cholesky[static_cast<std::size_t>(j)](0, 0);
            ws.scale = Eigen::ArrayXd::Zero(rows);
            for (Eigen::Index f = 0; f < d; ++f) ws.scale += (ws.xd.col(f).array() - p.means(j, f)).square();
            L.col(j) = (log_constant(j) - (0.5 * s2 * s2) * ws.scale).matrix();
          }
          break;
      }
      if (box.enabled) {
        for (Eigen::Index r = 0; r < rows; ++r) {
          bool inside = true;
          for (Eigen::Index f = 0; f < d && inside; ++f) inside = ws.xd(r, f) >= box.low(f) && ws.xd(r, f) <= box.high(f);
          L(r, k) = inside ? noise_constant : -std::numeric_limits<double>::infinity();
        }
      }
      // Log-sum-exp across the columns, around each row's maximum.
      ws.top = L.col(0).array();
      for (Eigen::Index j = 1; j < cols; ++j) ws.top = ws.top.max(L.col(j).array());
      if (!(ws.top > -std::numeric_limits<double>::infinity()).all() || !ws.top.isFinite().all()) {
        for (Eigen::Index r = 0; r < rows; ++r) {
          if (!std::isfinite(ws.top(r))) {
            bad[c] = begin + r;
            return;
          }
        }
      }
      ws.sum = Eigen::ArrayXd::Zero(rows);
      for (Eigen::Index j = 0; j < cols; ++j) {
        // exp underflows to exactly zero below kExpUnderflow (Eigen's exp returns a denormal).
        // Kept as separate statements: a mixed expression makes Eigen fall back to scalar exp.
        auto col = L.col(j).array();
        col -= ws.top;
        ws.expo = col.max(kExpUnderflow).exp();
        col = (col < kExpUnderflow).select(0.0, ws.expo);
        ws.sum += col;
      }
      ws.lse = ws.top + ws.sum.log();
      if (w) {
        const Eigen::Map<const Eigen::ArrayXd> wb(w + begin, rows);
        ws.scale = wb / ws.sum;
        s.log_likelihood += (wb * ws.lse).sum();
        s.weight += wb.sum();
      } else {
        ws.scale = ws.sum.inverse();
        s.log_likelihood += ws.lse.sum();
        s.weight += static_cast<double>(rows);
      }
      for (Eigen::Index j = 0; j < cols; ++j) L.col(j).array() *= ws.scale;
      // Statistics around the current means (and the reference for tied).
      for (Eigen::Index j = 0; j < k; ++j) {
        const Eigen::ArrayXd r = L.col(j).array();
        s.resp_sum(j) += r.sum();
        ws.diff = ws.xd.rowwise() - p.means.row(j);
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
        ws.scale = L.leftCols(k).rowwise().sum().array();
        ws.diff = ws.xd.rowwise() - reference;
        Eigen::RowVectorXd unused = Eigen::RowVectorXd::Zero(d);
        add_weighted_moments(ws.diff, ws.scale, unused, s.second[0], scratch);
      }
      if (box.enabled) s.noise_resp_sum += L.col(k).sum();
    });
  });
  bad_row = -1;
  for (Eigen::Index b : bad) {
    if (b >= 0) {
      bad_row = b;
      break;
    }
  }
  MixtureStats total;
  total.reset(type, k, d);
  for (const auto& q : partial) total.add(q);
  return total;
}

}  // namespace emcluster::detail
