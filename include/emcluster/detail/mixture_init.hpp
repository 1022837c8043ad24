/// @file detail/mixture_init.hpp
/// @brief Starting parameters of a Gaussian mixture (GaussianMixtureInit): a hard assignment
/// (KMeans labels, or every sample to its nearest k-means++ centre, random sample or given
/// mean) or random responsibilities, each followed by one M-step; then the caller's
/// initial_weights, initial_means and initial_precisions in place of what was computed.
/// Every random choice is drawn from the restart's detail::Random.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <utility>
#include <vector>

#include "../kmeans.hpp"
#include "../options.hpp"
#include "column_stats.hpp"
#include "kmeans_init.hpp"
#include "mixture_mstep.hpp"
#include "mixture_params.hpp"
#include "mixture_stats.hpp"
#include "nearest_center.hpp"
#include "parallel.hpp"
#include "random.hpp"
#include "reducer.hpp"

namespace emcluster::detail {

/// The nearest of the k means (k x d, in double) for every row of X, by the K-means
/// nearest-centre kernel (ties to the lowest index).
template <typename Derived>
Eigen::VectorXi nearest_means(const Eigen::MatrixBase<Derived>& X, const Eigen::MatrixXd& means) {
  using Scalar = typename Derived::Scalar;
  return nearest_centers(X, PreparedCenters<Scalar>(means), AssignKernel::automatic);
}

/// Parameters from a hard assignment by one M-step: every row entirely to the component of
/// its label (in [0, k)), moments taken around the k centres (k x d).
template <typename Derived, typename Reducer>
MixtureParams params_from_labels(const Eigen::MatrixBase<Derived>& X, const double* w,
                                 CovarianceType type, const Eigen::MatrixXd& centres,
                                 const Eigen::VectorXi& labels, double reg_covar, const char* where,
                                 const Reducer& reducer) {
  const Eigen::Index k = centres.rows();
  const Eigen::RowVectorXd reference = centres.colwise().mean();
  MixtureStats stats =
      accumulate_pass(X, w, type, centres, reference,
                      [&](std::size_t, Eigen::Index begin, Eigen::Index end, const Eigen::MatrixXd&,
                          Eigen::MatrixXd& resp, Eigen::VectorXd&, EmWorkspace&) {
                        resp.setZero(end - begin, k);
                        for (Eigen::Index i = begin; i < end; ++i) resp(i - begin, labels(i)) = 1.0;
                      });
  sum_over_processes(stats, reducer);
  return m_step(stats, centres, reference, reg_covar, false, where);
}

/// Parameters from uniform random responsibilities, normalised per row, by one M-step
/// (scikit-learn's init "random"). Each chunk of rows draws from its own stream, seeded from
/// `rng` in chunk order, so the result does not depend on the threads.
template <typename Derived>
MixtureParams params_from_random_responsibilities(const Eigen::MatrixBase<Derived>& X,
                                                  const double* w, CovarianceType type,
                                                  Eigen::Index k, double reg_covar, Random& rng,
                                                  const char* where) {
  // Every component's shift is the data's mean: random responsibilities put every initial
  // mean close to it.
  const Eigen::MatrixXd centres = weighted_column_mean(X, w).replicate(k, 1);
  const auto n_chunks = stats_chunks(X.rows(), type, k, X.cols()).size();
  std::vector<Random> streams;
  for (std::size_t c = 0; c < n_chunks; ++c) streams.emplace_back(rng.child_seed());
  const Eigen::RowVectorXd reference = centres.colwise().mean();
  const MixtureStats stats = accumulate_pass(
      X, w, type, centres, reference,
      [&](std::size_t c, Eigen::Index begin, Eigen::Index end, const Eigen::MatrixXd&,
          Eigen::MatrixXd& resp, Eigen::VectorXd&, EmWorkspace&) {
        Random& g = streams[c];
        resp.resize(end - begin, k);
        for (Eigen::Index i = 0; i < end - begin; ++i) {
          for (Eigen::Index j = 0; j < k; ++j) resp(i, j) = g.uniform();
          const double s = resp.row(i).sum();
          if (s > 0) {
            resp.row(i) /= s;
          } else {
            resp.row(i).setConstant(1.0 / static_cast<double>(k));
          }
        }
      });
  return m_step(stats, centres, reference, reg_covar, false, where);
}

/// Parameters computed from the data by the initialisation `o.init` (o: the options of
/// GaussianMixture<Scalar>, X of that Scalar), on the rows of every process (reducer):
/// random_responsibilities draws per chunk of rows, so it is not offered across processes.
template <typename Options, typename Derived, typename Reducer>
MixtureParams init_from_data(const Options& o, const Eigen::MatrixBase<Derived>& X, const double* w,
                             Random& rng, const char* where, const Reducer& reducer) {
  using Scalar = typename Derived::Scalar;
  const Eigen::Index k = o.n_components, n = X.rows();
  const CovarianceType type = o.covariance_type;
  Eigen::MatrixXd centres;
  Eigen::VectorXi labels;
  switch (o.init) {
    case GaussianMixtureInit::kmeans: {
      typename KMeans<Scalar>::Options ko;
      ko.n_clusters = k;
      ko.n_init = 1;  // one KMeans run per restart, as scikit-learn
      // Plain Lloyd, as scikit-learn's start: the same centres as Hamerly's exact pruning, and
      // no per-row bound beside the labels (4 bytes per row fewer at the fit's peak).
      ko.algorithm = KMeansAlgorithm::lloyd;
      ko.seed = rng.child_seed();
      KMeans<Scalar> km(ko);
      if constexpr (Reducer::kDistributed) {
        // The weights were checked and normalised by the mixture's fit.
        FitAccess::fit(km, X, w, 0, reducer);
      } else if (w) {
        km.fit(X, Eigen::Map<const Eigen::VectorXd>(w, n));
      } else {
        km.fit(X);
      }
      // km's own labels, not a copy: an n-int copy would be the fit's peak memory.
      return params_from_labels(X, w, type, km.cluster_centers().template cast<double>(),
                                km.labels(), o.reg_covar, where, reducer);
    }
    case GaussianMixtureInit::kmeans_plus_plus:
      centres = kmeans_plus_plus(X, w, k, 0, rng, reducer);
      labels = nearest_means(X, centres);
      break;
    case GaussianMixtureInit::random_points:
      centres = random_samples_init(X, k, rng, reducer);
      labels = nearest_means(X, centres);
      break;
    case GaussianMixtureInit::explicit_parameters:
      centres = o.initial_means.template cast<double>();
      labels = nearest_means(X, centres);
      break;
    case GaussianMixtureInit::random_responsibilities:
      if constexpr (Reducer::kDistributed) {
        fail(where,
             "init = random_responsibilities is not offered for a distributed fit (its draws "
             "depend on the rows of each process); use kmeans or kmeans_plus_plus");
      } else {
        return params_from_random_responsibilities(X, w, type, k, o.reg_covar, rng, where);
      }
  }
  return params_from_labels(X, w, type, centres, labels, o.reg_covar, where, reducer);
}

/// A restart's starting parameters: the initialisation (skipped when initial_weights,
/// initial_means and initial_precisions are all given), then the caller's initial_*, then
/// the noise component's initial weight.
template <typename Options, typename Derived, typename Reducer>
MixtureParams initial_parameters(const Options& o, const Eigen::MatrixBase<Derived>& X,
                                 const double* w, Random& rng, const char* where,
                                 const Reducer& reducer) {
  const bool all_given =
      o.initial_weights.size() != 0 && o.initial_means.size() != 0 && !o.initial_precisions.empty();
  MixtureParams p;
  p.type = o.covariance_type;
  if (!all_given) p = init_from_data(o, X, w, rng, where, reducer);
  if (o.initial_weights.size() != 0) p.weights = o.initial_weights.template cast<double>();
  if (o.initial_means.size() != 0) p.means = o.initial_means.template cast<double>();
  if (!o.initial_precisions.empty()) {
    p.covariances.clear();
    p.precisions_cholesky.clear();
    for (std::size_t b = 0; b < o.initial_precisions.size(); ++b) {
      p.precisions_cholesky.push_back(
          precision_cholesky_from_precision(o.initial_precisions[b].template cast<double>(), p.type,
                                            static_cast<Eigen::Index>(b), where));
    }
  }
  p.noise_weight = 0;
  if (o.noise_component) {
    p.weights *= 1.0 - o.initial_noise_weight;
    p.noise_weight = o.initial_noise_weight;
  }
  return p;
}

}  // namespace emcluster::detail
