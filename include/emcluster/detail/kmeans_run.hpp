/// @file detail/kmeans_run.hpp
/// @brief One run of K-means from given centres: the iteration loop (assign, relocate empty
/// clusters, M-step, convergence), written once for every step policy (kmeans_steps.hpp).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "../options.hpp"
#include "kmeans_steps.hpp"
#include "lloyd_stats.hpp"
#include "nearest_center.hpp"
#include "parallel.hpp"
#include "reducer.hpp"
#include "sample_rows.hpp"

namespace emcluster::detail {

/// Result of one K-means run, kept apart from the model until the whole fit succeeded.
struct KMeansRun {
  Eigen::MatrixXd centers;                                   ///< k x d final centres
  double inertia = std::numeric_limits<double>::infinity();  ///< of the final labels
  int n_iter = 0;                                            ///< iterations run
  bool converged = false;  ///< stopped on stable labels or the tolerance (not max_iter)
};

/// What stops a run: at most max_iter iterations, or a total squared centre shift at most
/// tol_abs (0: only stable labels stop it early).
struct KMeansStop {
  int max_iter = 300;
  double tol_abs = 0.0;
};

/// Moves every centre without weight to one of the samples farthest from their own
/// (pre-update) centre, taking that sample out of its old cluster's sums; the farthest
/// sample goes to the lowest-numbered empty cluster, ties broken by sample index (the global
/// index: the row offset of this process plus the local one). With several processes each
/// offers its own farthest samples (as many as there are empty clusters) and every process
/// picks the same winners from all offers (a global arg-max), then applies the same changes
/// to the (already global) statistics. Returns whether any centre was empty.
template <typename Derived, typename Scalar, typename Reducer>
bool relocate_empty_clusters(const Eigen::MatrixBase<Derived>& X, const double* w,
                             const int* labels, const PreparedCenters<Scalar>& old,
                             LloydStats& stats, const Reducer& reducer) {
  auto sums = stats.sums();
  auto weights = stats.weights();
  std::vector<Eigen::Index> empty;
  for (Eigen::Index j = 0; j < weights.size(); ++j) {
    if (weights(j) == 0) empty.push_back(j);
  }
  if (empty.empty()) return false;
  // The m farthest samples of positive weight (farthest first, ties by lower index): each
  // chunk keeps its own m farthest in a heap, then the chunks' candidates are merged. O(k)
  // memory per chunk, never O(n); the total order makes the result independent of chunking.
  struct Far {
    double dist;
    Eigen::Index row;
  };
  auto farther = [](const Far& a, const Far& b) {
    return a.dist > b.dist || (a.dist == b.dist && a.row < b.row);
  };
  const Eigen::Index n = X.rows(), d = X.cols();
  const std::size_t m = std::min(empty.size(), static_cast<std::size_t>(n));
  const auto chunks = make_chunks(n, 0);
  std::vector<std::vector<Far>> chunk_far(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    std::vector<Far> top;  // a heap whose front is the nearest of the m kept
    top.reserve(m);
    for (Eigen::Index i = chunk.begin; i < chunk.end; ++i) {
      if (!(weight_of(w, i) > 0)) continue;
      const Far f{squared_distance(X, i, old.centers_d, labels[i]), i};
      if (top.size() < m) {
        top.push_back(f);
        std::push_heap(top.begin(), top.end(), farther);
      } else if (farther(f, top.front())) {
        std::pop_heap(top.begin(), top.end(), farther);
        top.back() = f;
        std::push_heap(top.begin(), top.end(), farther);
      }
    }
    chunk_far[c] = std::move(top);
  });
  std::vector<Far> far;
  for (const auto& top : chunk_far) far.insert(far.end(), top.begin(), top.end());
  std::sort(far.begin(), far.end(), farther);
  if (far.size() > m) far.resize(m);
  // This process's offers, one record each: distance, global index, weight, label, row.
  const std::size_t width = 4 + static_cast<std::size_t>(d);
  std::vector<double> offers;
  offers.reserve(m * width);
  for (const Far& candidate : far) {
    const Eigen::Index i = candidate.row;
    offers.push_back(candidate.dist);
    offers.push_back(static_cast<double>(reducer.row_offset() + i));
    offers.push_back(weight_of(w, i));
    offers.push_back(static_cast<double>(labels[i]));
    for (Eigen::Index f = 0; f < d; ++f) offers.push_back(static_cast<double>(X.coeff(i, f)));
  }
  const std::vector<double> all = reducer.all_gather(std::move(offers));
  std::vector<std::size_t> best(all.size() / width);
  std::iota(best.begin(), best.end(), std::size_t(0));
  if constexpr (Reducer::kDistributed) {  // one process offers its rows in order already
    const std::size_t top = std::min(empty.size(), best.size());
    std::partial_sort(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(top), best.end(),
                      [&](std::size_t a, std::size_t b) {
                        const double da = all[a * width], db = all[b * width];
                        return da > db || (da == db && all[a * width + 1] < all[b * width + 1]);
                      });
    best.resize(top);
  }
  for (std::size_t e = 0; e < best.size() && e < empty.size(); ++e) {
    const double* record = all.data() + best[e] * width;
    const double wi = record[2];
    const Eigen::RowVectorXd xi = wi * Eigen::Map<const Eigen::RowVectorXd>(record + 4, d);
    const auto from = static_cast<Eigen::Index>(record[3]);
    sums.row(from) -= xi;
    weights(from) -= wi;
    sums.row(empty[e]) = xi;
    weights(empty[e]) = wi;
  }
  return true;
}

/// Iterates a step policy from the given centres until the labels are stable, the centres
/// shift by at most stop.tol_abs, or stop.max_iter iterations; then labels every sample for
/// the final centres and computes their inertia. labels (n entries) receives them.
/// on_iteration(iteration, inertia, shift) is called after every iteration (inertia NaN if
/// the step does not compute it). The reducer sums each step's statistics and the final
/// inertia over the processes (LocalReducer: a no-op), so that every process takes the same
/// M-step and stops at the same iteration.
template <typename Step, typename Derived, typename OnIteration, typename Reducer>
KMeansRun run_steps(Step& step, const Eigen::MatrixBase<Derived>& X, const double* w,
                    const Eigen::MatrixXd& centers, const KMeansStop& stop, Eigen::VectorXi& labels,
                    OnIteration&& on_iteration, const Reducer& reducer) {
  using Scalar = typename Derived::Scalar;
  KMeansRun run;
  labels.setConstant(-1);
  PreparedCenters<Scalar> C(centers);
  for (int it = 1; it <= stop.max_iter; ++it) {
    // E-step: the sufficient statistics of this assignment, combined over chunks in order.
    LloydStats stats = step.assign(X, w, C, labels.data());
    reducer.sum(stats.data(), stats.size());
    if (relocate_empty_clusters(X, w, labels.data(), C, stats, reducer)) step.relocated();
    // M-step: every centre with weight moves to its weighted mean.
    const Eigen::MatrixXd updated = updated_centers(stats, C.centers_d);
    const double shift = (updated - C.centers_d).squaredNorm();
    PreparedCenters<Scalar> next(updated);
    step.moved(C.centers_d, next.centers_d);
    C = std::move(next);
    run.n_iter = it;
    on_iteration(it, stats.inertia(), shift);
    if (stats.changed() == 0) {  // strict convergence: labels are final for these centres
      run.converged = true;
      break;
    }
    if (shift <= stop.tol_abs) {
      run.converged = true;
      break;
    }
  }
  // Labels and inertia for the final centres.
  run.inertia = step.label(X, w, C, labels.data());
  reducer.sum(&run.inertia, 1);
  run.centers = C.centers_d;
  return run;
}

/// One K-means run with the step policy of `algorithm` (lloyd or hamerly; resolve automatic
/// with choose_algorithm first), chosen once for the whole run; statistics summed over the
/// processes by the reducer.
template <typename Derived, typename OnIteration, typename Reducer>
KMeansRun run_kmeans(KMeansAlgorithm algorithm, AssignKernel kernel,
                     const Eigen::MatrixBase<Derived>& X, const double* w,
                     const Eigen::MatrixXd& centers, const KMeansStop& stop,
                     Eigen::VectorXi& labels, OnIteration&& on_iteration, const Reducer& reducer) {
  using Scalar = typename Derived::Scalar;
  if (algorithm == KMeansAlgorithm::hamerly) {
    HamerlyStep<Scalar> step(X.rows(), centers.rows(), X.cols(), kernel);
    return run_steps(step, X, w, centers, stop, labels, on_iteration, reducer);
  }
  LloydStep<Scalar> step(kernel);
  return run_steps(step, X, w, centers, stop, labels, on_iteration, reducer);
}

}  // namespace emcluster::detail
