/// @file detail/mixture_mstep.hpp
/// @brief The M-step of a Gaussian mixture: new weights, means, covariances and precision
/// Cholesky factors from the combined sufficient statistics of an EM pass (m_step).
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <limits>
#include <utility>

#include "../options.hpp"
#include "mixture_params.hpp"
#include "mixture_stats.hpp"

namespace emcluster::detail {

/// Added to every responsibility sum before dividing by it (scikit-learn adds the same
/// 10 * machine epsilon): a component that received no responsibility keeps finite means,
/// a covariance of reg_covar times the identity, and a tiny positive weight.
inline constexpr double kResponsibilityFloor = 10 * std::numeric_limits<double>::epsilon();

/// The M-step: new weights, means and covariances (plus reg_covar on the diagonal) from the
/// combined statistics (taken around `shifts`, the means of the pass, and `reference`, the
/// tied centring point), and their precision Cholesky factors. Throws numerical_error naming
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
inline MixtureParams m_step(const MixtureStats& s, const Eigen::MatrixXd& shifts,
                            const Eigen::RowVectorXd& reference, double reg_covar, bool noise,
                            const char* where) {
  const Eigen::Index k = shifts.rows(), d = shifts.cols();
  const CovarianceType type = s.type;
  const auto resp_sum = s.resp_sum();
  const auto first = s.first();
  MixtureParams p;
  p.type = type;
  const Eigen::VectorXd nk = resp_sum.array() + kResponsibilityFloor;
  const double noise_nk = noise ? s.noise_resp_sum() + kResponsibilityFloor : 0.0;
  const double total = nk.sum() + noise_nk;
  p.weights = nk / total;
  p.noise_weight = noise ? noise_nk / total : 0.0;
  p.means.resize(k, d);
  for (Eigen::Index j = 0; j < k; ++j) p.means.row(j) = shifts.row(j) + first.row(j) / nk(j);

  switch (type) {
    case CovarianceType::full:
      for (Eigen::Index j = 0; j < k; ++j) {
        // With d = F / nk and N = nk - floor: S - F d^T - d F^T + N d d^T = S - a F F^T.
        const double a = (2.0 - resp_sum(j) / nk(j)) / nk(j);
        const Eigen::RowVectorXd f = first.row(j);
        Eigen::MatrixXd cov = s.second(j).selfadjointView<Eigen::Lower>();
        cov.noalias() -= a * (f.transpose() * f);
        cov /= nk(j);
        cov.diagonal().array() += reg_covar;
        p.covariances.push_back(std::move(cov));
      }
      break;
    case CovarianceType::tied: {
      Eigen::MatrixXd cov = s.second(0).selfadjointView<Eigen::Lower>();
      Eigen::MatrixXd cross = Eigen::MatrixXd::Zero(d, d);
      for (Eigen::Index j = 0; j < k; ++j) {
        // A_j = sum r (x - c) = F_j + N_j (s_j - c); e_j = mu_j - c.
        const Eigen::RowVectorXd a = first.row(j) + resp_sum(j) * (shifts.row(j) - reference);
        const Eigen::RowVectorXd e = p.means.row(j) - reference;
        cross.noalias() += a.transpose() * e;
        cov.noalias() += resp_sum(j) * (e.transpose() * e);
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
        const double a = (2.0 - resp_sum(j) / nk(j)) / nk(j);
        // Rounding can leave a tiny negative where the spread is zero: a variance is >= 0.
        const Eigen::VectorXd var =
            ((s.second(0).row(j).array() - a * first.row(j).array().square()) / nk(j))
                .max(0.0)
                .transpose();
        if (type == CovarianceType::diagonal) {
          p.covariances.push_back((var.array() + reg_covar).matrix());
        } else {
          p.covariances.push_back(Eigen::MatrixXd::Constant(1, 1, var.mean() + reg_covar));
        }
      }
      break;
  }
  for (std::size_t b = 0; b < p.covariances.size(); ++b) {
    p.precisions_cholesky.push_back(precision_cholesky_from_covariance(
        p.covariances[b], type, static_cast<Eigen::Index>(b), reg_covar, where));
  }
  return p;
}

}  // namespace emcluster::detail
