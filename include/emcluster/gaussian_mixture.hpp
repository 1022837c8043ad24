/// @file gaussian_mixture.hpp
/// @brief Gaussian mixture models fitted by expectation-maximisation in log space: four
/// covariance types, an optional uniform noise component, restarts, warm start, BIC/AIC and
/// deterministic multi-threaded passes.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/mixture_estep.hpp"
#include "detail/mixture_init.hpp"
#include "detail/mixture_mstep.hpp"
#include "detail/mixture_options.hpp"
#include "detail/mixture_params.hpp"
#include "detail/mixture_scale.hpp"
#include "detail/mixture_stats.hpp"
#include "detail/model_access.hpp"
#include "detail/parallel.hpp"
#include "detail/random.hpp"
#include "detail/reducer.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"
#include "options.hpp"

namespace emcluster {

/// Gaussian mixture model fitted by the EM algorithm, with the semantics of scikit-learn's
/// `GaussianMixture` wherever it has them.
///
/// **Model.** k Gaussian components with weights w_j, means mu_j and covariances Sigma_j of
/// one of four shapes (CovarianceType): `full` (each its own), `tied` (one shared), `diagonal`
/// (each its own diagonal) or `spherical` (each one variance). `reg_covar` is added to every
/// covariance diagonal. Optionally a noise component (what R's mclust offers): a uniform
/// density over a box (the data's bounding box unless the caller gives one) with its own
/// weight w_0, estimated by EM with the others; then `weights()` sum to 1 - `noise_weight()`.
///
/// **Fit.** Each iteration is one pass over the rows in blocks: the E-step computes every
/// component's log-density from its precision Cholesky factor P (P P^T = Sigma^-1; no inverse
/// covariance, no determinant), log N(x) = -d/2 log 2pi + sum log diag(P) - 1/2 ||(x - mu)^T P||^2,
/// and the responsibilities by log-sum-exp, so nothing underflows even where the densities
/// themselves are far below the smallest double; the same pass accumulates, in double,
/// the M-step's sufficient statistics (responsibility sums, first and second moments around
/// the current means, log-likelihood). Chunks of rows are combined in a fixed order, so the
/// result is the same for any thread count. Memory beyond the data: O(k d^2 + block x k).
/// The lower bound is the (sample-weighted) mean log-likelihood per sample of the parameters
/// an iteration started from; iteration stops when it changes by less than `tol` or after
/// `max_iter` iterations; the model keeps the parameters after the last M-step (as
/// scikit-learn). With `n_init` > 1 the restart with the highest lower bound wins.
///
/// **Initialisation** (GaussianMixtureInit): a hard assignment (KMeans labels by default, or
/// every sample to its nearest k-means++ centre, random sample, or given mean) or random
/// responsibilities, followed by one M-step. Non-empty `initial_weights`, `initial_means`,
/// `initial_precisions` replace what the initialisation produced (as scikit-learn's
/// weights_init, means_init, precisions_init); when all three are given nothing is computed
/// from the data and the first iteration's E-step starts from them.
///
/// **Precisions** are given, per covariance type, as a vector of compact blocks (the same
/// layout as scikit-learn's precisions_init): `full` k matrices d x d, `tied` one d x d,
/// `diagonal` k column vectors d x 1 (the diagonals), `spherical` k matrices 1 x 1.
///
/// @tparam Scalar `float` or `double`: the scalar type of the data, of the E-step's products
///         and of the returned parameters. Statistics are accumulated and parameters kept in
///         double either way.
///
/// @code
/// Eigen::MatrixXd X = ...;                            // n x d, samples in rows
/// emcluster::GaussianMixture<>::Options opts;
/// opts.n_components = 3;
/// opts.covariance_type = emcluster::CovarianceType::full;
/// opts.noise_component = true;                        // background points get label -1
/// opts.seed = 42;
/// emcluster::GaussianMixture<> gmm(opts);
/// Eigen::VectorXi labels = gmm.fit_predict(X);
/// Eigen::MatrixXd cov0 = gmm.covariance(0);           // d x d, for an ellipse
/// double bic = gmm.bic(X), ll = gmm.lower_bound();
/// Eigen::MatrixXd proba = gmm.predict_proba(X);       // n x (3 + 1): the last column is noise
/// @endcode
///
/// **Numeric range.** When the data's range (the largest max - min over the columns) is
/// beyond 2^+-256 (double) or 2^+-32 (float), the model is fitted on X * 2^-e with e the
/// range's binary exponent: an exact power-of-two rescaling applied block by block as an
/// Eigen expression (no copy), K-means start included; the parameters are converted back, and
/// predict/score on new data rescale them the same way. So the same data times 2^s give the
/// same labels, means times 2^s, covariances times 2^2s, precision factors times 2^-s and
/// log-likelihoods shifted by -d s ln 2, for any s that keeps the data normal numbers; data
/// of ordinary range take the unscaled path (the only extra cost is one pass computing the
/// column minima and maxima). `reg_covar` is in the data's units (as scikit-learn): a
/// rescaled fit adds reg_covar * 2^-2e, which may underflow to 0 for e beyond about +-500
/// (where reg_covar is below the resolution of any covariance the data can have, except a
/// collapsed component's, which then fails as not positive definite). An accessor whose
/// result is beyond the range of Scalar (float covariances of data around 1e20 or more, double
/// covariances of data beyond about 1e154) throws emcluster::numerical_error saying so and
/// suggesting double or standardising; everything representable is returned correctly.
///
/// **Far points.** A point so far from every component that its log-density is below the range
/// of double under each of them (the squared Mahalanobis distance overflows; e.g. a point at
/// 1e200 for a mixture of unit-scale data), and outside the noise box, has its true
/// log-density's representation, minus infinity, in score_samples; score() is then minus
/// infinity and bic()/aic() plus infinity. predict, predict_proba and uncertainty assign it
/// with probability 1 to the component with the smallest squared Mahalanobis distance,
/// computed in a power-of-two scaled form that cannot overflow (ties to the lowest index), so
/// they never throw on valid data and always agree (predict = the argmax of predict_proba,
/// uncertainty 0). A per-sample log-density that is finite in double but below the lowest
/// float is -inf in GaussianMixture<float>::score_samples (IEEE rounding), while score, bic
/// and aic, in double, stay finite. fit() throws numerical_error naming the row if a training
/// sample is that far from every component (its log-likelihood cannot be computed).
///
/// Errors: std::invalid_argument for bad options or data (non-finite values with their row
/// and column, fewer samples than components, wrong sizes, negative weights, initial
/// precisions that are not positive definite), emcluster::not_fitted_error before fit,
/// emcluster::numerical_error when a covariance is not positive definite even after
/// `reg_covar` (the message names the component and suggests a larger `reg_covar`), for a
/// far training sample, and for parameters beyond Scalar's range (above). A fit that throws
/// leaves the previously fitted model unchanged.
template <typename Scalar = double>
class GaussianMixture {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster::GaussianMixture<Scalar>: Scalar must be float or double");

 public:
  /// Means, covariances, samples.
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;  ///< weights, per-sample values

  /// Parameters fixed at construction.
  struct Options {
    /// k, the number of Gaussian components (>= 1).
    Eigen::Index n_components = 1;
    /// Shape of the covariances.
    CovarianceType covariance_type = CovarianceType::full;
    /// Stop when the lower bound changes by less than this (>= 0; 0 = run max_iter iterations).
    double tol = 1e-3;
    /// Added to the diagonal of every covariance (>= 0), in the data's units (class notes).
    double reg_covar = 1e-6;
    int max_iter = 100;  ///< EM iterations per restart at most (>= 1)
    /// Restarts; the highest lower bound wins (>= 1; ignored by a warm start).
    int n_init = 1;
    GaussianMixtureInit init = GaussianMixtureInit::kmeans;  ///< how each restart starts
    /// k weights summing to 1; if given, replace the initialisation's weights.
    Vector initial_weights;
    /// k x d; if given, replace the initialisation's means (required by explicit_parameters).
    Matrix initial_means;
    /// Inverse covariances as compact blocks (class notes); if given, replace the
    /// initialisation's.
    std::vector<Matrix> initial_precisions;
    /// fit() on a fitted model continues from its parameters (one run, no init).
    bool warm_start = false;
    std::uint64_t seed = 0;        ///< seed of every random choice (init, restarts)
    bool noise_component = false;  ///< add a uniform background component with its own weight
    /// d lower corners of the noise box; empty = the data's minimum per feature.
    Eigen::VectorXd noise_low;
    /// d upper corners of the noise box; empty = the data's maximum per feature.
    Eigen::VectorXd noise_high;
    double initial_noise_weight = 0.1;  ///< starting weight of the noise component, in (0, 1)
    /// Called after every iteration, if set.
    std::function<void(const GaussianMixtureIteration&)> callback;
  };

  /// A model with default options (one full-covariance component).
  GaussianMixture() = default;
  /// A model with the given options; they are checked by fit().
  explicit GaussianMixture(Options options) : options_(std::move(options)) {}

  /// Fits the mixture to X (n x d, samples in rows, every weight 1).
  /// @return *this.
  template <typename Derived>
  GaussianMixture& fit(const Eigen::MatrixBase<Derived>& X) {
    return fit_impl(X, nullptr);
  }

  /// Fits with a non-negative weight per sample (n entries, positive sum): every sum of the
  /// M-step and the lower bound are weighted, as if sample i appeared w_i times.
  template <typename Derived, typename WDerived>
  GaussianMixture& fit(const Eigen::MatrixBase<Derived>& X,
                       const Eigen::MatrixBase<WDerived>& sample_weight) {
    detail::check_sample_weight("GaussianMixture::fit", sample_weight, X.rows());
    Eigen::VectorXd w = sample_weight.template cast<double>();
    // Extreme weights (a sum that overflows) are divided by a power of two: every fitted
    // quantity is a weighted mean, so none changes.
    detail::normalize_weights(w);
    return fit_impl(X, w.data());
  }

  /// Fits and returns predict(X) for the fitted model.
  template <typename Derived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X) {
    return fit(X).predict(X);
  }
  /// Fits with sample weights and returns predict(X).
  template <typename Derived, typename WDerived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X,
                              const Eigen::MatrixBase<WDerived>& sample_weight) {
    return fit(X, sample_weight).predict(X);
  }

  /// The most probable component of every row of X (the first on ties); -1 where the noise
  /// component is the most probable.
  template <typename Derived>
  Eigen::VectorXi predict(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("GaussianMixture::predict", X);
    return in_fit_units(
        X, [&](const auto& Xs) { return detail::most_probable_components(Xs, density_); });
  }

  /// Posterior probability of every component for every row of X: n x k, plus a last
  /// column for the noise component when there is one. Rows sum to 1. This n x k matrix is
  /// the caller's request; nothing else builds one.
  template <typename Derived>
  Matrix predict_proba(const Eigen::MatrixBase<Derived>& X) const {
    const char* where = "GaussianMixture::predict_proba";
    check_new_data(where, X);
    Matrix out(X.rows(), density_.columns());
    in_fit_units(X, [&](const auto& Xs) {
      detail::for_each_posterior_block(Xs, density_, where,
                                       [&](Eigen::Index begin, const Eigen::MatrixXd& resp) {
                                         out.middleRows(begin, resp.rows()) = resp.cast<Scalar>();
                                       });
      return 0;
    });
    return out;
  }

  /// Uncertainty of the classification of every row of X: 1 minus its largest posterior
  /// probability (R mclust's `uncertainty`), the noise component counting as a component.
  /// 0 where one component claims the row entirely, at most 1 - 1/m for m components (k, or
  /// k + 1 with noise). Equals `1 - predict_proba(X).rowwise().maxCoeff()` (in float: that
  /// value taken in double, rounded once), computed block by block without the n x k matrix.
  ///
  /// @code
  /// emcluster::GaussianMixture<> gmm(opts);
  /// Eigen::VectorXi labels = gmm.fit_predict(X);
  /// Eigen::VectorXd u = gmm.uncertainty(X);   // n values in [0, 1)
  /// // rows the model is unsure about: u(i) > 0.2, say
  /// @endcode
  template <typename Derived>
  Vector uncertainty(const Eigen::MatrixBase<Derived>& X) const {
    const char* where = "GaussianMixture::uncertainty";
    check_new_data(where, X);
    Vector out(X.rows());
    in_fit_units(X, [&](const auto& Xs) {
      detail::for_each_posterior_block(
          Xs, density_, where, [&](Eigen::Index begin, const Eigen::MatrixXd& resp) {
            for (Eigen::Index i = 0; i < resp.rows(); ++i) {
              out(begin + i) = static_cast<Scalar>(1.0 - resp.row(i).maxCoeff());
            }
          });
      return 0;
    });
    return out;
  }

  /// Log-density of the mixture at every row of X (log sum_j w_j N(x | mu_j, Sigma_j), plus
  /// the noise term), by log-sum-exp: finite even where every density underflows.
  template <typename Derived>
  Vector score_samples(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("GaussianMixture::score_samples", X);
    Vector out(X.rows());
    const double shift = log_density_shift();
    in_fit_units(X, [&](const auto& Xs) {
      detail::for_each_log_prob_block(
          Xs, density_, detail::make_chunks(X.rows(), 0),
          [&](std::size_t, Eigen::Index begin, Eigen::MatrixXd& lp, detail::EmWorkspace&) {
            if (shift == 0) {
              out.segment(begin, lp.rows()) = detail::row_log_sum_exp(lp).template cast<Scalar>();
            } else {
              out.segment(begin, lp.rows()) =
                  (detail::row_log_sum_exp(lp).array() - shift).template cast<Scalar>();
            }
          });
      return 0;
    });
    return out;
  }

  /// Mean log-density per row of X (summed in double, in a fixed order).
  template <typename Derived>
  double score(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("GaussianMixture::score", X);
    return total_log_likelihood(X) / static_cast<double>(X.rows());
  }

  /// Bayesian information criterion on X: -2 log L + n_parameters() log n (lower is better).
  template <typename Derived>
  double bic(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("GaussianMixture::bic", X);
    return -2.0 * total_log_likelihood(X) +
           static_cast<double>(n_parameters()) * std::log(static_cast<double>(X.rows()));
  }

  /// Akaike information criterion on X: -2 log L + 2 n_parameters() (lower is better).
  template <typename Derived>
  double aic(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("GaussianMixture::aic", X);
    return -2.0 * total_log_likelihood(X) + 2.0 * static_cast<double>(n_parameters());
  }

  /// Draws n points from the fitted mixture: the points (n x d) and the component of each
  /// (-1 for the noise component, uniform in its box). Depends only on the model and the seed.
  std::pair<Matrix, Eigen::VectorXi> sample(Eigen::Index n, std::uint64_t seed) const {
    detail::check_fitted("GaussianMixture::sample", fitted_);
    if (n < 1) detail::fail("GaussianMixture::sample", "n = ", n, " must be at least 1");
    detail::Random rng(seed);
    auto drawn = detail::draw_samples(params_, box_, n, rng);
    return {detail::to_scalar_checked<Scalar>(detail::ldexp_matrix(drawn.first, exponent_),
                                              "GaussianMixture::sample", "a drawn point"),
            std::move(drawn.second)};
  }

  /// Free parameters counted as scikit-learn does (k - 1 weights, k d means, the covariance
  /// entries: full k d(d+1)/2, tied d(d+1)/2, diagonal k d, spherical k), plus 1 for the
  /// noise weight when there is a noise component.
  Eigen::Index n_parameters() const {
    detail::check_fitted("GaussianMixture::n_parameters", fitted_);
    return detail::free_parameters(params_.type, n_components(), params_.d(), box_.enabled);
  }

  /// Mixing weights of the k Gaussian components (they sum to 1 - noise_weight()).
  const Vector& weights() const {
    detail::check_fitted("GaussianMixture::weights", fitted_);
    return weights_;
  }
  /// Weight of the noise component (0 without one).
  double noise_weight() const {
    detail::check_fitted("GaussianMixture::noise_weight", fitted_);
    return params_.noise_weight;
  }
  /// Component means, k x d.
  const Matrix& means() const {
    detail::check_fitted("GaussianMixture::means", fitted_);
    return means_;
  }
  /// Covariance of one component as a full d x d matrix, whatever the covariance type
  /// (reg_covar included; the shared matrix for `tied`).
  Matrix covariance(Eigen::Index component) const {
    const char* where = "GaussianMixture::covariance";
    check_component(where, component);
    return detail::to_scalar_checked<Scalar>(
        detail::ldexp_matrix(detail::expand_block(params_, params_.covariances, component),
                             2 * exponent_),
        where, "the covariance");
  }
  /// Precision Cholesky factor P of one component as a d x d matrix with P P^T =
  /// covariance(component)^-1: upper triangular for `full`/`tied` (scikit-learn's
  /// precisions_cholesky_), diagonal for `diagonal`/`spherical`.
  Matrix precisions_cholesky(Eigen::Index component) const {
    const char* where = "GaussianMixture::precisions_cholesky";
    check_component(where, component);
    return detail::to_scalar_checked<Scalar>(
        detail::ldexp_matrix(detail::expand_block(params_, params_.precisions_cholesky, component),
                             -exponent_),
        where, "the precision Cholesky factor");
  }
  /// Lower corners of the noise component's box (empty without a noise component).
  const Eigen::VectorXd& noise_low() const {
    detail::check_fitted("GaussianMixture::noise_low", fitted_);
    return noise_low_;
  }
  /// Upper corners of the noise component's box (empty without a noise component).
  const Eigen::VectorXd& noise_high() const {
    detail::check_fitted("GaussianMixture::noise_high", fitted_);
    return noise_high_;
  }
  /// Whether the winning restart stopped on `tol` (rather than on max_iter).
  bool converged() const {
    detail::check_fitted("GaussianMixture::converged", fitted_);
    return converged_;
  }
  /// EM iterations run by the winning restart (by the last fit, for a warm start).
  int n_iter() const {
    detail::check_fitted("GaussianMixture::n_iter", fitted_);
    return n_iter_;
  }
  /// Lower bound (mean log-likelihood per sample, sample-weighted) of the winning restart's
  /// last iteration, as scikit-learn's lower_bound_.
  double lower_bound() const {
    detail::check_fitted("GaussianMixture::lower_bound", fitted_);
    return lower_bound_;
  }
  /// Whether fit() has succeeded at least once.
  bool is_fitted() const { return fitted_; }
  /// k, from the options.
  Eigen::Index n_components() const { return options_.n_components; }
  /// Number of features seen by fit().
  Eigen::Index n_features() const {
    detail::check_fitted("GaussianMixture::n_features", fitted_);
    return params_.d();
  }
  /// The covariance type, from the options.
  CovarianceType covariance_type() const { return options_.covariance_type; }
  /// The options given at construction.
  const Options& options() const { return options_; }

 private:
  friend struct detail::ModelAccess;  // model files (io.hpp) read and restore the fitted state
  friend struct detail::FitAccess;    // the distributed fits of emcluster/mpi.hpp

  /// One restart's result, kept apart from the model until the whole fit succeeded.
  struct Run {
    detail::MixtureParams params;
    double lower_bound = -std::numeric_limits<double>::infinity();
    int n_iter = 0;
    bool converged = false;
  };

  /// f(X), or f(X * 2^-exponent_) (an expression, evaluated block by block) when the model
  /// was fitted on rescaled data.
  template <typename Derived, typename F>
  auto in_fit_units(const Eigen::MatrixBase<Derived>& X, F&& f) const {
    if (exponent_ == 0) return f(X);
    return f(X.derived() * detail::pow2<Scalar>(-exponent_));
  }

  /// d e log 2: a log-density in the fit's units minus this is the one in the data's units.
  double log_density_shift() const {
    return exponent_ == 0 ? 0.0
                          : static_cast<double>(params_.d()) * static_cast<double>(exponent_) *
                                0.69314718055994530942;
  }

  template <typename Derived>
  double total_log_likelihood(const Eigen::MatrixBase<Derived>& X) const {
    const double total =
        in_fit_units(X, [&](const auto& Xs) { return detail::total_log_likelihood(Xs, density_); });
    return total - static_cast<double>(X.rows()) * log_density_shift();
  }

  void check_component(const char* where, Eigen::Index component) const {
    detail::check_fitted(where, fitted_);
    if (component < 0 || component >= n_components()) {
      detail::fail(where, "component ", component, " is out of range [0, ", n_components(), ")");
    }
  }

  template <typename Derived>
  void check_new_data(const char* where, const Eigen::MatrixBase<Derived>& X) const {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::GaussianMixture<Scalar>: X must have the model's scalar type");
    detail::check_fitted(where, fitted_);
    detail::check_data(where, "X", X);
    detail::check_columns(where, X, params_.d());
  }

  /// EM iterations from `params` until |change| < tol or max_iter, on X in the fit's units
  /// (the data times 2^-e; `o` holds reg_covar in those units; the lower bounds passed in and
  /// out are in them too, `shift` = d e log 2 converts them for the callback).
  template <typename Derived, typename Reducer>
  Run em(const Eigen::MatrixBase<Derived>& X, const double* w, const Options& o,
         detail::MixtureParams params, const detail::NoiseBox& box, double lower_bound, int restart,
         double shift, const Reducer& reducer) const {
    const char* where = "GaussianMixture::fit";
    Run run;
    for (int it = 1; it <= o.max_iter; ++it) {
      const double previous = lower_bound;
      // E-step and the M-step's sufficient statistics in one pass over the rows, one buffer
      // per chunk of rows; then the buffers combined in chunk order.
      const detail::MixtureDensity density(params, box);
      // The processes' statistics are then summed (LocalReducer: one process, nothing to do).
      Eigen::Index bad = -1;
      detail::MixtureStats stats =
          detail::combine(detail::em_pass(X, w, density, bad), params.type, params.k(), X.cols());
      detail::agreed(reducer, [&] {
        if (bad >= 0) detail::fail_zero_density(where, bad);
      });
      detail::sum_over_processes(stats, reducer);
      lower_bound = stats.log_likelihood() / stats.weight();
      if (!std::isfinite(lower_bound)) {
        throw numerical_error(detail::message(
            where, ": the log-likelihood is not finite in iteration ", it,
            " (a sum over the samples left the range of double: check the sample weights)"));
      }
      // M-step: new parameters from the combined statistics (throws if a covariance fails).
      params =
          detail::m_step(stats, params.means, density.reference, o.reg_covar, box.enabled, where);
      const double change = lower_bound - previous;
      run.n_iter = it;
      run.lower_bound = lower_bound;
      if (o.callback) {
        o.callback(GaussianMixtureIteration{restart, it, lower_bound - shift, change});
      }
      if (std::abs(change) < o.tol) {
        run.converged = true;
        break;
      }
    }
    run.params = std::move(params);
    return run;
  }

  /// The options with every quantity in data units (reg_covar, initial means and precisions,
  /// the noise box) expressed for the data times 2^-e.
  Options options_in_fit_units(int e) const {
    Options o = options_;
    if (e == 0) return o;
    o.reg_covar = std::ldexp(options_.reg_covar, -2 * e);
    if (o.initial_means.size() != 0) {
      o.initial_means = detail::ldexp_matrix(options_.initial_means.template cast<double>(), -e)
                            .template cast<Scalar>();
    }
    for (auto& p : o.initial_precisions) {
      p = detail::ldexp_matrix(p.template cast<double>(), 2 * e).template cast<Scalar>();
    }
    if (o.noise_low.size() != 0) o.noise_low = detail::ldexp_matrix(options_.noise_low, -e);
    if (o.noise_high.size() != 0) o.noise_high = detail::ldexp_matrix(options_.noise_high, -e);
    return o;
  }

  template <typename Derived>
  GaussianMixture& fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w) {
    return fit_impl(X, w, 0, detail::LocalReducer(X.rows()));
  }

  /// The fit on the rows of every process of the reducer (LocalReducer: this one); each
  /// process passes its own rows and weights (already normalised: the weight exponent is not
  /// needed, every fitted quantity is a weighted mean).
  template <typename Derived, typename Reducer>
  GaussianMixture& fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w, int,
                            const Reducer& reducer) {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::GaussianMixture<Scalar>: X must have the model's scalar type");
    const char* where = "GaussianMixture::fit";
    detail::check_shard_data(where, "X", X, reducer);
    const bool warm = options_.warm_start && fitted_;
    if (warm) detail::check_columns(where, X, params_.d());
    detail::check_mixture_options(options_, reducer.total_rows(), X.cols(), where);
    // Data of extreme magnitude are fitted as X * 2^-e (exact), ordinary data as they are.
    const int e = detail::data_exponent(X, reducer);
    if (e == 0) return fit_in_units(X, w, 0, reducer);
    return fit_in_units(X.derived() * detail::pow2<Scalar>(-e), w, e, reducer);
  }

  /// The fit on Xs = X * 2^-e.
  template <typename Derived, typename Reducer>
  GaussianMixture& fit_in_units(const Eigen::MatrixBase<Derived>& Xs, const double* w, int e,
                                const Reducer& reducer) {
    const char* where = "GaussianMixture::fit";
    const Options o = options_in_fit_units(e);
    const bool warm = options_.warm_start && fitted_;
    const double shift =
        static_cast<double>(Xs.cols()) * static_cast<double>(e) * 0.69314718055994530942;
    const detail::NoiseBox box =
        o.noise_component ? detail::make_noise_box(Xs, o.noise_low, o.noise_high, where, reducer)
                          : detail::NoiseBox();

    detail::Random master(o.seed);
    const int restarts = warm ? 1 : o.n_init;
    Run best;
    for (int r = 0; r < restarts; ++r) {
      detail::Random rng(master.child_seed());
      detail::MixtureParams start = warm
                                        ? detail::rescale_params(params_, exponent_ - e)
                                        : detail::initial_parameters(o, Xs, w, rng, where, reducer);
      Run run = em(Xs, w, o, std::move(start), box,
                   warm ? lower_bound_ + shift : -std::numeric_limits<double>::infinity(), r, shift,
                   reducer);
      if (r == 0 || run.lower_bound > best.lower_bound) best = std::move(run);
    }
    commit(std::move(best.params), box, e, best.lower_bound - shift, best.n_iter, best.converged);
    return *this;
  }

  /// Commits fitted parameters and noise box in the fit's units (the data times 2^-e), with
  /// the lower bound in the data's units: everything the accessors and predictions use follows
  /// from them. Throws (numerical_error, a mean beyond Scalar's range) before changing
  /// anything. fit() calls it; a model file (io.hpp) restores through it.
  void commit(detail::MixtureParams params, const detail::NoiseBox& box, int e, double lower_bound,
              int n_iter, bool converged) {
    const char* where = "GaussianMixture::fit";
    detail::MixtureDensity density(params, box);
    Vector weights = params.weights.template cast<Scalar>();
    Matrix means = detail::to_scalar_checked<Scalar>(detail::ldexp_matrix(params.means, e), where,
                                                     "a component mean");
    Eigen::VectorXd noise_low, noise_high;
    if (box.enabled) {
      noise_low = detail::ldexp_matrix(box.low, e);
      noise_high = detail::ldexp_matrix(box.high, e);
    }
    // Commit: nothing above touched the model, so a throw leaves it as it was.
    params_ = std::move(params);
    box_ = box;
    density_ = std::move(density);
    weights_ = std::move(weights);
    means_ = std::move(means);
    noise_low_ = std::move(noise_low);
    noise_high_ = std::move(noise_high);
    exponent_ = e;
    lower_bound_ = lower_bound;
    n_iter_ = n_iter;
    converged_ = converged;
    fitted_ = true;
  }

  Options options_;
  detail::MixtureParams params_;
  detail::NoiseBox box_;
  detail::MixtureDensity density_;
  Vector weights_;
  Matrix means_;
  Eigen::VectorXd noise_low_, noise_high_;  ///< the noise box in the data's units
  /// The model was fitted on the data times 2^-exponent_ (0 for ordinary data): params_,
  /// box_ and density_ are in those units; the accessors convert.
  int exponent_ = 0;
  double lower_bound_ = -std::numeric_limits<double>::infinity();
  int n_iter_ = 0;
  bool converged_ = false;
  bool fitted_ = false;
};

}  // namespace emcluster
