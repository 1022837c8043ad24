/// @file gaussian_mixture.hpp
/// @brief Gaussian mixture models fitted by expectation-maximisation in log space: four
/// covariance types, an optional uniform noise component, restarts, warm start, BIC/AIC and
/// deterministic multi-threaded passes.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/gaussian.hpp"
#include "detail/kmeans_init.hpp"
#include "detail/parallel.hpp"
#include "detail/random.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"
#include "kmeans.hpp"
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
/// Errors: std::invalid_argument for bad options or data (non-finite values with their row
/// and column, fewer samples than components, wrong sizes, negative weights, initial
/// precisions that are not positive definite), emcluster::not_fitted_error before fit,
/// emcluster::numerical_error when a covariance is not positive definite even after
/// `reg_covar` (the message names the component and suggests a larger `reg_covar`). A fit
/// that throws leaves the previously fitted model unchanged.
template <typename Scalar = double>
class GaussianMixture {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster::GaussianMixture<Scalar>: Scalar must be float or double");

 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< means, covariances, samples
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;               ///< weights, per-sample values

  /// Parameters fixed at construction.
  struct Options {
    Eigen::Index n_components = 1;                          ///< k, the number of Gaussian components (>= 1)
    CovarianceType covariance_type = CovarianceType::full;  ///< shape of the covariances
    double tol = 1e-3;       ///< stop when the lower bound changes by less than this (>= 0; 0 = run max_iter iterations)
    double reg_covar = 1e-6;  ///< added to the diagonal of every covariance (>= 0)
    int max_iter = 100;       ///< EM iterations per restart at most (>= 1)
    int n_init = 1;           ///< restarts; the highest lower bound wins (>= 1; ignored by a warm start)
    GaussianMixtureInit init = GaussianMixtureInit::kmeans;  ///< how each restart starts
    Vector initial_weights;   ///< k weights summing to 1; if given, replace the initialisation's weights
    Matrix initial_means;     ///< k x d; if given, replace the initialisation's means (required by explicit_parameters)
    std::vector<Matrix> initial_precisions;  ///< inverse covariances as compact blocks (class notes); if given, replace the initialisation's
    bool warm_start = false;  ///< fit() on a fitted model continues from its parameters (one run, no init)
    std::uint64_t seed = 0;   ///< seed of every random choice (init, restarts)
    bool noise_component = false;  ///< add a uniform background component with its own weight
    Eigen::VectorXd noise_low;     ///< d lower corners of the noise box; empty = the data's minimum per feature
    Eigen::VectorXd noise_high;    ///< d upper corners of the noise box; empty = the data's maximum per feature
    double initial_noise_weight = 0.1;  ///< starting weight of the noise component, in (0, 1)
    std::function<void(const GaussianMixtureIteration&)> callback;  ///< called after every iteration, if set
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
  GaussianMixture& fit(const Eigen::MatrixBase<Derived>& X, const Eigen::MatrixBase<WDerived>& sample_weight) {
    detail::check_sample_weight("GaussianMixture::fit", sample_weight, X.rows());
    const Eigen::VectorXd w = sample_weight.template cast<double>();
    return fit_impl(X, w.data());
  }

  /// Fits and returns predict(X) for the fitted model.
  template <typename Derived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X) {
    return fit(X).predict(X);
  }
  /// Fits with sample weights and returns predict(X).
  template <typename Derived, typename WDerived>
  Eigen::VectorXi fit_predict(const Eigen::MatrixBase<Derived>& X, const Eigen::MatrixBase<WDerived>& sample_weight) {
    return fit(X, sample_weight).predict(X);
  }

  /// The most probable component of every row of X (the first on ties); -1 where the noise
  /// component is the most probable.
  template <typename Derived>
  Eigen::VectorXi predict(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("GaussianMixture::predict", X);
    Eigen::VectorXi labels(X.rows());
    const Eigen::Index k = n_components();
    for_each_log_prob_block(X, detail::make_chunks(X.rows(), 0),
                            [&](std::size_t, Eigen::Index begin, Eigen::Index end, const Eigen::MatrixXd& lp) {
                              for (Eigen::Index i = 0; i < end - begin; ++i) {
                                Eigen::Index best = 0;
                                lp.row(i).maxCoeff(&best);
                                labels(begin + i) = best == k ? -1 : static_cast<int>(best);
                              }
                            });
    return labels;
  }

  /// Posterior probability of every component for every row of X: n x k, plus a last
  /// column for the noise component when there is one. Rows sum to 1. This n x k matrix is
  /// the caller's request; nothing else builds one.
  template <typename Derived>
  Matrix predict_proba(const Eigen::MatrixBase<Derived>& X) const {
    const char* where = "GaussianMixture::predict_proba";
    check_new_data(where, X);
    Matrix out(X.rows(), density_.columns());
    for_each_log_prob_block(X, detail::make_chunks(X.rows(), 0),
                            [&](std::size_t, Eigen::Index begin, Eigen::Index end, const Eigen::MatrixXd& lp) {
                              Eigen::MatrixXd resp = lp;
                              detail::EmWorkspace ws;
                              const Eigen::Index bad = detail::log_prob_to_responsibilities(resp, ws);
                              if (bad >= 0) zero_density_error(where, begin + bad);
                              out.middleRows(begin, end - begin) = resp.cast<Scalar>();
                            });
    return out;
  }

  /// Log-density of the mixture at every row of X (log sum_j w_j N(x | mu_j, Sigma_j), plus
  /// the noise term), by log-sum-exp: finite even where every density underflows.
  template <typename Derived>
  Vector score_samples(const Eigen::MatrixBase<Derived>& X) const {
    check_new_data("GaussianMixture::score_samples", X);
    Vector out(X.rows());
    for_each_log_prob_block(X, detail::make_chunks(X.rows(), 0),
                            [&](std::size_t, Eigen::Index begin, Eigen::Index end, const Eigen::MatrixXd& lp) {
                              out.segment(begin, end - begin) = row_log_sum_exp(lp).template cast<Scalar>();
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
    const Eigen::Index k = n_components(), d = n_features();
    // Covariance Cholesky factors L (Sigma = L L^T): x = mu + L z.
    std::vector<Eigen::MatrixXd> factors;
    for (const auto& cov : params_.covariances) {
      if (params_.type == CovarianceType::full || params_.type == CovarianceType::tied) {
        factors.emplace_back(Eigen::LLT<Eigen::MatrixXd>(cov).matrixL());
      } else {
        factors.emplace_back(cov.array().sqrt().matrix());
      }
    }
    Eigen::VectorXd cumulative(k + 1);
    double acc = 0;
    for (Eigen::Index j = 0; j < k; ++j) cumulative(j) = (acc += params_.weights(j));
    cumulative(k) = (acc += params_.noise_weight);
    detail::Random rng(seed);
    Matrix X(n, d);
    Eigen::VectorXi labels(n);
    Eigen::VectorXd z(d);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double u = rng.uniform() * acc;
      Eigen::Index j = 0;
      while (j < k && !(u < cumulative(j))) ++j;
      if (j == k && !(params_.noise_weight > 0)) j = k - 1;  // rounding at the top end
      if (j == k) {
        for (Eigen::Index f = 0; f < d; ++f) X(i, f) = static_cast<Scalar>(rng.uniform(box_.low(f), box_.high(f)));
        labels(i) = -1;
        continue;
      }
      for (Eigen::Index f = 0; f < d; ++f) z(f) = rng.normal();
      const Eigen::MatrixXd& L = factors[static_cast<std::size_t>(params_.type == CovarianceType::tied ? 0 : j)];
      Eigen::RowVectorXd x = params_.means.row(j);
      switch (params_.type) {
        case CovarianceType::full:
        case CovarianceType::tied:
          x += (L.triangularView<Eigen::Lower>() * z).transpose();
          break;
        case CovarianceType::diagonal:
          x += L.col(0).cwiseProduct(z).transpose();
          break;
        case CovarianceType::spherical:
          x += L(0, 0) * z.transpose();
          break;
      }
      X.row(i) = x.cast<Scalar>();
      labels(i) = static_cast<int>(j);
    }
    return {std::move(X), std::move(labels)};
  }

  /// Free parameters counted as scikit-learn does (k - 1 weights, k d means, the covariance
  /// entries: full k d(d+1)/2, tied d(d+1)/2, diagonal k d, spherical k), plus 1 for the
  /// noise weight when there is a noise component.
  Eigen::Index n_parameters() const {
    detail::check_fitted("GaussianMixture::n_parameters", fitted_);
    return detail::free_parameters(params_.type, n_components(), n_features(), box_.enabled);
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
    check_component("GaussianMixture::covariance", component);
    return expand(params_.covariances, component).template cast<Scalar>();
  }
  /// Precision Cholesky factor P of one component as a d x d matrix with P P^T =
  /// covariance(component)^-1: upper triangular for `full`/`tied` (scikit-learn's
  /// precisions_cholesky_), diagonal for `diagonal`/`spherical`.
  Matrix precisions_cholesky(Eigen::Index component) const {
    check_component("GaussianMixture::precisions_cholesky", component);
    return expand(params_.precisions_cholesky, component).template cast<Scalar>();
  }
  /// Lower corners of the noise component's box (empty without a noise component).
  const Eigen::VectorXd& noise_low() const {
    detail::check_fitted("GaussianMixture::noise_low", fitted_);
    return box_.low;
  }
  /// Upper corners of the noise component's box (empty without a noise component).
  const Eigen::VectorXd& noise_high() const {
    detail::check_fitted("GaussianMixture::noise_high", fitted_);
    return box_.high;
  }
  /// Whether the winning restart stopped on `tol` (rather than on max_iter).
  bool converged() const { return converged_; }
  /// EM iterations run by the winning restart (by the last fit, for a warm start).
  int n_iter() const { return n_iter_; }
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
  /// Number of features seen by fit() (0 before).
  Eigen::Index n_features() const { return fitted_ ? means_.cols() : 0; }
  /// The covariance type, from the options.
  CovarianceType covariance_type() const { return options_.covariance_type; }
  /// The options given at construction.
  const Options& options() const { return options_; }

 private:
  /// One restart's result, kept apart from the model until the whole fit succeeded.
  struct Run {
    detail::MixtureParams params;
    double lower_bound = -std::numeric_limits<double>::infinity();
    int n_iter = 0;
    bool converged = false;
  };

  [[noreturn]] static void zero_density_error(const char* where, Eigen::Index row) {
    throw numerical_error(detail::message(
        where, ": sample ", row,
        " has zero density under every component (its log-density is not finite); the data may be badly "
        "scaled for reg_covar: standardise the features or increase reg_covar"));
  }

  static Eigen::VectorXd row_log_sum_exp(const Eigen::MatrixXd& lp) {
    const Eigen::VectorXd m = lp.rowwise().maxCoeff();
    Eigen::VectorXd out(lp.rows());
    for (Eigen::Index i = 0; i < lp.rows(); ++i) {
      out(i) = std::isfinite(m(i)) ? m(i) + std::log((lp.row(i).array() - m(i)).exp().sum()) : m(i);
    }
    return out;
  }

  void check_component(const char* where, Eigen::Index component) const {
    detail::check_fitted(where, fitted_);
    if (component < 0 || component >= n_components()) {
      detail::fail(where, "component ", component, " is out of range [0, ", n_components(), ")");
    }
  }

  /// A compact block as a full d x d matrix.
  Eigen::MatrixXd expand(const std::vector<Eigen::MatrixXd>& blocks, Eigen::Index component) const {
    const Eigen::Index d = n_features();
    switch (params_.type) {
      case CovarianceType::full:
        return blocks[static_cast<std::size_t>(component)];
      case CovarianceType::tied:
        return blocks[0];
      case CovarianceType::diagonal:
        return blocks[static_cast<std::size_t>(component)].col(0).asDiagonal();
      case CovarianceType::spherical:
        break;
    }
    return blocks[static_cast<std::size_t>(component)](0, 0) * Eigen::MatrixXd::Identity(d, d);
  }

  template <typename Derived>
  void check_new_data(const char* where, const Eigen::MatrixBase<Derived>& X) const {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::GaussianMixture<Scalar>: X must have the model's scalar type");
    detail::check_fitted(where, fitted_);
    detail::check_data(where, "X", X);
    detail::check_columns(where, X, n_features());
  }

  /// Calls body(chunk, begin, end, lp) with the weighted log-densities lp of every block.
  template <typename Derived, typename Body>
  void for_each_log_prob_block(const Eigen::MatrixBase<Derived>& X, const std::vector<detail::Chunk>& chunks,
                               Body&& body) const {
    detail::for_each_chunk(chunks, [&](std::size_t c, const detail::Chunk& chunk) {
      Eigen::MatrixXd xd, lp;
      detail::EmWorkspace ws;
      detail::for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
        xd = X.derived().middleRows(begin, end - begin).template cast<double>();
        density_.log_prob(xd, lp, ws);
        body(c, begin, end, lp);
      });
    });
  }

  template <typename Derived>
  double total_log_likelihood(const Eigen::MatrixBase<Derived>& X) const {
    const auto chunks = detail::make_chunks(X.rows(), 0);
    std::vector<double> partial(chunks.size(), 0.0);
    for_each_log_prob_block(X, chunks, [&](std::size_t c, Eigen::Index, Eigen::Index, const Eigen::MatrixXd& lp) {
      partial[c] += row_log_sum_exp(lp).sum();
    });
    double total = 0;
    for (double p : partial) total += p;
    return total;
  }

  void check_options(Eigen::Index n, Eigen::Index d) const {
    const char* where = "GaussianMixture::fit";
    const auto& o = options_;
    const Eigen::Index k = o.n_components;
    if (k < 1) detail::fail(where, "n_components = ", k, " must be at least 1");
    if (!(o.tol >= 0) || !std::isfinite(o.tol)) detail::fail(where, "tol = ", o.tol, " must be finite and >= 0");
    if (!(o.reg_covar >= 0) || !std::isfinite(o.reg_covar)) {
      detail::fail(where, "reg_covar = ", o.reg_covar, " must be finite and >= 0");
    }
    if (o.max_iter < 1) detail::fail(where, "max_iter = ", o.max_iter, " must be at least 1");
    if (o.n_init < 1) detail::fail(where, "n_init = ", o.n_init, " must be at least 1");
    if (n < k) detail::fail(where, "X has ", n, " samples, fewer than n_components = ", k);
    if (o.initial_weights.size() != 0) {
      if (o.initial_weights.size() != k) {
        detail::fail(where, "initial_weights has ", o.initial_weights.size(), " entries but n_components = ", k);
      }
      double sum = 0;
      for (Eigen::Index j = 0; j < k; ++j) {
        const double v = static_cast<double>(o.initial_weights(j));
        if (!std::isfinite(v) || v < 0 || v > 1) {
          detail::fail(where, "initial_weights[", j, "] = ", v, " is not in [0, 1]");
        }
        sum += v;
      }
      if (std::abs(sum - 1.0) > 1e-6) detail::fail(where, "initial_weights sum to ", sum, ", not 1");
    }
    if (o.initial_means.size() != 0) {
      if (o.initial_means.rows() != k || o.initial_means.cols() != d) {
        detail::fail(where, "initial_means is ", o.initial_means.rows(), " x ", o.initial_means.cols(),
                     " but must be n_components x n_features = ", k, " x ", d);
      }
      detail::check_data(where, "initial_means", o.initial_means);
    } else if (o.init == GaussianMixtureInit::explicit_parameters) {
      detail::fail(where, "init = explicit_parameters needs initial_means (", k, " x ", d, ")");
    }
    if (!o.initial_precisions.empty()) {
      const CovarianceType type = o.covariance_type;
      const auto blocks = static_cast<std::size_t>(detail::covariance_blocks(type, k));
      if (o.initial_precisions.size() != blocks) {
        detail::fail(where, "initial_precisions has ", o.initial_precisions.size(), " blocks but a ",
                     detail::covariance_type_name(type), " mixture of ", k, " components needs ", blocks);
      }
      const Eigen::Index rows = type == CovarianceType::spherical ? 1 : d;
      const Eigen::Index cols = (type == CovarianceType::full || type == CovarianceType::tied) ? d : 1;
      for (std::size_t b = 0; b < blocks; ++b) {
        const Matrix& P = o.initial_precisions[b];
        if (P.rows() != rows || P.cols() != cols) {
          detail::fail(where, "initial_precisions[", b, "] is ", P.rows(), " x ", P.cols(), " but a ",
                       detail::covariance_type_name(type), " precision block must be ", rows, " x ", cols);
        }
        if (!P.allFinite()) detail::fail(where, "initial_precisions[", b, "] has a non-finite entry");
        if (cols == d && d > 1) {
          const Eigen::MatrixXd Pd = P.template cast<double>();
          const double asym = (Pd - Pd.transpose()).cwiseAbs().maxCoeff();
          if (asym > 1e-8 + 1e-5 * Pd.cwiseAbs().maxCoeff()) {
            detail::fail(where, "initial_precisions[", b, "] is not symmetric (max |P - P^T| = ", asym, ")");
          }
        }
      }
    }
    if (o.noise_component) {
      if (!(o.initial_noise_weight > 0 && o.initial_noise_weight < 1)) {
        detail::fail(where, "initial_noise_weight = ", o.initial_noise_weight, " must be in (0, 1)");
      }
      if (o.noise_low.size() != o.noise_high.size()) {
        detail::fail(where, "noise_low has ", o.noise_low.size(), " entries but noise_high has ", o.noise_high.size());
      }
      if (o.noise_low.size() != 0) {
        if (o.noise_low.size() != d) {
          detail::fail(where, "noise_low and noise_high have ", o.noise_low.size(), " entries but X has ", d,
                       " features");
        }
        for (Eigen::Index f = 0; f < d; ++f) {
          if (!std::isfinite(o.noise_low(f)) || !std::isfinite(o.noise_high(f)) || !(o.noise_low(f) < o.noise_high(f))) {
            detail::fail(where, "the noise box needs finite noise_low[", f, "] < noise_high[", f, "], got ",
                         o.noise_low(f), " and ", o.noise_high(f));
          }
        }
      }
    }
  }

  template <typename Derived>
  detail::NoiseBox make_noise_box(const Eigen::MatrixBase<Derived>& X) const {
    detail::NoiseBox box;
    if (!options_.noise_component) return box;
    box.enabled = true;
    if (options_.noise_low.size() != 0) {
      box.low = options_.noise_low;
      box.high = options_.noise_high;
    } else {
      box.low = X.colwise().minCoeff().transpose().template cast<double>();
      box.high = X.colwise().maxCoeff().transpose().template cast<double>();
      for (Eigen::Index f = 0; f < X.cols(); ++f) {
        if (!(box.low(f) < box.high(f))) {
          detail::fail("GaussianMixture::fit", "column ", f, " of X is constant, so the data's bounding box has no ",
                       "volume for the noise component; give Options::noise_low and noise_high");
        }
      }
    }
    box.log_density = -(box.high - box.low).array().log().sum();
    return box;
  }

  /// Index of the nearest centre (squared Euclidean, in double) of every row.
  template <typename Derived>
  static Eigen::VectorXi nearest_labels(const Eigen::MatrixBase<Derived>& X, const Eigen::MatrixXd& centres) {
    Eigen::VectorXi labels(X.rows());
    const auto chunks = detail::make_chunks(X.rows(), 0);
    detail::for_each_chunk(chunks, [&](std::size_t, const detail::Chunk& chunk) {
      Eigen::MatrixXd xd, dist;
      detail::for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
        xd = X.derived().middleRows(begin, end - begin).template cast<double>();
        dist.resize(xd.rows(), centres.rows());
        for (Eigen::Index j = 0; j < centres.rows(); ++j) {
          dist.col(j) = (xd.rowwise() - centres.row(j)).rowwise().squaredNorm();
        }
        for (Eigen::Index i = 0; i < xd.rows(); ++i) {
          Eigen::Index best = 0;
          dist.row(i).minCoeff(&best);
          labels(begin + i) = static_cast<int>(best);
        }
      });
    });
    return labels;
  }

  /// Weighted mean of the rows of X, in double, summed in chunk order.
  template <typename Derived>
  static Eigen::RowVectorXd weighted_mean(const Eigen::MatrixBase<Derived>& X, const double* w) {
    const auto chunks = detail::make_chunks(X.rows(), 0);
    std::vector<Eigen::RowVectorXd> sums(chunks.size());
    std::vector<double> weights(chunks.size());
    detail::for_each_chunk(chunks, [&](std::size_t c, const detail::Chunk& chunk) {
      Eigen::RowVectorXd s = Eigen::RowVectorXd::Zero(X.cols());
      double total = 0;
      for (Eigen::Index i = chunk.begin; i < chunk.end; ++i) {
        const double wi = detail::weight_of(w, i);
        s += wi * X.row(i).template cast<double>();
        total += wi;
      }
      sums[c] = std::move(s);
      weights[c] = total;
    });
    Eigen::RowVectorXd s = Eigen::RowVectorXd::Zero(X.cols());
    double total = 0;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      s += sums[c];
      total += weights[c];
    }
    return s / total;
  }

  /// Parameters from a hard assignment (labels) or random responsibilities, by one M-step.
  template <typename Derived>
  detail::MixtureParams init_from_data(const Eigen::MatrixBase<Derived>& X, const double* w, detail::Random& rng) const {
    const char* where = "GaussianMixture::fit";
    const auto& o = options_;
    const Eigen::Index k = o.n_components, n = X.rows();
    const CovarianceType type = o.covariance_type;
    Eigen::MatrixXd centres;
    Eigen::VectorXi labels;
    switch (o.init) {
      case GaussianMixtureInit::kmeans: {
        typename KMeans<Scalar>::Options ko;
        ko.n_clusters = k;
        ko.n_init = 1;  // one KMeans run per restart, as scikit-learn
        ko.seed = rng.child_seed();
        KMeans<Scalar> km(ko);
        if (w) {
          km.fit(X, Eigen::Map<const Eigen::VectorXd>(w, n));
        } else {
          km.fit(X);
        }
        centres = km.cluster_centers().template cast<double>();
        labels = km.labels();
        break;
      }
      case GaussianMixtureInit::kmeans_plus_plus:
        centres = detail::kmeans_plus_plus(X, w, k, 0, rng);
        labels = nearest_labels(X, centres);
        break;
      case GaussianMixtureInit::random_points:
        centres = detail::random_samples_init(X, k, rng);
        labels = nearest_labels(X, centres);
        break;
      case GaussianMixtureInit::explicit_parameters:
        centres = o.initial_means.template cast<double>();
        labels = nearest_labels(X, centres);
        break;
      case GaussianMixtureInit::random_responsibilities: {
        // Every component's shift is the data's mean: random responsibilities put every
        // initial mean close to it.
        centres = weighted_mean(X, w).replicate(k, 1);
        const auto n_chunks = detail::make_chunks(n, detail::MixtureStats::bytes(type, k, X.cols())).size();
        std::vector<detail::Random> streams;
        for (std::size_t c = 0; c < n_chunks; ++c) streams.emplace_back(rng.child_seed());
        const Eigen::RowVectorXd reference = centres.colwise().mean();
        const detail::MixtureStats stats = detail::accumulate_pass(
            X, w, type, centres, reference,
            [&](std::size_t c, Eigen::Index begin, Eigen::Index end, const Eigen::MatrixXd&, Eigen::MatrixXd& resp,
                Eigen::VectorXd&, detail::EmWorkspace&) {
              detail::Random& g = streams[c];
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
        return detail::m_step(stats, centres, reference, type, o.reg_covar, false, where);
      }
    }
    const Eigen::RowVectorXd reference = centres.colwise().mean();
    const detail::MixtureStats stats = detail::accumulate_pass(
        X, w, type, centres, reference,
        [&](std::size_t, Eigen::Index begin, Eigen::Index end, const Eigen::MatrixXd&, Eigen::MatrixXd& resp,
            Eigen::VectorXd&, detail::EmWorkspace&) {
          resp.setZero(end - begin, k);
          for (Eigen::Index i = begin; i < end; ++i) resp(i - begin, labels(i)) = 1.0;
        });
    return detail::m_step(stats, centres, reference, type, o.reg_covar, false, where);
  }

  /// A restart's starting parameters: the initialisation, then the caller's initial_*.
  template <typename Derived>
  detail::MixtureParams initial_parameters(const Eigen::MatrixBase<Derived>& X, const double* w,
                                           detail::Random& rng) const {
    const auto& o = options_;
    const bool all_given = o.initial_weights.size() != 0 && o.initial_means.size() != 0 && !o.initial_precisions.empty();
    detail::MixtureParams p;
    p.type = o.covariance_type;
    if (!all_given) p = init_from_data(X, w, rng);
    if (o.initial_weights.size() != 0) p.weights = o.initial_weights.template cast<double>();
    if (o.initial_means.size() != 0) p.means = o.initial_means.template cast<double>();
    if (!o.initial_precisions.empty()) {
      p.covariances.clear();
      p.precisions_cholesky.clear();
      for (std::size_t b = 0; b < o.initial_precisions.size(); ++b) {
        p.precisions_cholesky.push_back(detail::precision_cholesky_from_precision(
            o.initial_precisions[b].template cast<double>(), p.type, static_cast<Eigen::Index>(b),
            "GaussianMixture::fit"));
      }
    }
    p.noise_weight = 0;
    if (o.noise_component) {
      p.weights *= 1.0 - o.initial_noise_weight;
      p.noise_weight = o.initial_noise_weight;
    }
    return p;
  }

  /// EM iterations from `params` until |change| < tol or max_iter.
  template <typename Derived>
  Run em(const Eigen::MatrixBase<Derived>& X, const double* w, detail::MixtureParams params,
         const detail::NoiseBox& box, double lower_bound, int restart) const {
    const char* where = "GaussianMixture::fit";
    const auto& o = options_;
    Run run;
    for (int it = 1; it <= o.max_iter; ++it) {
      const double previous = lower_bound;
      // E-step and the M-step's statistics in one pass over the rows.
      const detail::MixtureDensity density(params, box);
      Eigen::Index bad = -1;
      const detail::MixtureStats stats = detail::em_pass(X, w, density, bad);
      if (bad >= 0) zero_density_error(where, bad);
      lower_bound = stats.log_likelihood / stats.weight;
      if (!std::isfinite(lower_bound)) {
        throw numerical_error(detail::message(where, ": the log-likelihood is not finite in iteration ", it,
                                              "; standardise the features or increase reg_covar"));
      }
      // M-step: new parameters from the combined statistics (throws if a covariance fails).
      params = detail::m_step(stats, params.means, density.reference, o.covariance_type, o.reg_covar, box.enabled, where);
      const double change = lower_bound - previous;
      run.n_iter = it;
      run.lower_bound = lower_bound;
      if (o.callback) o.callback(GaussianMixtureIteration{restart, it, lower_bound, change});
      if (std::abs(change) < o.tol) {
        run.converged = true;
        break;
      }
    }
    run.params = std::move(params);
    return run;
  }

  template <typename Derived>
  GaussianMixture& fit_impl(const Eigen::MatrixBase<Derived>& X, const double* w) {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::GaussianMixture<Scalar>: X must have the model's scalar type");
    const char* where = "GaussianMixture::fit";
    detail::check_data(where, "X", X);
    const bool warm = options_.warm_start && fitted_;
    if (warm) detail::check_columns(where, X, n_features());
    check_options(X.rows(), X.cols());
    const detail::NoiseBox box = make_noise_box(X);

    detail::Random master(options_.seed);
    const int restarts = warm ? 1 : options_.n_init;
    Run best;
    for (int r = 0; r < restarts; ++r) {
      detail::Random rng(master.child_seed());
      detail::MixtureParams start = warm ? params_ : initial_parameters(X, w, rng);
      Run run = em(X, w, std::move(start), box, warm ? lower_bound_ : -std::numeric_limits<double>::infinity(), r);
      if (r == 0 || run.lower_bound > best.lower_bound) best = std::move(run);
    }
    detail::MixtureDensity density(best.params, box);
    Vector weights = best.params.weights.template cast<Scalar>();
    Matrix means = best.params.means.template cast<Scalar>();
    // Commit: nothing above touched the model, so a throw leaves it as it was.
    params_ = std::move(best.params);
    box_ = box;
    density_ = std::move(density);
    weights_ = std::move(weights);
    means_ = std::move(means);
    lower_bound_ = best.lower_bound;
    n_iter_ = best.n_iter;
    converged_ = best.converged;
    fitted_ = true;
    return *this;
  }

  Options options_;
  detail::MixtureParams params_;
  detail::NoiseBox box_;
  detail::MixtureDensity density_;
  Vector weights_;
  Matrix means_;
  double lower_bound_ = -std::numeric_limits<double>::infinity();
  int n_iter_ = 0;
  bool converged_ = false;
  bool fitted_ = false;
};

}  // namespace emcluster
