/// @file kmeans.hpp
/// @brief K-means clustering (Lloyd's algorithm) with k-means++ seeding, restarts, sample
/// weights and deterministic multi-threaded passes.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/kmeans_hamerly.hpp"
#include "detail/kmeans_init.hpp"
#include "detail/kmeans_kernels.hpp"
#include "detail/parallel.hpp"
#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"
#include "options.hpp"

namespace emcluster {

/// K-means clustering by Lloyd's algorithm.
///
/// Each iteration assigns every sample to its nearest centre (distances from one GEMM per
/// block of rows, never an n x k matrix), accumulates per-chunk weighted sums in double, and
/// moves every centre to the weighted mean of its samples. A centre left without samples is
/// moved to the sample farthest from its own centre (as scikit-learn does), so k never
/// shrinks. Iteration stops when the labels no longer change, when the total squared centre
/// shift falls to `tol` times the mean per-feature variance of X, or after `max_iter`
/// iterations; the labels are then recomputed from the final centres. With `n_init` > 1 the
/// restart with the lowest inertia wins.
///
/// By default (KMeansAlgorithm::automatic) the iterations use Hamerly's bounds when they are
/// cheap in memory (one float per sample, at most a tenth of the data: d * sizeof(Scalar) >=
/// 40 bytes): a sample whose nearest centre provably cannot have changed is skipped, and only
/// samples that change cluster update the running sums. The labels, iterations and centres
/// are those of plain Lloyd from the same start (centres up to the rounding of the sums); the
/// per-iteration inertia is not computed then (NaN in the callback, so a callback makes
/// automatic choose plain Lloyd). The final inertia is always computed exactly.
///
/// The default `n_init = 0` ("auto") protects against the bad local minima a single
/// k-means++ start can land in (background noise attracting a seed, say) without paying for
/// ten full runs: on large data (n >= 8 m, m = max(4096, 64 k) rows) it runs ten restarts to
/// convergence on a uniform subsample of m rows and seeds one Lloyd run on all the data with
/// the best of them; on smaller data it runs ten full restarts.
///
/// Results depend only on the data, the options and the seed: not on the thread count or the
/// storage order of X. (A build for another SIMD instruction set can differ in the last bits:
/// Eigen's vectorised products group their sums by the vector width.)
///
/// @tparam Scalar `float` or `double`: the scalar type of the data and of the centres.
///         Sums and the inertia are accumulated in double either way.
///
/// @code
/// Eigen::MatrixXd X = ...;                        // n x d, samples in rows
/// emcluster::KMeans<>::Options opts;
/// opts.n_clusters = 3;
/// opts.n_init = 10;
/// opts.seed = 42;
/// emcluster::KMeans<> km(opts);
/// Eigen::VectorXi labels = km.fit_predict(X);
/// double J = km.inertia();
/// Eigen::MatrixXd C = km.cluster_centers();       // 3 x d
/// @endcode
///
/// Errors: std::invalid_argument for bad options or data (non-finite values with their row
/// and column, fewer samples than clusters, wrong sizes, negative weights),
/// emcluster::not_fitted_error for predict/transform/score before fit. A fit that throws
/// leaves the previously fitted model unchanged.
template <typename Scalar = double>
class KMeans {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster::KMeans<Scalar>: Scalar must be float or double");

 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< k x d centres, n x k distances
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  /// Parameters fixed at construction.
  struct Options {
    Eigen::Index n_clusters = 8;                     ///< k, the number of clusters (>= 1)
    KMeansInit init = KMeansInit::kmeans_plus_plus;  ///< how the initial centres are chosen
    Matrix initial_centers;                          ///< k x d, used by KMeansInit::explicit_centers
    int n_init = 0;       ///< restarts, the lowest inertia wins; 0 = auto (see the class notes), >= 1 = that many full runs
    int max_iter = 300;   ///< Lloyd iterations per restart at most (>= 1)
    double tol = 1e-4;    ///< stop when total squared centre shift <= tol * mean feature variance; 0 = only on stable labels
    std::uint64_t seed = 0;  ///< seed of every random choice (init, restarts)
    int n_local_trials = 0;  ///< greedy k-means++ candidates per centre; 0 = 2 + floor(ln k)
    KMeansAlgorithm algorithm = KMeansAlgorithm::automatic;  ///< plain Lloyd steps or Hamerly's bounds
    AssignKernel kernel = AssignKernel::automatic;  ///< nearest-centre kernel (for tests and tuning)
    std::function<void(const KMeansIteration&)> callback;  ///< called after every iteration, if set
  };

  /// A model with default options (k = 8).
  KMeans() = default;
  /// A model with the given options; they are checked by fit().
  explicit KMeans(Options options) : options_(std::move(options)) {}

  /// Fits the centres to X (n x d, samples in rows, every weight 1).
  /// @return *this, to chain `.labels()` or `.predict(...)`.
  template <typename Derived>
  KMeans& fit(const Eigen::MatrixBase<Derived>& X) {
    return fit_impl(X, nullptr);
  }

  /// Fits with a non-negative weight per sample (n entries, positive sum).
  template <typename Derived, typename WDerived>
  KMeans& fit(const Eigen::MatrixBase<Derived>& X, const Eigen::MatrixBase<WDerived>& sample_weight) {
    detail::check_sample_weight("KMeans::fit", sample_weight, X.rows());
    const Eigen::VectorXd w = sample_weight.template cast<double>();
    return fit_impl(X, w.data());
  }

  /// Fits and returns the label of every sample.
  template <typename Derived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X) {
    return fit(X).labels_;
  }
  /// Fits with sample weights and returns the label of every sample.
  template <typename Derived, typename WDerived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X, const Eigen::MatrixBase<WDerived>& sample_weight) {
    return fit(X, sample_weight).labels_;
  }

  /// Index of the nearest centre for every row of X.
  template <typename Derived>
  Eigen::VectorXi predict(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("KMeans::predict", X);
    return detail::nearest_centers(X, prepared_, options_.kernel);
  }

  /// Euclidean distance from every row of X to every centre: an n x k matrix, which the
  /// caller asked for. Exact differences, not the GEMM identity.
  template <typename Derived>
  Matrix transform(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("KMeans::transform", X);
    return detail::center_distances(X, prepared_);
  }

  /// Minus the inertia of X under the fitted centres (higher is better, as scikit-learn).
  template <typename Derived>
  double score(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("KMeans::score", X);
    return -detail::inertia_of(X, nullptr, prepared_, options_.kernel);
  }
  /// Minus the weighted inertia of X under the fitted centres.
  template <typename Derived, typename WDerived>
  double score(const Eigen::MatrixBase<Derived>& X, const Eigen::MatrixBase<WDerived>& sample_weight) const {
    check_new_data("KMeans::score", X);
    detail::check_sample_weight("KMeans::score", sample_weight, X.rows());
    const Eigen::VectorXd w = sample_weight.template cast<double>();
    return -detail::inertia_of(X, w.data(), prepared_, options_.kernel);
  }

  /// The fitted centres, k x d.
  const Matrix& cluster_centers() const {
    detail::check_fitted("KMeans::cluster_centers", fitted_);
    return prepared_.centers;
  }
  /// Label of every training sample (the nearest final centre).
  const Eigen::VectorXi& labels() const {
    detail::check_fitted("KMeans::labels", fitted_);
    return labels_;
  }
  /// Sum of w ||x - c_label||^2 over the training samples, for the final centres.
  double inertia() const {
    detail::check_fitted("KMeans::inertia", fitted_);
    return inertia_;
  }
  /// Lloyd iterations run by the winning restart.
  int n_iter() const { return n_iter_; }
  /// Whether the winning restart stopped on stable labels or on the tolerance (not max_iter).
  bool converged() const { return converged_; }
  /// Whether fit() has succeeded at least once.
  bool is_fitted() const { return fitted_; }
  /// k, from the options.
  Eigen::Index n_clusters() const { return options_.n_clusters; }
  /// Number of features seen by fit() (0 before).
  Eigen::Index n_features() const { return fitted_ ? prepared_.centers.cols() : 0; }
  /// The options given at construction.
  const Options& options() const { return options_; }

 private:
  /// Result of one restart, kept apart from the model until the whole fit succeeded.
  struct Run {
    Eigen::MatrixXd centers;
    double inertia = std::numeric_limits<double>::infinity();
    int n_iter = 0;
    bool converged = false;
  };

  void check_options(Eigen::Index n, Eigen::Index d) const {
    const char* where = "KMeans::fit";
    const auto& o = options_;
    if (o.n_init < 0) detail::fail(where, "n_init = ", o.n_init, " must be >= 0 (0 = auto)");
    if (o.max_iter < 1) detail::fail(where, "max_iter = ", o.max_iter, " must be at least 1");
    if (!(o.tol >= 0) || !std::isfinite(o.tol)) detail::fail(where, "tol = ", o.tol, " must be finite and >= 0");
    if (o.n_local_trials < 0) detail::fail(where, "n_local_trials = ", o.n_local_trials, " must be >= 0");
    detail::check_centers_options(where, o.n_clusters, o.init == KMeansInit::explicit_centers, o.initial_centers, n, d);
  }

  template <typename Derived>
  void check_new_data(const char* where, const Eigen::MatrixBase<Derived>& X) const {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::KMeans<Scalar>: X must have the model's scalar type");
    detail::check_new_data(where, fitted_, X, prepared_.centers.cols());
  }

  template <typename Derived>
  Eigen::MatrixXd initial_centers(const Eigen::MatrixBase<Derived>& X, const double* w, detail::Random& rng) const {
    const Eigen::Index k = options_.n_clusters;
    switch (options_.init) {
      case KMeansInit::kmeans_plus_plus:
        return detail::kmeans_plus_plus(X, w, k, options_.n_local_trials, rng);
      case KMeansInit::random_samples:
        return detail::random_samples_init(X, k, rng);
      case KMeansInit::random_box:
        return detail::random_box_init(X, k, rng);
      case KMeansInit::explicit_centers:
        break;
    }
    return options_.initial_centers.template cast<double>();
  }

  /// Moves every centre without weight to one of the samples farthest from their own
  /// (pre-update) centre, taking that sample out of its old cluster's sums; the farthest
  /// sample goes to the lowest-numbered empty cluster, ties broken by sample index. Returns
  /// whether any centre was empty.
  template <typename Derived>
  static bool relocate_empty_clusters(const Eigen::MatrixBase<Derived>& X, const double* w, const int* labels,
                                      const detail::PreparedCenters<Scalar>& old, detail::LloydStats& stats) {
    std::vector<Eigen::Index> empty;
    for (Eigen::Index j = 0; j < stats.weights.size(); ++j) {
      if (stats.weights(j) == 0) empty.push_back(j);
    }
    if (empty.empty()) return false;
    const Eigen::Index n = X.rows();
    std::vector<double> dist(static_cast<std::size_t>(n));
    const auto chunks = detail::make_chunks(n, 0);
    detail::for_each_chunk(chunks, [&](std::size_t, const detail::Chunk& chunk) {
      for (Eigen::Index i = chunk.begin; i < chunk.end; ++i) {
        dist[static_cast<std::size_t>(i)] =
            detail::weight_of(w, i) > 0 ? detail::squared_distance(X, i, old.centers_d, labels[i]) : -1.0;
      }
    });
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index(0));
    const std::size_t m = std::min(empty.size(), order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(m), order.end(),
                      [&](Eigen::Index a, Eigen::Index b) {
                        const double da = dist[static_cast<std::size_t>(a)], db = dist[static_cast<std::size_t>(b)];
                        return da > db || (da == db && a < b);
                      });
    for (std::size_t e = 0; e < m; ++e) {
      const Eigen::Index i = order[e];
      if (dist[static_cast<std::size_t>(i)] < 0) break;  // only zero-weight samples left
      const double wi = detail::weight_of(w, i);
      const Eigen::RowVectorXd xi = wi * X.row(i).template cast<double>();
      const int from = labels[i];
      stats.sums.row(from) -= xi;
      stats.weights(from) -= wi;
      stats.sums.row(empty[e]) = xi;
      stats.weights(empty[e]) = wi;
    }
    return true;
  }

  /// Whether a fit on d features runs Hamerly's algorithm (KMeansAlgorithm::automatic: when
  /// one float per sample is at most a tenth of a sample's data, and no callback wants every
  /// iteration's inertia).
  bool use_hamerly(Eigen::Index d) const {
    switch (options_.algorithm) {
      case KMeansAlgorithm::lloyd:
        return false;
      case KMeansAlgorithm::hamerly:
        return true;
      case KMeansAlgorithm::automatic:
        break;
    }
    return options_.n_clusters > 1 && d * Eigen::Index(sizeof(Scalar)) >= 10 * Eigen::Index(sizeof(float)) &&
           !options_.callback;
  }

  /// One restart of Lloyd's algorithm from the given centres; labels is scratch of size n.
  template <typename Derived>
  Run lloyd(const Eigen::MatrixBase<Derived>& X, const double* w, Eigen::MatrixXd centers, double tol_abs,
            int restart, Eigen::VectorXi& labels, bool report = true) const {
    Run run;
    labels.setConstant(-1);
    detail::PreparedCenters<Scalar> C(centers);
    std::vector<detail::HamerlyState> hamerly;  // empty: plain Lloyd passes
    if (use_hamerly(X.cols())) hamerly.emplace_back(X.rows(), C.k(), C.d());
    for (int it = 1; it <= options_.max_iter; ++it) {
      // Sufficient statistics of this assignment, combined over chunks in order.
      detail::LloydStats stats;
      if (hamerly.empty()) {
        stats = detail::lloyd_pass(X, w, C, labels.data(), true, options_.kernel);
      } else {
        auto& state = hamerly.front();
        stats.changed = detail::hamerly_pass(X, w, C, labels.data(), state, options_.kernel);
        stats.sums = state.sums;
        stats.weights = state.weights;
        stats.inertia = std::numeric_limits<double>::quiet_NaN();
      }
      // Relocated samples leave the running sums out of step with the labels: rebuild them.
      if (relocate_empty_clusters(X, w, labels.data(), C, stats) && !hamerly.empty()) hamerly.front().rebuild = true;
      // M-step: every centre with weight moves to its weighted mean.
      Eigen::MatrixXd updated = C.centers_d;
      for (Eigen::Index j = 0; j < updated.rows(); ++j) {
        if (stats.weights(j) > 0) updated.row(j) = stats.sums.row(j) / stats.weights(j);
      }
      const double shift = (updated - C.centers_d).squaredNorm();
      detail::PreparedCenters<Scalar> next(updated);
      if (!hamerly.empty()) hamerly.front().centres_moved(C.centers_d, next.centers_d);
      C = std::move(next);
      run.n_iter = it;
      if (report && options_.callback) options_.callback(KMeansIteration{restart, it, stats.inertia, shift});
      if (stats.changed == 0) {  // strict convergence: labels are final for these centres
        run.converged = true;
        break;
      }
      if (shift <= tol_abs) {
        run.converged = true;
        break;
      }
    }
    // Labels and inertia for the final centres.
    run.inertia = detail::lloyd_pass(X, w, C, labels.data(), false, options_.kernel).inertia;
    run.centers = C.centers_d;
    return run;
  }

  template <typename Derived>
  KMeans& fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w) {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::KMeans<Scalar>: X must have the model's scalar type");
    detail::check_data("KMeans::fit", "X", X);
    check_options(X.rows(), X.cols());
    const double tol_abs = options_.tol > 0 ? options_.tol * detail::mean_feature_variance(X) : 0.0;

    detail::Random master(options_.seed);
    Eigen::VectorXi labels(X.rows());
    Run best;
    int best_restart = -1;
    const bool explicit_init = options_.init == KMeansInit::explicit_centers;
    const Eigen::Index m = std::max<Eigen::Index>(kAutoSubsampleRows, kAutoRowsPerCluster * options_.n_clusters);
    if (options_.n_init == 0 && !explicit_init && X.rows() >= 8 * m) {
      // Auto on large data: restarts on a subsample, the best seeds one run on everything.
      detail::Random sampler(master.child_seed());
      const std::vector<Eigen::Index> rows = detail::sample_without_replacement(X.rows(), m, sampler);
      Matrix Xs(m, X.cols());
      Eigen::VectorXd ws;
      for (Eigen::Index r = 0; r < m; ++r) Xs.row(r) = X.row(rows[static_cast<std::size_t>(r)]);
      if (w) {
        ws.resize(m);
        for (Eigen::Index r = 0; r < m; ++r) ws(r) = w[rows[static_cast<std::size_t>(r)]];
        if (!(ws.sum() > 0)) ws.setOnes();  // the subsample drew only zero weights
      }
      const double* wsp = w ? ws.data() : nullptr;
      const double tol_sub = options_.tol > 0 ? options_.tol * detail::mean_feature_variance(Xs) : 0.0;
      Eigen::VectorXi sub_labels(m);
      Run sub_best;
      for (int r = 0; r < kAutoRestarts; ++r) {
        detail::Random rng(master.child_seed());
        Run run = lloyd(Xs, wsp, initial_centers(Xs, wsp, rng), tol_sub, r, sub_labels, false);
        if (r == 0 || run.inertia < sub_best.inertia) sub_best = std::move(run);
      }
      best = lloyd(X, w, std::move(sub_best.centers), tol_abs, 0, labels);
      best_restart = 0;
    } else {
      const int restarts = explicit_init ? 1 : (options_.n_init > 0 ? options_.n_init : kAutoRestarts);
      for (int r = 0; r < restarts; ++r) {
        detail::Random rng(master.child_seed());
        Run run = lloyd(X, w, initial_centers(X, w, rng), tol_abs, r, labels);
        if (run.inertia < best.inertia || best_restart < 0) {
          best = std::move(run);
          best_restart = r;
        }
        if (r != restarts - 1) continue;
        if (best_restart != r) {
          // The labels in hand belong to the last restart: recompute them for the winner.
          detail::PreparedCenters<Scalar> winner(best.centers);
          labels.setConstant(-1);
          detail::lloyd_pass(X, w, winner, labels.data(), false, options_.kernel);
        }
      }
    }
    detail::PreparedCenters<Scalar> prepared(best.centers);
    // Commit: nothing above touched the model, so a throw leaves it as it was.
    prepared_ = std::move(prepared);
    labels_ = std::move(labels);
    inertia_ = best.inertia;
    n_iter_ = best.n_iter;
    converged_ = best.converged;
    fitted_ = true;
    return *this;
  }

  static constexpr int kAutoRestarts = 10;                 ///< restarts of n_init = 0
  static constexpr Eigen::Index kAutoSubsampleRows = 4096;  ///< least subsample of n_init = 0
  static constexpr Eigen::Index kAutoRowsPerCluster = 64;   ///< subsample rows per cluster

  Options options_;
  detail::PreparedCenters<Scalar> prepared_;
  Eigen::VectorXi labels_;
  double inertia_ = 0.0;
  int n_iter_ = 0;
  bool converged_ = false;
  bool fitted_ = false;
};

}  // namespace emcluster
