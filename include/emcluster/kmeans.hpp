/// @file kmeans.hpp
/// @brief K-means clustering (Lloyd's algorithm) with k-means++ seeding, restarts, sample
/// weights and deterministic multi-threaded passes.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "detail/column_stats.hpp"
#include "detail/kmeans_estimator.hpp"
#include "detail/kmeans_init.hpp"
#include "detail/kmeans_run.hpp"
#include "detail/model_access.hpp"
#include "detail/random.hpp"
#include "detail/reducer.hpp"
#include "detail/sample_rows.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"
#include "options.hpp"

namespace emcluster {

namespace detail {
struct FitAccess;  // the distributed entry points (emcluster/mpi.hpp) reach the fits by it
}  // namespace detail

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
/// fit, fit_predict, predict, transform, score and the accessors of the fitted state
/// (cluster_centers, labels, inertia, n_iter, n_features) are shared with MiniBatchKMeans
/// (detail::KMeansEstimator); converged() is KMeans' own.
///
/// Errors: std::invalid_argument for bad options or data (non-finite values with their row
/// and column, fewer samples than clusters, wrong sizes, negative weights),
/// emcluster::not_fitted_error for predict/transform/score and every accessor of the fitted
/// state before fit (options(), n_clusters() and is_fitted() never throw). A fit that throws
/// leaves the previously fitted model unchanged.
template <typename Scalar = double>
class KMeans : public detail::KMeansEstimator<KMeans<Scalar>, Scalar> {
  using Base = detail::KMeansEstimator<KMeans<Scalar>, Scalar>;

 public:
  using typename Base::Matrix;

  /// Parameters fixed at construction.
  struct Options {
    Eigen::Index n_clusters = 8;                     ///< k, the number of clusters (>= 1)
    KMeansInit init = KMeansInit::kmeans_plus_plus;  ///< how the initial centres are chosen
    Matrix initial_centers;  ///< k x d, used by KMeansInit::explicit_centers
    int n_init = 0;  ///< restarts, the lowest inertia wins; 0 = auto (see the class notes), >= 1 =
                     ///< that many full runs
    int max_iter = 300;  ///< Lloyd iterations per restart at most (>= 1)
    double tol = 1e-4;   ///< stop when total squared centre shift <= tol * mean feature variance; 0
                         ///< = only on stable labels
    std::uint64_t seed = 0;  ///< seed of every random choice (init, restarts)
    int n_local_trials = 0;  ///< greedy k-means++ candidates per centre; 0 = 2 + floor(ln k)
    KMeansAlgorithm algorithm =
        KMeansAlgorithm::automatic;  ///< plain Lloyd steps or Hamerly's bounds
    AssignKernel kernel =
        AssignKernel::automatic;  ///< nearest-centre kernel (for tests and tuning)
    std::function<void(const KMeansIteration&)> callback;  ///< called after every iteration, if set
  };

  /// A model with default options (k = 8).
  KMeans() = default;
  /// A model with the given options; they are checked by fit().
  explicit KMeans(Options options) : options_(std::move(options)) {}

  /// Whether the winning restart stopped on stable labels or on the tolerance (not max_iter).
  bool converged() const {
    detail::check_fitted(kName, "converged", this->fitted_);
    return converged_;
  }
  /// The options given at construction.
  const Options& options() const { return options_; }

 private:
  friend Base;  // the shared shell calls fit_impl and labels_of_fit, reads kName
  friend struct detail::ModelAccess;  // model files (io.hpp) read and restore the fitted state
  friend struct detail::FitAccess;    // the distributed fits of emcluster/mpi.hpp

  static constexpr const char* kName = "KMeans";

  void check_options(Eigen::Index n, Eigen::Index d) const {
    const char* where = "KMeans::fit";
    const auto& o = options_;
    if (o.n_init < 0) detail::fail(where, "n_init = ", o.n_init, " must be >= 0 (0 = auto)");
    if (o.max_iter < 1) detail::fail(where, "max_iter = ", o.max_iter, " must be at least 1");
    if (!(o.tol >= 0) || !std::isfinite(o.tol))
      detail::fail(where, "tol = ", o.tol, " must be finite and >= 0");
    if (o.n_local_trials < 0)
      detail::fail(where, "n_local_trials = ", o.n_local_trials, " must be >= 0");
    detail::check_centers_options(where, o.n_clusters, o.init == KMeansInit::explicit_centers,
                                  o.initial_centers, n, d);
  }

  template <typename Derived, typename Reducer>
  Eigen::MatrixXd initial_centers(const Eigen::MatrixBase<Derived>& X, const double* w,
                                  int scale_exp, detail::Random& rng,
                                  const Reducer& reducer) const {
    const Eigen::Index k = options_.n_clusters;
    switch (options_.init) {
      case KMeansInit::kmeans_plus_plus:
        return detail::kmeans_plus_plus(X, w, k, options_.n_local_trials, rng, reducer);
      case KMeansInit::random_samples:
        return detail::random_samples_init(X, k, rng, reducer);
      case KMeansInit::random_box:
        return detail::random_box_init(X, k, rng, reducer);
      case KMeansInit::kmeans_parallel:
        return detail::kmeans_parallel(X, w, k, options_.n_local_trials, rng, reducer);
      case KMeansInit::explicit_centers:
        break;
    }
    return scale_exp == 0
               ? Eigen::MatrixXd(options_.initial_centers.template cast<double>())
               : Eigen::MatrixXd(options_.initial_centers.template cast<double>().unaryExpr(
                     [scale_exp](double v) { return std::ldexp(v, -scale_exp); }));
  }

  /// The absolute tolerance on the centre shift for data X (the rows of every process).
  template <typename Derived, typename Reducer>
  double tolerance(const Eigen::MatrixBase<Derived>& X, const Reducer& reducer) const {
    return options_.tol > 0 ? options_.tol * detail::mean_feature_variance(X, reducer) : 0.0;
  }

  /// One restart from the given centres, by the step policy the options choose for d
  /// features; labels is scratch of size n. Reports every iteration to the callback when
  /// `report` is set.
  template <typename Derived, typename Reducer>
  detail::KMeansRun run(const Eigen::MatrixBase<Derived>& X, const double* w,
                        const Eigen::MatrixXd& centers, double tol_abs, int restart,
                        Eigen::VectorXi& labels, int inertia_exp, int shift_exp,
                        const Reducer& reducer, bool report = true) const {
    const KMeansAlgorithm algorithm = detail::choose_algorithm(
        options_.algorithm, options_.n_clusters, X.cols(), sizeof(Scalar), bool(options_.callback));
    const auto on_iteration = [&](int iteration, double inertia, double shift) {
      if (report && options_.callback) {
        // In the user's units (the fit may run on scaled data and weights).
        const double shift_user = std::ldexp(shift, shift_exp);
        options_.callback(
            KMeansIteration{restart, iteration, std::ldexp(inertia, inertia_exp), shift_user});
      }
    };
    return detail::run_kmeans(algorithm, options_.kernel, X, w, centers,
                              detail::KMeansStop{options_.max_iter, tol_abs}, labels, on_iteration,
                              reducer);
  }

  /// Checks, then fits on X or, for data outside the range where squared distances are
  /// safe, on the expression X 2^-e (detail::scale_exponent): power-of-two scaling is exact,
  /// so the labels and (scaled back) centres are those of the same fit on X.
  template <typename Derived>
  KMeans& fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w, int weight_exp) {
    return fit_impl(X, w, weight_exp, detail::LocalReducer(X.rows()));
  }

  /// The fit on the rows of every process of the reducer (LocalReducer: this one): each
  /// process passes its own rows and weights; statistics, draws and decisions are global, so
  /// every process commits the same centres and the labels of its own rows.
  template <typename Derived, typename Reducer>
  KMeans& fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w, int weight_exp,
                   const Reducer& reducer) {
    const detail::Magnitude top = detail::check_shard_data("KMeans::fit", "X", X, reducer);
    check_options(reducer.total_rows(), X.cols());
    const int e = detail::shard_scale_exponent<Scalar>("KMeans::fit", X, top, reducer);
    if (e == 0) return fit_on(X, w, 0, weight_exp, reducer);
    return fit_on(X * static_cast<Scalar>(std::ldexp(1.0, -e)), w, e, weight_exp, reducer);
  }

  /// Rows `rows` (global indices, increasing) of the data of every process, with their
  /// weights: each process copies those it holds, then the copies are shared.
  template <typename Derived, typename Reducer>
  static void gather_global_rows(const Eigen::MatrixBase<Derived>& X, const double* w,
                                 const std::vector<Eigen::Index>& rows, Matrix& out,
                                 Eigen::VectorXd& out_w, const Reducer& reducer) {
    if constexpr (!Reducer::kDistributed) {
      detail::gather_rows(X, w, rows, out, out_w);
    } else {
      const auto m = static_cast<Eigen::Index>(rows.size());
      Eigen::MatrixXd shared = Eigen::MatrixXd::Zero(m, X.cols() + 1);
      const Eigen::Index first = reducer.row_offset(), last = first + X.rows();
      for (Eigen::Index r = 0; r < m; ++r) {
        const Eigen::Index g = rows[static_cast<std::size_t>(r)];
        if (g < first || g >= last) continue;
        shared.row(r).head(X.cols()) = X.row(g - first).template cast<double>();
        shared(r, X.cols()) = detail::weight_of(w, g - first);
      }
      detail::share_owned_rows(reducer, shared);
      out = shared.leftCols(X.cols()).template cast<Scalar>();
      out_w = shared.col(X.cols());
    }
  }

  template <typename Derived, typename Reducer>
  KMeans& fit_on(const Eigen::MatrixBase<Derived>& X, const double* w, int scale_exp,
                 int weight_exp, const Reducer& reducer) {
    const int inertia_exp = 2 * scale_exp + weight_exp;
    const double tol_abs = tolerance(X, reducer);
    const Eigen::Index n_total = reducer.total_rows();

    detail::Random master(options_.seed);
    Eigen::VectorXi labels(X.rows());
    detail::KMeansRun best;
    int best_restart = -1;
    const bool explicit_init = options_.init == KMeansInit::explicit_centers;
    const Eigen::Index m =
        std::max<Eigen::Index>(kAutoSubsampleRows, kAutoRowsPerCluster * options_.n_clusters);
    if (options_.n_init == 0 && !explicit_init && n_total >= 8 * m) {
      // Auto on large data: restarts on a subsample, the best seeds one run on everything.
      // With several processes the subsample is drawn from the global row indices and
      // shared, and every process runs the same restarts on it by itself.
      detail::Random sampler(master.child_seed());
      const std::vector<Eigen::Index> rows =
          detail::sample_without_replacement(n_total, m, sampler);
      Matrix Xs;
      Eigen::VectorXd ws;
      gather_global_rows(X, w, rows, Xs, ws, reducer);
      detail::ones_if_weightless(ws);  // the subsample drew only zero weights
      const double* wsp = w ? ws.data() : nullptr;
      const detail::LocalReducer local(m);
      const double tol_sub = tolerance(Xs, local);
      Eigen::VectorXi sub_labels(m);
      detail::KMeansRun sub_best;
      for (int r = 0; r < kAutoRestarts; ++r) {
        detail::Random rng(master.child_seed());
        detail::KMeansRun result =
            run(Xs, wsp, initial_centers(Xs, wsp, scale_exp, rng, local), tol_sub, r, sub_labels,
                inertia_exp, 2 * scale_exp, local, false);
        if (r == 0 || result.inertia < sub_best.inertia) sub_best = std::move(result);
      }
      best = run(X, w, sub_best.centers, tol_abs, 0, labels, inertia_exp, 2 * scale_exp, reducer);
      best_restart = 0;
    } else {
      const int restarts =
          explicit_init ? 1 : (options_.n_init > 0 ? options_.n_init : kAutoRestarts);
      for (int r = 0; r < restarts; ++r) {
        detail::Random rng(master.child_seed());
        detail::KMeansRun result = run(X, w, initial_centers(X, w, scale_exp, rng, reducer),
                                       tol_abs, r, labels, inertia_exp, 2 * scale_exp, reducer);
        if (result.inertia < best.inertia || best_restart < 0) {
          best = std::move(result);
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
    this->commit(std::move(prepared), std::move(labels), best.inertia, scale_exp, weight_exp);
    this->n_iter_ = best.n_iter;
    converged_ = best.converged;
    return *this;
  }

  /// What fit_predict returns: the labels of the fit.
  template <typename Derived>
  Eigen::VectorXi labels_of_fit(const Eigen::MatrixBase<Derived>&) const {
    return this->labels_;
  }

  static constexpr int kAutoRestarts = 10;                  ///< restarts of n_init = 0
  static constexpr Eigen::Index kAutoSubsampleRows = 4096;  ///< least subsample of n_init = 0
  static constexpr Eigen::Index kAutoRowsPerCluster = 64;   ///< subsample rows per cluster

  Options options_;
  bool converged_ = false;
};

}  // namespace emcluster
