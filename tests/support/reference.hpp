// Plain reference implementations the estimators are held to: explicit loops, exact
// arithmetic in double, no blocking, no threads, no shortcuts. Slow, and meant to be obvious.
#pragma once

#include <Eigen/Core>

#include <vector>

namespace emcluster_test {

// ---- K-means ------------------------------------------------------------------------------

/// ||X.row(i) - C.row(j)||^2, summed feature by feature.
double sq_dist(const Eigen::MatrixXd& X, Eigen::Index i, const Eigen::MatrixXd& C, Eigen::Index j);

/// The nearest row of C to X.row(i), the lower index on ties.
int nearest(const Eigen::MatrixXd& X, Eigen::Index i, const Eigen::MatrixXd& C);

/// A run of reference_lloyd, with its whole trajectory.
struct LloydRun {
  Eigen::MatrixXd centers;
  Eigen::VectorXi labels;
  double inertia = 0;
  int n_iter = 0;
  bool converged = false;
  int relocations = 0;           ///< empty clusters re-seeded, over all iterations
  std::vector<double> inertias;  ///< inertia of every iteration's assignment
  std::vector<double> shifts;    ///< total squared centre shift of every iteration
};

/// scikit-learn's Lloyd loop from the initial centres C (w empty: every weight 1): assign,
/// sum, move every empty cluster to the sample farthest from its own centre (farthest first,
/// ties to the lower index, zero-weight samples never), update; stop on unchanged labels or
/// a total squared shift <= tol * mean feature variance (unweighted), or after max_iter;
/// then assign once more to the final centres.
LloydRun reference_lloyd(const Eigen::MatrixXd& X, const Eigen::VectorXd& w, Eigen::MatrixXd C,
                         double tol, int max_iter);

// ---- Gaussian mixtures --------------------------------------------------------------------

/// A mixture's parameters as plain full matrices (whatever the covariance type), with an
/// optional uniform noise component on the box [noise_low, noise_high].
struct MixtureParameters {
  Eigen::VectorXd weights;
  Eigen::MatrixXd means;  ///< k x d
  std::vector<Eigen::MatrixXd> covariances;
  double noise_weight = 0;
  Eigen::VectorXd noise_low, noise_high;  ///< empty without a noise component
};

/// log N(x | mean, cov), from the Cholesky factor of cov (symmetric positive definite).
double gaussian_log_density(const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& mean,
                            const Eigen::MatrixXd& cov);

/// log of the mixture density at x: log(sum_j w_j N(x | mu_j, S_j) + noise), summed in
/// linear space (so it underflows where the estimator must not).
double mixture_log_density(const MixtureParameters& m, const Eigen::RowVectorXd& x);

/// The posterior probability of component j at x: w_j N(x | mu_j, S_j) / p(x).
double posterior(const MixtureParameters& m, const Eigen::RowVectorXd& x, Eigen::Index j);

}  // namespace emcluster_test
