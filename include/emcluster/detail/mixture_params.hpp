/// @file detail/mixture_params.hpp
/// @brief The parameters of a Gaussian mixture and what depends only on them: the parameter
/// type (MixtureParams) and the noise box, their counts and names, the precision Cholesky
/// factors computed from a covariance or from a precision the caller gave, and the switches
/// over the covariance type that read one component's matrix back in full (expand_block) or
/// draw points from the mixture (sampling_factors, draw, draw_samples).
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
#include "random.hpp"
#include "reducer.hpp"
#include "validation.hpp"

namespace emcluster::detail {

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
inline Eigen::Index free_parameters(CovarianceType type, Eigen::Index k, Eigen::Index d,
                                    bool noise) {
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
  Eigen::VectorXd weights;                           ///< k mixing weights of the Gaussians
  double noise_weight = 0.0;                         ///< weight of the uniform noise component
  Eigen::MatrixXd means;                             ///< k x d
  std::vector<Eigen::MatrixXd> covariances;          ///< compact blocks (empty before an M-step)
  std::vector<Eigen::MatrixXd> precisions_cholesky;  ///< compact blocks
  Eigen::Index k() const { return means.rows(); }
  Eigen::Index d() const { return means.cols(); }
  /// The compact block of component j in `blocks` (the shared one for `tied`).
  const Eigen::MatrixXd& block(const std::vector<Eigen::MatrixXd>& blocks, Eigen::Index j) const {
    return blocks[type == CovarianceType::tied ? 0 : static_cast<std::size_t>(j)];
  }
};

/// A uniform background density over an axis-aligned box.
struct NoiseBox {
  bool enabled = false;
  Eigen::VectorXd low, high;  ///< d corners
  double log_density = 0.0;   ///< -log(volume)
};

/// The noise component's box: [low, high] when the caller gave corners (non-empty), else
/// the bounding box of X's rows. Throws std::invalid_argument when a column of X is
/// constant (a box without volume).
/// With several processes (reducer) the bounding box of the rows of all of them.
template <typename Derived, typename Reducer>
NoiseBox make_noise_box(const Eigen::MatrixBase<Derived>& X, const Eigen::VectorXd& low,
                        const Eigen::VectorXd& high, const char* where, const Reducer& reducer) {
  NoiseBox box;
  box.enabled = true;
  if (low.size() != 0) {
    box.low = low;
    box.high = high;
  } else if constexpr (Reducer::kDistributed) {
    const auto d = static_cast<std::size_t>(X.cols());
    box.low = Eigen::VectorXd::Constant(X.cols(), std::numeric_limits<double>::infinity());
    box.high = -box.low;
    if (X.rows() > 0) {
      box.low = X.colwise().minCoeff().transpose().template cast<double>();
      box.high = X.colwise().maxCoeff().transpose().template cast<double>();
    }
    reducer.min(box.low.data(), d);
    reducer.max(box.high.data(), d);
  } else {
    box.low = X.colwise().minCoeff().transpose().template cast<double>();
    box.high = X.colwise().maxCoeff().transpose().template cast<double>();
  }
  if (low.size() == 0) {
    for (Eigen::Index f = 0; f < X.cols(); ++f) {
      if (!(box.low(f) < box.high(f))) {
        fail(where, "column ", f, " of X is constant, so the data's bounding box has no ",
             "volume for the noise component; give Options::noise_low and noise_high");
      }
    }
  }
  box.log_density = -(box.high - box.low).array().log().sum();
  return box;
}

[[noreturn]] inline void fail_not_positive_definite(const char* where, CovarianceType type,
                                                    Eigen::Index block, double reg_covar) {
  const std::string what = type == CovarianceType::tied
                               ? std::string("the shared (tied) covariance")
                               : message("the covariance of component ", block);
  throw numerical_error(message(
      where, ": ", what, " is not positive definite even after adding reg_covar = ", reg_covar,
      " to its diagonal (the component collapsed onto too few distinct points, or features are "
      "collinear or constant); increase reg_covar (for example to 1e-4, or more for data with "
      "a large scale) or use fewer components"));
}

/// Precision Cholesky factor of one compact covariance block; throws numerical_error naming
/// the component when the block is not positive definite (or not finite).
inline Eigen::MatrixXd precision_cholesky_from_covariance(const Eigen::MatrixXd& cov,
                                                          CovarianceType type, Eigen::Index block,
                                                          double reg_covar, const char* where) {
  if (!cov.allFinite()) {
    throw numerical_error(message(
        where, ": the covariance of component ", block,
        " is not finite: its entries are beyond the range of double (the sample weights or the "
        "data's spread are too large to sum)"));
  }
  if (type == CovarianceType::full || type == CovarianceType::tied) {
    const Eigen::LLT<Eigen::MatrixXd> llt(cov);
    if (llt.info() != Eigen::Success) fail_not_positive_definite(where, type, block, reg_covar);
    // cov = L L^T  =>  cov^-1 = L^-T L^-1 = P P^T with P = L^-T (upper triangular): one
    // triangular solve, no general inverse.
    Eigen::MatrixXd inv_l = Eigen::MatrixXd::Identity(cov.rows(), cov.cols());
    llt.matrixL().solveInPlace(inv_l);
    Eigen::MatrixXd p = inv_l.transpose();
    if (!p.allFinite() || !(p.diagonal().array() > 0).all()) {
      fail_not_positive_definite(where, type, block, reg_covar);
    }
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
inline Eigen::MatrixXd precision_cholesky_from_precision(const Eigen::MatrixXd& precision,
                                                         CovarianceType type, Eigen::Index block,
                                                         const char* where) {
  if (type == CovarianceType::full || type == CovarianceType::tied) {
    const Eigen::MatrixXd reversed = precision.reverse();
    const Eigen::LLT<Eigen::MatrixXd> llt(reversed);
    Eigen::MatrixXd u = Eigen::MatrixXd(llt.matrixL()).reverse();
    if (llt.info() != Eigen::Success || !u.allFinite() || !(u.diagonal().array() > 0).all()) {
      fail(where, "initial_precisions[", block, "] is not positive definite");
    }
    return u;
  }
  if (!(precision.array() > 0).all()) {
    fail(where, "initial_precisions[", block, "] has an entry <= 0");
  }
  return precision.array().sqrt().matrix();
}

/// Component j's block of `blocks` (params.covariances or params.precisions_cholesky) as a
/// full d x d matrix: the block itself for `full`/`tied`, the diagonal for `diagonal`, the
/// single value times the identity for `spherical`.
inline Eigen::MatrixXd expand_block(const MixtureParams& params,
                                    const std::vector<Eigen::MatrixXd>& blocks, Eigen::Index j) {
  const Eigen::MatrixXd& b = params.block(blocks, j);
  switch (params.type) {
    case CovarianceType::full:
    case CovarianceType::tied:
      return b;
    case CovarianceType::diagonal:
      return b.col(0).asDiagonal();
    case CovarianceType::spherical:
      break;
  }
  return b(0, 0) * Eigen::MatrixXd::Identity(params.d(), params.d());
}

/// Square roots L of the covariances (Sigma = L L^T), one per compact block, for drawing
/// points: the lower Cholesky factor for `full`/`tied`, the standard deviations for
/// `diagonal`/`spherical`.
inline std::vector<Eigen::MatrixXd> sampling_factors(const MixtureParams& params) {
  std::vector<Eigen::MatrixXd> factors;
  for (const auto& cov : params.covariances) {
    if (params.type == CovarianceType::full || params.type == CovarianceType::tied) {
      factors.emplace_back(Eigen::LLT<Eigen::MatrixXd>(cov).matrixL());
    } else {
      factors.emplace_back(cov.array().sqrt().matrix());
    }
  }
  return factors;
}

/// A point of component j, mu_j + L_j z, from d standard normal values z and the factors of
/// sampling_factors(params).
inline Eigen::RowVectorXd draw(const MixtureParams& params,
                               const std::vector<Eigen::MatrixXd>& factors, Eigen::Index j,
                               const Eigen::VectorXd& z) {
  const Eigen::MatrixXd& L = params.block(factors, j);
  Eigen::RowVectorXd x = params.means.row(j);
  switch (params.type) {
    case CovarianceType::full:
    case CovarianceType::tied:
      x += (L.triangularView<Eigen::Lower>() * z).transpose();
      break;
    case CovarianceType::diagonal:
      x += L.col(0).cwiseProduct(z).transpose();
      break;
    case CovarianceType::spherical:
      x += L(0, 0) * z.transpose();
      break;
  }
  return x;
}

/// n points drawn from the mixture (n x d, in double) and the component of each: a
/// component chosen by its weight, then mu_j + L_j z, or -1 for the noise component and a
/// point uniform in its box. Depends only on the parameters and the state of `rng`.
inline std::pair<Eigen::MatrixXd, Eigen::VectorXi> draw_samples(const MixtureParams& params,
                                                                const NoiseBox& box, Eigen::Index n,
                                                                Random& rng) {
  const Eigen::Index k = params.k(), d = params.d();
  const std::vector<Eigen::MatrixXd> factors = sampling_factors(params);
  Eigen::VectorXd cumulative(k + 1);
  double acc = 0;
  for (Eigen::Index j = 0; j < k; ++j) cumulative(j) = (acc += params.weights(j));
  cumulative(k) = (acc += params.noise_weight);
  Eigen::MatrixXd X(n, d);
  Eigen::VectorXi labels(n);
  Eigen::VectorXd z(d);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double u = rng.uniform() * acc;
    Eigen::Index j = 0;
    while (j < k && !(u < cumulative(j))) ++j;
    if (j == k && !(params.noise_weight > 0)) j = k - 1;  // rounding at the top end
    if (j == k) {
      for (Eigen::Index f = 0; f < d; ++f) X(i, f) = rng.uniform(box.low(f), box.high(f));
      labels(i) = -1;
      continue;
    }
    for (Eigen::Index f = 0; f < d; ++f) z(f) = rng.normal();
    X.row(i) = draw(params, factors, j, z);
    labels(i) = static_cast<int>(j);
  }
  return {std::move(X), std::move(labels)};
}

}  // namespace emcluster::detail
