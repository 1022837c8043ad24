/// @file detail/mixture_starts.hpp
/// @brief Where the EM fits of a GaussianMixtureSearch start: the initial means shared by
/// every candidate with the same k (the data's mean for k = 1, else one KMeans per start, on
/// a random subset of the rows for large data), and the options that continue a fitted
/// candidate's EM from its own parameters (its refinement). Written against a reducer
/// (detail/reducer.hpp), so that the same code starts a search on one process or on the
/// rows of many (emcluster/mpi.hpp).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "../gaussian_mixture.hpp"
#include "../kmeans.hpp"
#include "mixture_params.hpp"
#include "parallel.hpp"
#include "random.hpp"
#include "reducer.hpp"
#include "search_results.hpp"

namespace emcluster::detail {

/// m rows drawn uniformly without replacement from the rows of every process of the
/// reducer, in their global order (selection sampling over the global row numbers: row i is
/// taken with probability (still needed) / (rows left)). Every process runs the same draws,
/// fills in the rows it owns and shares them (x + 0 + ... + 0 = x: every row exactly), so
/// every process returns the same m x d matrix, the one a single process holding the
/// concatenated rows draws. LocalReducer: one process owns every row, nothing is shared.
template <typename Derived, typename Reducer>
typename GaussianMixture<typename Derived::Scalar>::Matrix random_rows(
    const Eigen::MatrixBase<Derived>& X, Eigen::Index m, std::uint64_t seed,
    const Reducer& reducer) {
  using Matrix = typename GaussianMixture<typename Derived::Scalar>::Matrix;
  Random rng(seed);
  Matrix out = Matrix::Zero(m, X.cols());
  const Eigen::Index n = reducer.total_rows();
  const Eigen::Index lo = reducer.row_offset(), hi = lo + X.rows();
  Eigen::Index taken = 0;
  for (Eigen::Index i = 0; i < n && taken < m; ++i) {
    if (rng.uniform() * static_cast<double>(n - i) < static_cast<double>(m - taken)) {
      if (i >= lo && i < hi) out.row(taken) = X.row(i - lo);
      ++taken;
    }
  }
  if constexpr (Reducer::kDistributed) {
    Eigen::MatrixXd shared = out.template cast<double>();
    share_owned_rows(reducer, shared);
    out = shared.template cast<typename Derived::Scalar>();
  }
  return out;
}

/// Mean of every column as one row (1 x d) over the rows of every process: chunk sums in
/// double, added in chunk order, then summed over the processes.
template <typename Derived, typename Reducer>
Eigen::MatrixXd mean_row(const Eigen::MatrixBase<Derived>& X, const Reducer& reducer) {
  const auto chunks = make_chunks(X.rows(), 0);
  std::vector<Eigen::RowVectorXd> sums(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    sums[c] = X.middleRows(chunk.begin, chunk.size()).template cast<double>().colwise().sum();
  });
  Eigen::RowVectorXd total = Eigen::RowVectorXd::Zero(X.cols());
  for (const auto& s : sums) total += s;
  reducer.sum(total.data(), static_cast<std::size_t>(total.size()));
  return total / static_cast<double>(reducer.total_rows());
}

/// The initial means of every start for k components: the data's mean for k = 1, else the
/// centres of one KMeans per start (n_init starts, each with kmeans_n_init restarts and the
/// seed candidate_seed(seed, k, start)), on m = max(init_sample_size, 64 k) random rows
/// when X has at least 2 m (init_sample_size 0: always every row). Over the rows of every
/// process of the reducer: the subset is drawn from the global rows and shared, and its
/// KMeans runs on every process alike (the same bits as on one process); without a subset
/// the KMeans is the distributed one.
template <typename Derived, typename Reducer>
std::vector<Eigen::MatrixXd> initial_means(const Eigen::MatrixBase<Derived>& X, Eigen::Index k,
                                           int n_init, int kmeans_n_init,
                                           Eigen::Index init_sample_size, std::uint64_t seed,
                                           const Reducer& reducer) {
  using Scalar = typename Derived::Scalar;
  std::vector<Eigen::MatrixXd> starts;
  if (k == 1) {
    starts.push_back(mean_row(X, reducer));
    return starts;
  }
  const Eigen::Index m = std::max<Eigen::Index>(init_sample_size, 64 * k);
  const bool sample = init_sample_size > 0 && reducer.total_rows() >= 2 * m;
  for (int s = 0; s < n_init; ++s) {
    const std::uint64_t start_seed = candidate_seed(seed, k, s);
    typename KMeans<Scalar>::Options ko;
    ko.n_clusters = k;
    ko.n_init = kmeans_n_init;
    ko.seed = start_seed;
    KMeans<Scalar> km(ko);
    if (sample) {
      km.fit(random_rows(X, m, splitmix64(start_seed), reducer));
    } else {
      FitAccess::fit(km, X, nullptr, 0, reducer);
    }
    starts.push_back(km.cluster_centers().template cast<double>());
  }
  return starts;
}

/// Options that continue EM from a fitted mixture: every initial parameter is the model's
/// (nothing recomputed from the data), over the same noise box, with the given tol,
/// reg_covar and max_iter.
template <typename Scalar>
typename GaussianMixture<Scalar>::Options continuation_options(const GaussianMixture<Scalar>& from,
                                                               double tol, double reg_covar,
                                                               int max_iter) {
  const Eigen::Index k = from.n_components();
  const CovarianceType type = from.covariance_type();
  typename GaussianMixture<Scalar>::Options go;
  go.n_components = k;
  go.covariance_type = type;
  go.tol = tol;
  go.reg_covar = reg_covar;
  go.max_iter = max_iter;
  go.n_init = 1;
  go.init = GaussianMixtureInit::explicit_parameters;
  const bool noise = from.options().noise_component;
  const double w0 = noise ? std::min(std::max(from.noise_weight(), 1e-12), 1.0 - 1e-12) : 0.0;
  go.initial_weights =
      (from.weights().template cast<double>() / (1.0 - w0)).template cast<Scalar>();
  go.initial_means = from.means();
  const Eigen::Index blocks = covariance_blocks(type, k);
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::MatrixXd P = from.precisions_cholesky(b).template cast<double>();
    Eigen::MatrixXd precision = P * P.transpose();
    precision = 0.5 * (precision + precision.transpose()).eval();
    switch (type) {
      case CovarianceType::full:
      case CovarianceType::tied:
        go.initial_precisions.push_back(precision.template cast<Scalar>());
        break;
      case CovarianceType::diagonal:
        go.initial_precisions.push_back(precision.diagonal().template cast<Scalar>());
        break;
      case CovarianceType::spherical:
        go.initial_precisions.push_back(precision.topLeftCorner(1, 1).template cast<Scalar>());
        break;
    }
  }
  go.noise_component = noise;
  if (noise) {
    go.noise_low = from.noise_low();
    go.noise_high = from.noise_high();
    go.initial_noise_weight = w0;
  }
  return go;
}

}  // namespace emcluster::detail
