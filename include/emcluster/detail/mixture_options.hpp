/// @file detail/mixture_options.hpp
/// @brief Validation of GaussianMixture's options against the data they will fit
/// (check_mixture_options): ranges, sizes of the initial parameters, the noise box.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstddef>

#include "../options.hpp"
#include "mixture_params.hpp"
#include "validation.hpp"

namespace emcluster::detail {

/// Throws std::invalid_argument naming `where`, the option and the sizes involved when the
/// options (GaussianMixture<Scalar>::Options) cannot fit n samples of d features.
template <typename Options>
void check_mixture_options(const Options& o, Eigen::Index n, Eigen::Index d, const char* where) {
  const Eigen::Index k = o.n_components;
  if (k < 1) fail(where, "n_components = ", k, " must be at least 1");
  if (!(o.tol >= 0) || !std::isfinite(o.tol)) {
    fail(where, "tol = ", o.tol, " must be finite and >= 0");
  }
  if (!(o.reg_covar >= 0) || !std::isfinite(o.reg_covar)) {
    fail(where, "reg_covar = ", o.reg_covar, " must be finite and >= 0");
  }
  if (o.max_iter < 1) fail(where, "max_iter = ", o.max_iter, " must be at least 1");
  if (o.n_init < 1) fail(where, "n_init = ", o.n_init, " must be at least 1");
  if (n < k) fail(where, "X has ", n, " samples, fewer than n_components = ", k);
  if (o.initial_weights.size() != 0) {
    if (o.initial_weights.size() != k) {
      fail(where, "initial_weights has ", o.initial_weights.size(),
           " entries but n_components = ", k);
    }
    double sum = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      const double v = static_cast<double>(o.initial_weights(j));
      if (!std::isfinite(v) || v < 0 || v > 1) {
        fail(where, "initial_weights[", j, "] = ", v, " is not in [0, 1]");
      }
      sum += v;
    }
    if (std::abs(sum - 1.0) > 1e-6) fail(where, "initial_weights sum to ", sum, ", not 1");
  }
  if (o.initial_means.size() != 0) {
    if (o.initial_means.rows() != k || o.initial_means.cols() != d) {
      fail(where, "initial_means is ", o.initial_means.rows(), " x ", o.initial_means.cols(),
           " but must be n_components x n_features = ", k, " x ", d);
    }
    check_data(where, "initial_means", o.initial_means);
  } else if (o.init == GaussianMixtureInit::explicit_parameters) {
    fail(where, "init = explicit_parameters needs initial_means (", k, " x ", d, ")");
  }
  if (!o.initial_precisions.empty()) {
    const CovarianceType type = o.covariance_type;
    const auto blocks = static_cast<std::size_t>(covariance_blocks(type, k));
    if (o.initial_precisions.size() != blocks) {
      fail(where, "initial_precisions has ", o.initial_precisions.size(), " blocks but a ",
           covariance_type_name(type), " mixture of ", k, " components needs ", blocks);
    }
    const Eigen::Index rows = type == CovarianceType::spherical ? 1 : d;
    const Eigen::Index cols =
        (type == CovarianceType::full || type == CovarianceType::tied) ? d : 1;
    for (std::size_t b = 0; b < blocks; ++b) {
      const auto& P = o.initial_precisions[b];
      if (P.rows() != rows || P.cols() != cols) {
        fail(where, "initial_precisions[", b, "] is ", P.rows(), " x ", P.cols(), " but a ",
             covariance_type_name(type), " precision block must be ", rows, " x ", cols);
      }
      if (!P.allFinite()) fail(where, "initial_precisions[", b, "] has a non-finite entry");
      if (cols == d && d > 1) {
        const Eigen::MatrixXd Pd = P.template cast<double>();
        const double asym = (Pd - Pd.transpose()).cwiseAbs().maxCoeff();
        if (asym > 1e-8 + 1e-5 * Pd.cwiseAbs().maxCoeff()) {
          fail(where, "initial_precisions[", b, "] is not symmetric (max |P - P^T| = ", asym, ")");
        }
      }
    }
  }
  if (o.noise_component) {
    if (!(o.initial_noise_weight > 0 && o.initial_noise_weight < 1)) {
      fail(where, "initial_noise_weight = ", o.initial_noise_weight, " must be in (0, 1)");
    }
    if (o.noise_low.size() != o.noise_high.size()) {
      fail(where, "noise_low has ", o.noise_low.size(), " entries but noise_high has ",
           o.noise_high.size());
    }
    if (o.noise_low.size() != 0) {
      if (o.noise_low.size() != d) {
        fail(where, "noise_low and noise_high have ", o.noise_low.size(), " entries but X has ", d,
             " features");
      }
      for (Eigen::Index f = 0; f < d; ++f) {
        if (!std::isfinite(o.noise_low(f)) || !std::isfinite(o.noise_high(f)) ||
            !(o.noise_low(f) < o.noise_high(f))) {
          fail(where, "the noise box needs finite noise_low[", f, "] < noise_high[", f, "], got ",
               o.noise_low(f), " and ", o.noise_high(f));
        }
      }
    }
  }
}

}  // namespace emcluster::detail
