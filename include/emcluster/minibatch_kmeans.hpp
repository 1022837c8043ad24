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
#include <utility>
#include <vector>

#include "detail/column_stats.hpp"
#include "detail/kmeans_estimator.hpp"
#include "detail/kmeans_init.hpp"
#include "detail/lloyd_pass.hpp"
#include "detail/model_access.hpp"
#include "detail/random.hpp"
#include "detail/sample_rows.hpp"
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
/// fit, fit_predict, predict, transform, score and the accessors of the fitted state
/// (cluster_centers, labels, inertia, n_iter, n_features) are shared with KMeans
/// (detail::KMeansEstimator); partial_fit, counts() and n_steps() are MiniBatchKMeans' own.
///
/// Errors as KMeans: std::invalid_argument for bad options or data, not_fitted_error from
/// predict/transform/score and every accessor of the fitted state before the first
/// fit/partial_fit; a call that throws leaves the model unchanged.
template <typename Scalar = double>
class MiniBatchKMeans : public detail::KMeansEstimator<MiniBatchKMeans<Scalar>, Scalar> {
  using Base = detail::KMeansEstimator<MiniBatchKMeans<Scalar>, Scalar>;

 public:
  using typename Base::Matrix;

  /// Parameters fixed at construction.
  struct Options {
    Eigen::Index n_clusters = 8;                     ///< k (>= 1)
    KMeansInit init = KMeansInit::kmeans_plus_plus;  ///< how the initial centres are chosen
    Matrix initial_centers;                          ///< k x d, for KMeansInit::explicit_centers
    Eigen::Index batch_size = 1024;                  ///< rows per step (>= 1)
    int max_iter = 100;  ///< epochs (passes' worth of rows) at most, fit only
    int n_init = 3;      ///< initialisations tried on init_size rows; best on a validation set wins
    Eigen::Index init_size =
        0;  ///< rows the initialisation sees; 0 = 3 * batch_size (at least 3 k)
    double reassignment_ratio =
        0.01;  ///< centres with less than this share of the largest count are reseeded (>= 0)
    int max_no_improvement =
        10;            ///< stop after this many steps without a better smoothed inertia; 0 = never
    double tol = 0.0;  ///< stop when a step moves the centres less than tol * mean feature variance
    bool compute_labels =
        true;                ///< fit: compute labels and the exact inertia of all rows at the end
    std::uint64_t seed = 0;  ///< seed of every random choice
    AssignKernel kernel =
        AssignKernel::automatic;  ///< nearest-centre kernel of every pass, predict and score
    std::function<void(const MiniBatchStep&)> callback;  ///< called after every step, if set
  };

  /// A model with default options (k = 8).
  MiniBatchKMeans() = default;
  /// A model with the given options; they are checked by the first fit or partial_fit.
  explicit MiniBatchKMeans(Options options) : options_(std::move(options)) {}

  /// One mini-batch step on the rows of X (the first call also initialises the centres from
  /// them, so it needs at least k rows). Labels and inertia then describe X.
  template <typename Derived>
  MiniBatchKMeans& partial_fit(const Eigen::MatrixBase<Derived>& X) {
    return partial_fit_impl(X, nullptr);
  }
  /// One weighted mini-batch step.
  template <typename Derived, typename WDerived>
  MiniBatchKMeans& partial_fit(const Eigen::MatrixBase<Derived>& X,
                               const Eigen::MatrixBase<WDerived>& sample_weight) {
    const Eigen::VectorXd w =
        this->weights_as_double("MiniBatchKMeans::partial_fit", sample_weight, X.rows(), nullptr);
    return partial_fit_impl(X, w.data());
  }

  /// Weight each centre has absorbed (its inverse learning rate).
  const Eigen::VectorXd& counts() const {
    detail::check_fitted(kName, "counts", this->fitted_);
    return counts_;
  }
  /// Mini-batch steps made since the last fit (fit) or in total (partial_fit).
  long n_steps() const {
    detail::check_fitted(kName, "n_steps", this->fitted_);
    return n_steps_;
  }
  /// The options given at construction.
  const Options& options() const { return options_; }

 private:
  /// Everything a step changes, so that a failing call can leave the model untouched.
  struct State {
    Eigen::MatrixXd centers;
    Eigen::VectorXd counts;
    long since_reassign = 0;
  };

  friend Base;  // the shared shell calls fit_impl and labels_of_fit, reads kName
  friend struct detail::ModelAccess;  // model files (io.hpp) read and restore the fitted state

  static constexpr const char* kName = "MiniBatchKMeans";

  void check_options(const char* where, Eigen::Index n, Eigen::Index d) const {
    const auto& o = options_;
    if (o.batch_size < 1) detail::fail(where, "batch_size = ", o.batch_size, " must be at least 1");
    if (o.max_iter < 1) detail::fail(where, "max_iter = ", o.max_iter, " must be at least 1");
    if (o.n_init < 1) detail::fail(where, "n_init = ", o.n_init, " must be at least 1");
    if (o.init_size < 0)
      detail::fail(where, "init_size = ", o.init_size, " must be >= 0 (0 = automatic)");
    if (!(o.reassignment_ratio >= 0) || !std::isfinite(o.reassignment_ratio)) {
      detail::fail(where, "reassignment_ratio = ", o.reassignment_ratio,
                   " must be finite and >= 0");
    }
    if (o.max_no_improvement < 0)
      detail::fail(where, "max_no_improvement = ", o.max_no_improvement, " must be >= 0");
    if (!(o.tol >= 0) || !std::isfinite(o.tol))
      detail::fail(where, "tol = ", o.tol, " must be finite and >= 0");
    detail::check_centers_options(where, o.n_clusters, o.init == KMeansInit::explicit_centers,
                                  o.initial_centers, n, d);
  }

  Eigen::Index init_rows(Eigen::Index n) const {
    Eigen::Index size = options_.init_size;
    if (size == 0) size = 3 * std::min(options_.batch_size, n);
    size = std::max(size, 3 * options_.n_clusters);
    return std::min(size, n);
  }

  /// Initial centres from `init_rows` random rows of X (with replacement, as scikit-learn).
  template <typename Derived>
  Eigen::MatrixXd initial_centers(const Eigen::MatrixBase<Derived>& X, const double* w,
                                  int scale_exp, detail::Random& rng) const {
    if (options_.init == KMeansInit::explicit_centers)
      return scale_exp == 0
                 ? Eigen::MatrixXd(options_.initial_centers.template cast<double>())
                 : Eigen::MatrixXd(options_.initial_centers.template cast<double>().unaryExpr(
                       [scale_exp](double v) { return std::ldexp(v, -scale_exp); }));
    std::vector<Eigen::Index> rows;
    detail::sample_with_replacement(X.rows(), init_rows(X.rows()), rng, rows);
    Matrix Xi;
    Eigen::VectorXd wi;
    detail::gather_rows(X, w, rows, Xi, wi);
    detail::ones_if_weightless(wi);
    switch (options_.init) {
      case KMeansInit::kmeans_plus_plus:
        return detail::kmeans_plus_plus(Xi, wi.data(), options_.n_clusters, 0, rng);
      case KMeansInit::random_samples:
        return detail::random_samples_init(Xi, options_.n_clusters, rng);
      case KMeansInit::kmeans_parallel:
        return detail::kmeans_parallel(Xi, wi.data(), options_.n_clusters, 0, rng,
                                       detail::LocalReducer(Xi.rows()));
      default:
        return detail::random_box_init(Xi, options_.n_clusters, rng);
    }
  }

  /// scikit-learn's rule: reassign every kReassignRowsPerCluster (10) k rows, or whenever a
  /// centre has absorbed nothing.
  bool due_for_reassignment(State& s, Eigen::Index batch_rows) const {
    s.since_reassign += static_cast<long>(batch_rows);
    if ((s.counts.array() == 0).any() ||
        s.since_reassign >= kReassignRowsPerCluster * static_cast<long>(options_.n_clusters)) {
      s.since_reassign = 0;
      return true;
    }
    return false;
  }

  /// One mini-batch step on the rows of B. Returns the batch's inertia (before the update)
  /// and leaves the total squared centre shift in shift.
  template <typename Derived>
  double step(const Eigen::MatrixBase<Derived>& B, const double* w, State& s, detail::Random& rng,
              double& shift) const {
    const bool reassign = due_for_reassignment(s, B.rows());
    const detail::PreparedCenters<Scalar> C(s.centers);
    Eigen::VectorXi labels = Eigen::VectorXi::Constant(B.rows(), -1);
    // Sufficient statistics of the batch: per-centre weighted sums and weights.
    const detail::LloydStats stats =
        detail::lloyd_pass(B, w, C, labels.data(), true, options_.kernel);
    const auto sums = stats.sums();
    const auto weights = stats.weights();
    // Update: every centre with batch weight moves to the running weighted mean.
    Eigen::MatrixXd updated = C.centers_d;
    for (Eigen::Index j = 0; j < updated.rows(); ++j) {
      const double b = weights(j);
      if (b > 0) {
        updated.row(j) = (C.centers_d.row(j) * s.counts(j) + sums.row(j)) / (s.counts(j) + b);
        s.counts(j) += b;
      }
    }
    if (reassign && options_.reassignment_ratio > 0) reassign_small_centers(B, s, updated, rng);
    shift = (updated - C.centers_d).squaredNorm();
    s.centers = std::move(updated);
    return stats.inertia();
  }

  template <typename Derived>
  void reassign_small_centers(const Eigen::MatrixBase<Derived>& B, State& s,
                              Eigen::MatrixXd& centers, detail::Random& rng) const {
    const Eigen::Index k = s.counts.size();
    const double threshold = options_.reassignment_ratio * s.counts.maxCoeff();
    std::vector<char> chosen(static_cast<std::size_t>(k), 0);
    for (Eigen::Index j = 0; j < k; ++j)
      chosen[static_cast<std::size_t>(j)] = s.counts(j) < threshold;
    auto n_chosen = std::count(chosen.begin(), chosen.end(), 1);
    const auto cap = static_cast<long>(kMaxReassignedShare * static_cast<double>(B.rows()));
    if (n_chosen > cap) {  // at most half a batch: keep the centres with the smallest counts
      std::vector<Eigen::Index> order(static_cast<std::size_t>(k));
      std::iota(order.begin(), order.end(), Eigen::Index(0));
      std::stable_sort(order.begin(), order.end(),
                       [&](Eigen::Index a, Eigen::Index b) { return s.counts(a) < s.counts(b); });
      for (std::size_t r = static_cast<std::size_t>(cap); r < order.size(); ++r)
        chosen[static_cast<std::size_t>(order[r])] = 0;
      n_chosen = cap;
    }
    if (n_chosen == 0) return;
    const std::vector<Eigen::Index> rows =
        detail::sample_without_replacement(B.rows(), static_cast<Eigen::Index>(n_chosen), rng);
    double smallest_kept = std::numeric_limits<double>::infinity();
    for (Eigen::Index j = 0; j < k; ++j) {
      if (!chosen[static_cast<std::size_t>(j)])
        smallest_kept = std::min(smallest_kept, s.counts(j));
    }
    std::size_t next = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      if (!chosen[static_cast<std::size_t>(j)]) continue;
      centers.row(j) = B.row(rows[next++]).template cast<double>();
      // Not reset to zero, which would make the centre move to the next point it sees.
      if (std::isfinite(smallest_kept)) s.counts(j) = smallest_kept;
    }
  }

  /// Checks, then fits on X or, outside the range where squared distances are safe, on the
  /// exact power-of-two rescaling X 2^-e (detail::scale_exponent), an expression.
  template <typename Derived>
  MiniBatchKMeans& fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w, int weight_exp) {
    const char* where = "MiniBatchKMeans::fit";
    const detail::Magnitude top = detail::check_data(where, "X", X);
    check_options(where, X.rows(), X.cols());
    const int e = detail::scale_exponent<Scalar>(where, X, top);
    if (e == 0) return fit_on(X, w, 0, weight_exp);
    return fit_on(X * static_cast<Scalar>(std::ldexp(1.0, -e)), w, e, weight_exp);
  }

  template <typename Derived>
  MiniBatchKMeans& fit_on(const Eigen::MatrixBase<Derived>& X, const double* w, int scale_exp,
                          int weight_exp) {
    const Eigen::Index n = X.rows(), batch = std::min(options_.batch_size, n);
    detail::Random rng(options_.seed);
    const double tol_abs = options_.tol > 0 ? options_.tol * detail::mean_feature_variance(X) : 0.0;

    // Several initialisations, each judged by its inertia on one validation sample.
    const Eigen::Index m = init_rows(n);
    std::vector<Eigen::Index> rows;
    detail::sample_with_replacement(n, m, rng, rows);
    Matrix Xv;
    Eigen::VectorXd wv;
    detail::gather_rows(X, w, rows, Xv, wv);
    State s;
    double best = std::numeric_limits<double>::infinity();
    const int inits = options_.init == KMeansInit::explicit_centers ? 1 : options_.n_init;
    Eigen::VectorXi scratch(m);
    for (int t = 0; t < inits; ++t) {
      Eigen::MatrixXd centers = initial_centers(X, w, scale_exp, rng);
      scratch.setConstant(-1);
      const detail::PreparedCenters<Scalar> C(centers);
      const double inertia =
          detail::lloyd_pass(Xv, wv.data(), C, scratch.data(), false, options_.kernel).inertia();
      if (t == 0 || inertia < best) {
        best = inertia;
        s.centers = std::move(centers);
      }
    }
    s.counts = Eigen::VectorXd::Zero(options_.n_clusters);

    const long n_steps = std::max<long>(
        1, static_cast<long>(options_.max_iter) * static_cast<long>(n) / static_cast<long>(batch));
    Matrix B;
    Eigen::VectorXd wb;
    double ewa = 0, ewa_min = 0;
    bool have_ewa = false, have_min = false;
    int no_improvement = 0;
    long steps = 0;
    for (long i = 0; i < n_steps; ++i) {
      detail::sample_with_replacement(n, batch, rng, rows);
      detail::gather_rows(X, w, rows, B, wb);
      double shift = 0;
      const double batch_inertia =
          step(B, w ? wb.data() : nullptr, s, rng, shift) / static_cast<double>(batch);
      steps = i + 1;
      // scikit-learn's early stopping: skip the first step, smooth, then tol or no improvement.
      bool stop = false;
      if (steps > 1) {
        const double alpha =
            std::min(1.0, static_cast<double>(batch) * 2.0 / (static_cast<double>(n) + 1.0));
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
        if (options_.max_no_improvement > 0 && no_improvement >= options_.max_no_improvement)
          stop = true;
      }
      if (options_.callback) {
        const int ie = 2 * scale_exp + weight_exp;  // report in the user's units
        options_.callback(MiniBatchStep{steps, std::ldexp(batch_inertia, ie), std::ldexp(ewa, ie),
                                        std::ldexp(shift, 2 * scale_exp)});
      }
      if (stop) break;
    }
    detail::PreparedCenters<Scalar> prepared(s.centers);
    Eigen::VectorXi labels;
    double inertia = ewa * static_cast<double>(n);
    if (options_.compute_labels) {
      labels = Eigen::VectorXi::Constant(n, -1);
      inertia = detail::lloyd_pass(X, w, prepared, labels.data(), false, options_.kernel).inertia();
    }
    commit(std::move(s), std::move(prepared), std::move(labels), inertia, steps, rng, scale_exp,
           weight_exp);
    this->n_iter_ = static_cast<int>((steps * static_cast<long>(batch) + n - 1) / n);
    return *this;
  }

  /// The first partial_fit chooses the data's scale exponent (detail::scale_exponent) from
  /// its rows; later ones scale their rows by the same factor.
  template <typename Derived>
  MiniBatchKMeans& partial_fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w) {
    this->template check_scalar<Derived>();
    const char* where = "MiniBatchKMeans::partial_fit";
    const detail::Magnitude top = detail::check_data(where, "X", X);
    const int e = this->fitted_ ? this->scale_exp_ : detail::scale_exponent<Scalar>(where, X, top);
    if (e == 0) return partial_fit_on(X, w, 0);
    return partial_fit_on(X * static_cast<Scalar>(std::ldexp(1.0, -e)), w, e);
  }

  template <typename Derived>
  MiniBatchKMeans& partial_fit_on(const Eigen::MatrixBase<Derived>& X, const double* w,
                                  int scale_exp) {
    const char* where = "MiniBatchKMeans::partial_fit";
    State s;
    const bool fitted = this->fitted_;
    detail::Random rng = fitted ? rng_ : detail::Random(options_.seed);
    if (fitted) {
      detail::check_columns(where, X, this->prepared_.d());
      s.centers = this->prepared_.centers_d;
      s.counts = counts_;
      s.since_reassign = since_reassign_;
    } else {
      check_options(where, X.rows(), X.cols());
      s.centers = initial_centers(X, w, scale_exp, rng);
      s.counts = Eigen::VectorXd::Zero(options_.n_clusters);
    }
    double shift = 0;
    const double batch_inertia = step(X, w, s, rng, shift);
    detail::PreparedCenters<Scalar> prepared(s.centers);
    Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
    const double inertia =
        detail::lloyd_pass(X, w, prepared, labels.data(), false, options_.kernel).inertia();
    if (options_.callback) {
      options_.callback(MiniBatchStep{
          n_steps_ + 1, std::ldexp(batch_inertia / static_cast<double>(X.rows()), 2 * scale_exp),
          0.0, std::ldexp(shift, 2 * scale_exp)});
    }
    commit(std::move(s), std::move(prepared), std::move(labels), inertia, n_steps_ + 1, rng,
           scale_exp, 0);
    return *this;
  }

  /// Commits a successful fit or partial_fit (nothing before touched the model).
  void commit(State&& s, detail::PreparedCenters<Scalar>&& prepared, Eigen::VectorXi&& labels,
              double inertia, long n_steps, const detail::Random& rng, int scale_exp,
              int weight_exp) {
    Base::commit(std::move(prepared), std::move(labels), inertia, scale_exp, weight_exp);
    counts_ = std::move(s.counts);
    since_reassign_ = s.since_reassign;
    n_steps_ = n_steps;
    rng_ = rng;
  }

  /// What fit_predict returns: the labels of the fit, or of X when they were not computed.
  template <typename Derived>
  Eigen::VectorXi labels_of_fit(const Eigen::MatrixBase<Derived>& X) const {
    return options_.compute_labels ? this->labels_ : this->predict(X);
  }

  static constexpr long kReassignRowsPerCluster = 10;  ///< rows per centre between reassignments
  static constexpr double kMaxReassignedShare =
      0.5;  ///< most centres reassigned, as a share of the batch

  Options options_;
  Eigen::VectorXd counts_;
  long since_reassign_ = 0;
  long n_steps_ = 0;
  detail::Random rng_{0};
};

}  // namespace emcluster
