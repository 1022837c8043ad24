/// @file minibatch_kmeans.hpp
/// @brief Mini-batch K-means (Sculley 2010) with scikit-learn's update, reassignment and
/// early-stopping semantics, for data that arrives in pieces (`partial_fit`) or is too large
/// for a full pass per iteration (`fit`).
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

#include "detail/kmeans_init.hpp"
#include "detail/kmeans_kernels.hpp"
#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"
#include "options.hpp"

namespace emcluster {

/// Mini-batch K-means.
///
/// Each step draws a batch of rows (with replacement), assigns them to the nearest centre and
/// moves every centre c that received batch weight B_c to the running weighted mean
/// (c * N_c + sum_batch w x) / (N_c + B_c), N_c being the weight the centre has absorbed so
/// far: each centre's learning rate decays as 1 / N_c. Every 10 k samples (and whenever a
/// centre has absorbed nothing), centres whose N_c is below `reassignment_ratio * max N`
/// are moved to random rows of the current batch. `fit` stops after `max_iter` epochs, when
/// the smoothed batch inertia has not improved for `max_no_improvement` steps, or when the
/// centres move less than `tol` (scaled by the mean feature variance) in one step: all as
/// scikit-learn's MiniBatchKMeans. `partial_fit` makes exactly one step on the rows it is
/// given, so data that does not fit in memory can be streamed through.
///
/// @tparam Scalar `float` or `double`.
///
/// @code
/// emcluster::MiniBatchKMeans<float>::Options opts;
/// opts.n_clusters = 16;
/// opts.batch_size = 2048;
/// emcluster::MiniBatchKMeans<float> mbk(opts);
/// for (const auto& piece : pieces) mbk.partial_fit(piece);   // streaming
/// Eigen::VectorXi labels = mbk.predict(X);
/// @endcode
///
/// Errors as KMeans: std::invalid_argument for bad options or data, not_fitted_error before
/// the first fit/partial_fit; a call that throws leaves the model unchanged.
template <typename Scalar = double>
class MiniBatchKMeans {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster::MiniBatchKMeans<Scalar>: Scalar must be float or double");

 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

  /// Parameters fixed at construction.
  struct Options {
    Eigen::Index n_clusters = 8;                     ///< k (>= 1)
    KMeansInit init = KMeansInit::kmeans_plus_plus;  ///< how the initial centres are chosen
    Matrix initial_centers;                          ///< k x d, for KMeansInit::explicit_centers
    Eigen::Index batch_size = 1024;                  ///< rows per step (>= 1)
    int max_iter = 100;                              ///< epochs (passes' worth of rows) at most, fit only
    int n_init = 3;                   ///< initialisations tried on init_size rows; best on a validation set wins
    Eigen::Index init_size = 0;       ///< rows the initialisation sees; 0 = 3 * batch_size (at least 3 k)
    double reassignment_ratio = 0.01; ///< centres with less than this share of the largest count are reseeded (>= 0)
    int max_no_improvement = 10;      ///< stop after this many steps without a better smoothed inertia; 0 = never
    double tol = 0.0;                 ///< stop when a step moves the centres less than tol * mean feature variance
    bool compute_labels = true;       ///< fit: compute labels and the exact inertia of all rows at the end
    std::uint64_t seed = 0;           ///< seed of every random choice
    std::function<void(const MiniBatchStep&)> callback;  ///< called after every step, if set
  };

  MiniBatchKMeans() = default;
  explicit MiniBatchKMeans(Options options) : options_(std::move(options)) {}

  /// Fits on all rows of X by mini-batch steps (see the class notes). Restarts from scratch.
  template <typename Derived>
  MiniBatchKMeans& fit(const Eigen::MatrixBase<Derived>& X) {
    return fit_impl(X, nullptr);
  }
  /// Fits with a non-negative weight per row.
  template <typename Derived, typename WDerived>
  MiniBatchKMeans& fit(const Eigen::MatrixBase<Derived>& X, const Eigen::MatrixBase<WDerived>& sample_weight) {
    detail::check_sample_weight("MiniBatchKMeans::fit", sample_weight, X.rows());
    const Eigen::VectorXd w = sample_weight.template cast<double>();
    return fit_impl(X, w.data());
  }

  /// One mini-batch step on the rows of X (the first call also initialises the centres from
  /// them, so it needs at least k rows). Labels and inertia then describe X.
  template <typename Derived>
  MiniBatchKMeans& partial_fit(const Eigen::MatrixBase<Derived>& X) {
    return partial_fit_impl(X, nullptr);
  }
  /// One weighted mini-batch step.
  template <typename Derived, typename WDerived>
  MiniBatchKMeans& partial_fit(const Eigen::MatrixBase<Derived>& X, const Eigen::MatrixBase<WDerived>& sample_weight) {
    detail::check_sample_weight("MiniBatchKMeans::partial_fit", sample_weight, X.rows());
    const Eigen::VectorXd w = sample_weight.template cast<double>();
    return partial_fit_impl(X, w.data());
  }

  /// Fits and returns the labels of all rows.
  template <typename Derived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X) {
    fit(X);
    return options_.compute_labels ? labels_ : predict(X);
  }

  /// Nearest centre of every row of X.
  template <typename Derived>
  Eigen::VectorXi predict(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("MiniBatchKMeans::predict", X);
    return detail::nearest_centers(X, prepared_, AssignKernel::automatic);
  }
  /// Euclidean distances to every centre (n x k, the caller asked for it).
  template <typename Derived>
  Matrix transform(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("MiniBatchKMeans::transform", X);
    return detail::center_distances(X, prepared_);
  }
  /// Minus the inertia of X under the centres.
  template <typename Derived>
  double score(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("MiniBatchKMeans::score", X);
    return -detail::inertia_of(X, nullptr, prepared_, AssignKernel::automatic);
  }

  /// The centres, k x d.
  const Matrix& cluster_centers() const {
    detail::check_fitted("MiniBatchKMeans::cluster_centers", fitted_);
    return prepared_.centers;
  }
  /// Labels of the rows of the last fit (compute_labels) or partial_fit.
  const Eigen::VectorXi& labels() const {
    detail::check_fitted("MiniBatchKMeans::labels", fitted_);
    return labels_;
  }
  /// Inertia of those rows (exact when labels were computed; else the smoothed estimate).
  double inertia() const {
    detail::check_fitted("MiniBatchKMeans::inertia", fitted_);
    return inertia_;
  }
  /// Weight each centre has absorbed (its inverse learning rate).
  const Eigen::VectorXd& counts() const { return counts_; }
  /// Mini-batch steps made since the last fit (fit) or in total (partial_fit).
  long n_steps() const { return n_steps_; }
  /// Epochs started by the last fit: ceil(steps * batch_size / n).
  int n_iter() const { return n_iter_; }
  bool is_fitted() const { return fitted_; }
  Eigen::Index n_clusters() const { return options_.n_clusters; }
  Eigen::Index n_features() const { return fitted_ ? prepared_.d() : 0; }
  const Options& options() const { return options_; }

 private:
  /// Everything a step changes, so that a failing call can leave the model untouched.
  struct State {
    Eigen::MatrixXd centers;
    Eigen::VectorXd counts;
    long since_reassign = 0;
  };

  void check_options(const char* where, Eigen::Index n, Eigen::Index d) const {
    const auto& o = options_;
    if (o.batch_size < 1) detail::fail(where, "batch_size = ", o.batch_size, " must be at least 1");
    if (o.max_iter < 1) detail::fail(where, "max_iter = ", o.max_iter, " must be at least 1");
    if (o.n_init < 1) detail::fail(where, "n_init = ", o.n_init, " must be at least 1");
    if (o.init_size < 0) detail::fail(where, "init_size = ", o.init_size, " must be >= 0 (0 = automatic)");
    if (!(o.reassignment_ratio >= 0) || !std::isfinite(o.reassignment_ratio)) {
      detail::fail(where, "reassignment_ratio = ", o.reassignment_ratio, " must be finite and >= 0");
    }
    if (o.max_no_improvement < 0) detail::fail(where, "max_no_improvement = ", o.max_no_improvement, " must be >= 0");
    if (!(o.tol >= 0) || !std::isfinite(o.tol)) detail::fail(where, "tol = ", o.tol, " must be finite and >= 0");
    detail::check_centers_options(where, o.n_clusters, o.init == KMeansInit::explicit_centers, o.initial_centers, n, d);
  }

  template <typename Derived>
  void check_new_data(const char* where, const Eigen::MatrixBase<Derived>& X) const {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::MiniBatchKMeans<Scalar>: X must have the model's scalar type");
    detail::check_new_data(where, fitted_, X, prepared_.d());
  }

  Eigen::Index init_rows(Eigen::Index n) const {
    Eigen::Index size = options_.init_size;
    if (size == 0) size = 3 * std::min(options_.batch_size, n);
    size = std::max(size, 3 * options_.n_clusters);
    return std::min(size, n);
  }

  /// Initial centres from `init_rows` random rows of X (with replacement, as scikit-learn).
  template <typename Derived>
  Eigen::MatrixXd initial_centers(const Eigen::MatrixBase<Derived>& X, const double* w, detail::Random& rng) const {
    if (options_.init == KMeansInit::explicit_centers) return options_.initial_centers.template cast<double>();
    const Eigen::Index m = init_rows(X.rows());
    Matrix Xi(m, X.cols());
    Eigen::VectorXd wi(m);
    for (Eigen::Index r = 0; r < m; ++r) {
      const auto i = static_cast<Eigen::Index>(rng.uniform_index(static_cast<std::uint64_t>(X.rows())));
      Xi.row(r) = X.row(i);
      wi(r) = detail::weight_of(w, i);
    }
    if (!(wi.sum() > 0)) wi.setOnes();
    switch (options_.init) {
      case KMeansInit::kmeans_plus_plus:
        return detail::kmeans_plus_plus(Xi, wi.data(), options_.n_clusters, 0, rng);
      case KMeansInit::random_samples:
        return detail::random_samples_init(Xi, options_.n_clusters, rng);
      default:
        return detail::random_box_init(Xi, options_.n_clusters, rng);
    }
  }

  /// scikit-learn's rule: reassign every 10 k rows, or whenever a centre has absorbed nothing.
  bool due_for_reassignment(State& s, Eigen::Index batch_rows) const {
    s.since_reassign += static_cast<long>(batch_rows);
    if ((s.counts.array() == 0).any() || s.since_reassign >= 10 * static_cast<long>(options_.n_clusters)) {
      s.since_reassign = 0;
      return true;
    }
    return false;
  }

  /// One mini-batch step on the rows of B. Returns the batch's inertia (before the update)
  /// and leaves the total squared centre shift in shift.
  template <typename Derived>
  double step(const Eigen::MatrixBase<Derived>& B, const double* w, State& s, detail::Random& rng, double& shift) const {
    const bool reassign = due_for_reassignment(s, B.rows());
    const detail::PreparedCenters<Scalar> C(s.centers);
    Eigen::VectorXi labels = Eigen::VectorXi::Constant(B.rows(), -1);
    // Sufficient statistics of the batch: per-centre weighted sums and weights.
    const detail::LloydStats stats = detail::lloyd_pass(B, w, C, labels.data(), true);
    Eigen::MatrixXd updated = C.centers_d;
    for (Eigen::Index j = 0; j < updated.rows(); ++j) {
      const double b = stats.weights(j);
      if (b > 0) {
        updated.row(j) = (C.centers_d.row(j) * s.counts(j) + stats.sums.row(j)) / (s.counts(j) + b);
        s.counts(j) += b;
      }
    }
    if (reassign && options_.reassignment_ratio > 0) reassign_small_centers(B, s, updated, rng);
    shift = (updated - C.centers_d).squaredNorm();
    s.centers = std::move(updated);
    return stats.inertia;
  }

  template <typename Derived>
  void reassign_small_centers(const Eigen::MatrixBase<Derived>& B, State& s, Eigen::MatrixXd& centers,
                              detail::Random& rng) const {
    const Eigen::Index k = s.counts.size();
    const double threshold = options_.reassignment_ratio * s.counts.maxCoeff();
    std::vector<char> chosen(static_cast<std::size_t>(k), 0);
    for (Eigen::Index j = 0; j < k; ++j) chosen[static_cast<std::size_t>(j)] = s.counts(j) < threshold;
    auto n_chosen = std::count(chosen.begin(), chosen.end(), 1);
    const auto cap = static_cast<long>(0.5 * static_cast<double>(B.rows()));
    if (n_chosen > cap) {  // at most half a batch: keep the centres with the smallest counts
      std::vector<Eigen::Index> order(static_cast<std::size_t>(k));
      std::iota(order.begin(), order.end(), Eigen::Index(0));
      std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return s.counts(a) < s.counts(b); });
      for (std::size_t r = static_cast<std::size_t>(cap); r < order.size(); ++r) chosen[static_cast<std::size_t>(order[r])] = 0;
      n_chosen = cap;
    }
    if (n_chosen == 0) return;
    const std::vector<Eigen::Index> rows =
        detail::sample_without_replacement(B.rows(), static_cast<Eigen::Index>(n_chosen), rng);
    double smallest_kept = std::numeric_limits<double>::infinity();
    for (Eigen::Index j = 0; j < k; ++j) {
      if (!chosen[static_cast<std::size_t>(j)]) smallest_kept = std::min(smallest_kept, s.counts(j));
    }
    std::size_t next = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      if (!chosen[static_cast<std::size_t>(j)]) continue;
      centers.row(j) = B.row(rows[next++]).template cast<double>();
      // Not reset to zero, which would make the centre move to the next point it sees.
      if (std::isfinite(smallest_kept)) s.counts(j) = smallest_kept;
    }
  }

  template <typename Derived>
  MiniBatchKMeans& fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w) {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::MiniBatchKMeans<Scalar>: X must have the model's scalar type");
    const char* where = "MiniBatchKMeans::fit";
    detail::check_data(where, "X", X);
    check_options(where, X.rows(), X.cols());
    const Eigen::Index n = X.rows(), batch = std::min(options_.batch_size, n);
    detail::Random rng(options_.seed);
    const double tol_abs = options_.tol > 0 ? options_.tol * detail::mean_feature_variance(X) : 0.0;

    // Several initialisations, each judged by its inertia on one validation sample.
    const Eigen::Index m = init_rows(n);
    Matrix Xv(m, X.cols());
    Eigen::VectorXd wv(m);
    for (Eigen::Index r = 0; r < m; ++r) {
      const auto i = static_cast<Eigen::Index>(rng.uniform_index(static_cast<std::uint64_t>(n)));
      Xv.row(r) = X.row(i);
      wv(r) = detail::weight_of(w, i);
    }
    State s;
    double best = std::numeric_limits<double>::infinity();
    const int inits = options_.init == KMeansInit::explicit_centers ? 1 : options_.n_init;
    Eigen::VectorXi scratch(m);
    for (int t = 0; t < inits; ++t) {
      Eigen::MatrixXd centers = initial_centers(X, w, rng);
      scratch.setConstant(-1);
      const double inertia = detail::lloyd_pass(Xv, wv.data(), detail::PreparedCenters<Scalar>(centers), scratch.data(), false).inertia;
      if (t == 0 || inertia < best) {
        best = inertia;
        s.centers = std::move(centers);
      }
    }
    s.counts = Eigen::VectorXd::Zero(options_.n_clusters);

    const long n_steps = std::max<long>(1, static_cast<long>(options_.max_iter) * static_cast<long>(n) / static_cast<long>(batch));
    Matrix B(batch, X.cols());
    Eigen::VectorXd wb(batch);
    double ewa = 0, ewa_min = 0;
    bool have_ewa = false, have_min = false;
    int no_improvement = 0;
    long steps = 0;
    for (long i = 0; i < n_steps; ++i) {
      for (Eigen::Index r = 0; r < batch; ++r) {
        const auto idx = static_cast<Eigen::Index>(rng.uniform_index(static_cast<std::uint64_t>(n)));
        B.row(r) = X.row(idx);
        wb(r) = detail::weight_of(w, idx);
      }
      double shift = 0;
      const double batch_inertia = step(B, w ? wb.data() : nullptr, s, rng, shift) / static_cast<double>(batch);
      steps = i + 1;
      // scikit-learn's early stopping: skip the first step, smooth, then tol or no improvement.
      bool stop = false;
      if (steps > 1) {
        const double alpha = std::min(1.0, static_cast<double>(batch) * 2.0 / (static_cast<double>(n) + 1.0));
        ewa = have_ewa ? ewa * (1 - alpha) + batch_inertia * alpha : batch_inertia;
        have_ewa = true;
        if (tol_abs > 0 && shift <= tol_abs) stop = true;
        if (!have_min || ewa < ewa_min) {
          no_improvement = 0;
          ewa_min = ewa;
          have_min = true;
        } else {
          ++no_improvement;
        }
        if (options_.max_no_improvement > 0 && no_improvement >= options_.max_no_improvement) stop = true;
      }
      if (options_.callback) options_.callback(MiniBatchStep{steps, batch_inertia, ewa, shift});
      if (stop) break;
    }
    detail::PreparedCenters<Scalar> prepared(s.centers);
    Eigen::VectorXi labels;
    double inertia = ewa * static_cast<double>(n);
    if (options_.compute_labels) {
      labels = Eigen::VectorXi::Constant(n, -1);
      inertia = detail::lloyd_pass(X, w, prepared, labels.data(), false).inertia;
    }
    // Commit.
    prepared_ = std::move(prepared);
    counts_ = std::move(s.counts);
    since_reassign_ = s.since_reassign;
    labels_ = std::move(labels);
    inertia_ = inertia;
    n_steps_ = steps;
    n_iter_ = static_cast<int>((steps * static_cast<long>(batch) + n - 1) / n);
    rng_ = rng;
    fitted_ = true;
    return *this;
  }

  template <typename Derived>
  MiniBatchKMeans& partial_fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w) {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::MiniBatchKMeans<Scalar>: X must have the model's scalar type");
    const char* where = "MiniBatchKMeans::partial_fit";
    detail::check_data(where, "X", X);
    State s;
    detail::Random rng = fitted_ ? rng_ : detail::Random(options_.seed);
    if (fitted_) {
      detail::check_columns(where, X, prepared_.d());
      s.centers = prepared_.centers_d;
      s.counts = counts_;
      s.since_reassign = since_reassign_;
    } else {
      check_options(where, X.rows(), X.cols());
      s.centers = initial_centers(X, w, rng);
      s.counts = Eigen::VectorXd::Zero(options_.n_clusters);
    }
    double shift = 0;
    const double batch_inertia = step(X, w, s, rng, shift);
    detail::PreparedCenters<Scalar> prepared(s.centers);
    Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
    const double inertia = detail::lloyd_pass(X, w, prepared, labels.data(), false).inertia;
    if (options_.callback) {
      options_.callback(MiniBatchStep{n_steps_ + 1, batch_inertia / static_cast<double>(X.rows()), 0.0, shift});
    }
    // Commit.
    prepared_ = std::move(prepared);
    counts_ = std::move(s.counts);
    since_reassign_ = s.since_reassign;
    labels_ = std::move(labels);
    inertia_ = inertia;
    n_steps_ += 1;
    rng_ = rng;
    fitted_ = true;
    return *this;
  }

  Options options_;
  detail::PreparedCenters<Scalar> prepared_;
  Eigen::VectorXd counts_;
  long since_reassign_ = 0;
  Eigen::VectorXi labels_;
  double inertia_ = 0;
  long n_steps_ = 0;
  int n_iter_ = 0;
  detail::Random rng_{0};
  bool fitted_ = false;
};

}  // namespace emcluster
