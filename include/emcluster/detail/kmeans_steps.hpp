/// @file detail/kmeans_steps.hpp
/// @brief The Lloyd-step policies of KMeans: plain Lloyd passes and Hamerly's bounds behind
/// one interface, so that the run loop (kmeans_run.hpp) is written once.
///
/// A step policy is a class with these members (X any Eigen expression of the data, w the
/// sample weights or nullptr, C the current centres, labels one int per sample):
///
///     LloydStats assign(X, w, C, labels)   // E-step: labels for centres C (labels holds the
///                                          // previous ones, -1 before the first step) and
///                                          // the statistics of the new assignment: sums,
///                                          // weights, changed; inertia, or NaN where the
///                                          // step does not compute it
///     void relocated()                     // the caller changed the statistics behind the
///                                          // step's back (empty clusters were relocated)
///     void moved(from, to)                 // the centres moved (k x d in double)
///     double label(X, w, C, labels)        // final labels and exact inertia for fixed C
///
/// assign() accumulates statistics per chunk of rows and combines them in chunk order; the
/// caller then updates the centres from them (updated_centers). A step whose statistics are
/// summed across processes wraps a local step and reduces LloydStats::data() after assign().
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <limits>
#include <utility>

#include "../options.hpp"
#include "kmeans_hamerly.hpp"
#include "lloyd_pass.hpp"
#include "lloyd_stats.hpp"
#include "nearest_center.hpp"

namespace emcluster::detail {

/// Plain Lloyd steps: every sample's distances to every centre in every iteration.
template <typename Scalar>
class LloydStep {
 public:
  explicit LloydStep(AssignKernel kernel) : kernel_(kernel) {}

  template <typename Derived>
  LloydStats assign(const Eigen::MatrixBase<Derived>& X, const double* w,
                    const PreparedCenters<Scalar>& C, int* labels) {
    return lloyd_pass(X, w, C, labels, true, kernel_);
  }
  void relocated() {}
  template <typename A, typename B>
  void moved(const A&, const B&) {}
  template <typename Derived>
  double label(const Eigen::MatrixBase<Derived>& X, const double* w,
               const PreparedCenters<Scalar>& C, int* labels) const {
    return lloyd_pass(X, w, C, labels, false, kernel_).inertia();
  }

 protected:
  AssignKernel kernel_;
};

/// Hamerly's steps: one bound per sample skips the samples whose nearest centre cannot have
/// changed; the statistics are running sums updated by the samples that change cluster
/// (kmeans_hamerly.hpp). The inertia of an assignment is not computed (NaN). The final
/// labelling is a plain pass (label() of LloydStep).
template <typename Scalar>
class HamerlyStep : public LloydStep<Scalar> {
 public:
  /// A step for n samples, k centres and d features.
  HamerlyStep(Eigen::Index n, Eigen::Index k, Eigen::Index d, AssignKernel kernel)
      : LloydStep<Scalar>(kernel), state_(n, k, d) {}

  template <typename Derived>
  LloydStats assign(const Eigen::MatrixBase<Derived>& X, const double* w,
                    const PreparedCenters<Scalar>& C, int* labels) {
    const Eigen::Index changed = hamerly_pass(X, w, C, labels, state_, this->kernel_);
    LloydStats stats(C.k(), C.d());
    stats.sums() = state_.sums;
    stats.weights() = state_.weights;
    stats.inertia() = std::numeric_limits<double>::quiet_NaN();
    stats.changed() = static_cast<double>(changed);
    return stats;
  }
  /// Relocated samples leave the running sums out of step with the labels: the next pass
  /// rebuilds them.
  void relocated() { state_.rebuild = true; }
  /// Every bound shrinks by the movement of its centre and the largest other movement.
  template <typename A, typename B>
  void moved(const A& from, const B& to) {
    state_.centres_moved(from, to);
  }

 private:
  HamerlyState state_;
};

/// Resolves KMeansAlgorithm::automatic (to lloyd or hamerly) for k centres, d features of
/// scalar_bytes each, and whether a callback wants every iteration's inertia: Hamerly when
/// one float per sample is at most a tenth of a sample's data.
inline KMeansAlgorithm choose_algorithm(KMeansAlgorithm requested, Eigen::Index k, Eigen::Index d,
                                        std::size_t scalar_bytes, bool wants_inertia) {
  if (requested != KMeansAlgorithm::automatic) return requested;
  const bool hamerly =
      k > 1 && d * Eigen::Index(scalar_bytes) >= 10 * Eigen::Index(sizeof(float)) && !wants_inertia;
  return hamerly ? KMeansAlgorithm::hamerly : KMeansAlgorithm::lloyd;
}

}  // namespace emcluster::detail
