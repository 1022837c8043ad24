/// @file detail/mixture_scores.hpp
/// @brief The numbers of a fitted GaussianMixtureSearch candidate: log-likelihood, BIC, AIC
/// and ICL, whose classification term is summed by blocks of rows (no n x k matrix).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

#include "../exceptions.hpp"
#include "../search_types.hpp"
#include "validation.hpp"

namespace emcluster::detail {

/// Rows per predict_proba call when the ICL's term is summed: large enough for the
/// probabilities' own pass to run on every thread, small enough that the block's
/// probabilities (rows x (k + 1)) stay a few megabytes.
inline constexpr Eigen::Index kPosteriorBlockRows = 65536;

/// sum_i log max_j z_ij over the rows of X, z the model's posterior probabilities (the noise
/// column included), computed by blocks of kPosteriorBlockRows rows: no n x k matrix.
/// Blocks are summed in row order, so the result does not depend on the thread count.
template <typename Model, typename Derived>
double sum_log_max_posterior(const Model& model, const Eigen::MatrixBase<Derived>& X) {
  double total = 0;
  for (Eigen::Index begin = 0; begin < X.rows(); begin += kPosteriorBlockRows) {
    const Eigen::Index rows = std::min(kPosteriorBlockRows, X.rows() - begin);
    const auto proba = model.predict_proba(X.middleRows(begin, rows));
    total += proba.rowwise().maxCoeff().template cast<double>().array().log().sum();
  }
  return total;
}

/// Fills the numbers of a fitted candidate's row (n_parameters, log_likelihood, bic, icl,
/// aic, noise_weight, n_iter, converged) and its criterion, over the rows of every process of
/// the reducer (each process's two sums, the log-likelihood and the ICL's term, summed over
/// the processes; a process without rows adds zeros).
/// @throws emcluster::numerical_error when the criterion is not finite.
template <typename Model, typename Derived, typename Reducer>
void score_mixture(const Eigen::MatrixBase<Derived>& X, const Model& model,
                   SelectionCriterion criterion, MixtureCandidate& row, const Reducer& reducer) {
  const double n = static_cast<double>(reducer.total_rows());
  const double p = static_cast<double>(model.n_parameters());
  double sums[2] = {0.0, 0.0};  // log-likelihood, sum_i log max_j z_ij
  if (X.rows() > 0) {
    sums[0] = model.score(X) * static_cast<double>(X.rows());
    sums[1] = sum_log_max_posterior(model, X);
  }
  reducer.sum(sums, 2);
  row.n_parameters = model.n_parameters();
  row.log_likelihood = sums[0];
  row.bic = -2.0 * row.log_likelihood + p * std::log(n);
  row.aic = -2.0 * row.log_likelihood + 2.0 * p;
  row.icl = row.bic - 2.0 * sums[1];
  row.noise_weight = model.noise_weight();
  row.n_iter = model.n_iter();
  row.converged = model.converged();
  switch (criterion) {
    case SelectionCriterion::bic:
      row.criterion = row.bic;
      break;
    case SelectionCriterion::icl:
      row.criterion = row.icl;
      break;
    case SelectionCriterion::aic:
      row.criterion = row.aic;
      break;
  }
  if (!std::isfinite(row.criterion)) {
    throw numerical_error(message("GaussianMixtureSearch::fit: the ", criterion_name(criterion),
                                  " of the fitted model is not finite"));
  }
}

}  // namespace emcluster::detail
