/// @file options.hpp
/// @brief The option enums and per-iteration callback records of every estimator: the public
/// names a user spells in an Options struct or a callback, in one small header that includes
/// nothing.
#pragma once

namespace emcluster {

// ---- K-means (KMeans, MiniBatchKMeans) ----

/// How KMeans chooses its initial centres.
enum class KMeansInit {
  kmeans_plus_plus,  ///< greedy k-means++ (default): D^2 sampling, best of several candidates
  random_samples,    ///< k distinct samples drawn uniformly
  random_box,        ///< uniform in the data's bounding box (the article's init; for comparison)
  explicit_centers,  ///< Options::initial_centers, as given
  kmeans_parallel    ///< k-means|| (Bahmani et al. 2012, Spark's default): 5 rounds that each
                     ///< sample about 2k rows with probability proportional to w D(x)^2, then
                     ///< greedy k-means++ on those candidates weighted by their nearest rows.
                     ///< A few passes over the data instead of k: far cheaper for large k
};

/// How KMeans runs each Lloyd iteration. Both give the same labels, iterations and centres
/// (up to the rounding of the sums) from the same start.
enum class KMeansAlgorithm {
  automatic,  ///< hamerly when its bounds take at most a tenth of the data (d * sizeof(Scalar) >=
              ///< 40 bytes) and no callback is set, else lloyd
  lloyd,      ///< every sample's distances to every centre in every iteration
  hamerly     ///< Hamerly's bounds skip samples whose centre cannot change; one float per sample
};

/// How KMeans finds the nearest centre of each sample. Every kernel gives the same labels up
/// to rounding on near-exact ties; the tests hold each one to the plain reference.
enum class AssignKernel {
  automatic,  ///< direct up to 256 features, GEMM beyond (the default)
  direct,  ///< register-blocked loops over tiles of rows and blocks of 8 centres, vectorised across
           ///< rows
  gemm     ///< one matrix product per block of rows (cache-blocked: for many features)
};

/// What the per-iteration callback of KMeans receives.
struct KMeansIteration {
  int restart = 0;            ///< 0-based restart (Options::n_init runs)
  int iteration = 0;          ///< 1-based Lloyd iteration within the restart
  double inertia = 0.0;       ///< sum of w ||x - c||^2 of this iteration's assignment (NaN with
                              ///< KMeansAlgorithm::hamerly, which does not compute it)
  double center_shift = 0.0;  ///< total squared movement of the centres in this iteration
};

/// What the per-step callback of MiniBatchKMeans receives.
struct MiniBatchStep {
  long step = 0;             ///< 1-based mini-batch step
  double batch_inertia = 0;  ///< mean w ||x - c||^2 over the batch, before the update
  double ewa_inertia = 0;    ///< exponentially weighted average of batch_inertia (fit only)
  double center_shift = 0;   ///< total squared movement of the centres in this step
};

// ---- Gaussian mixtures (GaussianMixture) ----

/// Shape of the components' covariance matrices (scikit-learn's `covariance_type`).
enum class CovarianceType {
  full,      ///< every component has its own d x d covariance
  tied,      ///< all components share one d x d covariance
  diagonal,  ///< every component has its own diagonal covariance (d variances)
  spherical  ///< every component has one variance for all features (a multiple of the identity)
};

/// How GaussianMixture chooses its initial parameters (each restart anew).
enum class GaussianMixtureInit {
  kmeans,  ///< hard responsibilities from the labels of one KMeans run (default, as scikit-learn)
  kmeans_plus_plus,         ///< greedy k-means++ centres; every sample to its nearest centre
  random_responsibilities,  ///< uniform random responsibilities, normalised per sample
                            ///< (scikit-learn's "random"): every mean starts near the data's mean,
                            ///< a saddle EM leaves slowly, so with the default tol it may stop
                            ///< there; use a smaller tol or another init
  random_points,            ///< k distinct samples as centres; every sample to its nearest centre
  explicit_parameters       ///< Options::initial_means (required); what is not given comes from the
                            ///< nearest-mean assignment
};

/// What the per-iteration callback of GaussianMixture receives.
struct GaussianMixtureIteration {
  int restart = 0;    ///< 0-based restart (Options::n_init runs)
  int iteration = 0;  ///< 1-based EM iteration within the restart
  double lower_bound =
      0.0;  ///< mean log-likelihood per sample of the parameters this iteration started from
  double change =
      0.0;  ///< lower_bound minus the previous one; +infinity on a fresh restart's first iteration
};

// ---- Metrics ----

/// How the metrics treat the label -1 (noise, as emcluster::make_clusters_with_noise and a
/// mixture's noise component label it).
enum class Noise {
  as_cluster,  ///< -1 is a label like any other: the noise points form one more cluster
               ///< (scikit-learn's behaviour; the default everywhere)
  exclude,     ///< samples labelled -1 are left out before the metric is computed
};

}  // namespace emcluster
