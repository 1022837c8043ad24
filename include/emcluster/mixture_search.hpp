/// @file mixture_search.hpp
/// @brief GaussianMixtureSearch: chooses k, the covariance type and the noise component of a
/// Gaussian mixture by BIC, ICL or AIC, as R's mclust's mclustBIC, with its options.
///
/// @code
/// #include <emcluster/mixture_search.hpp>
///
/// emcluster::GaussianMixtureSearch<> search;  // k = 1..9, all four types, BIC
/// search.fit(Z);
/// std::cout << search.summary();
/// @endcode
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/mixture_params.hpp"
#include "detail/mixture_scores.hpp"
#include "detail/mixture_starts.hpp"
#include "detail/reducer.hpp"
#include "detail/search_results.hpp"
#include "detail/search_tables.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"
#include "gaussian_mixture.hpp"
#include "options.hpp"
#include "search_types.hpp"

namespace emcluster {

/// Options of GaussianMixtureSearch (its `Options`): the candidates, the criterion and the
/// fits' settings.
struct GaussianMixtureSearchOptions {
  /// Candidate numbers of components (each >= 1 and at most the number of samples).
  std::vector<Eigen::Index> n_components = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  /// Candidate covariance models.
  std::vector<CovarianceType> covariance_types = {CovarianceType::full, CovarianceType::tied,
                                                  CovarianceType::diagonal,
                                                  CovarianceType::spherical};
  /// Candidates without (off), with (on) or without and with (both) the noise component.
  NoiseSearch noise = NoiseSearch::off;
  /// What best() minimises.
  SelectionCriterion criterion = SelectionCriterion::bic;
  /// Starts per k (>= 1): each candidate is fitted from every one and keeps the best.
  int n_init = 1;
  /// KMeans restarts behind each start, the lowest inertia wins (KMeans's n_init: 0 = its
  /// auto, >= 1 that many).
  int kmeans_n_init = 3;
  /// The K-means of a start runs on a uniform random subset of m = max(init_sample_size,
  /// 64 k) rows when X has at least 2 m rows (0 = always on every row).
  Eigen::Index init_sample_size = 4096;
  /// GaussianMixture's tol for every candidate: stop when the mean log-likelihood per
  /// sample changes by less (scikit-learn's default).
  double tol = 1e-3;
  /// GaussianMixture's reg_covar, added to every covariance diagonal (0 = none, as mclust).
  double reg_covar = 1e-6;
  /// EM iterations per candidate fit at most (>= 1).
  int max_iter = 100;
  /// How many of the best candidates (by the criterion) EM continues to `refine_tol` once
  /// every candidate is fitted (0 = none).
  int refine = 5;
  /// The refined candidates' tol (>= 0; about mclust's relative 1e-5 on the log-likelihood).
  double refine_tol = 1e-5;
  /// EM iterations of a refinement at most (>= 1).
  int refine_max_iter = 1000;
  /// Seed of the K-means initialisations.
  std::uint64_t seed = 0;
  /// Lower corners of the noise box (d entries); empty = the data's minimum per feature.
  Eigen::VectorXd noise_low;
  /// Upper corners of the noise box (d entries); empty = the data's maximum per feature.
  Eigen::VectorXd noise_high;
  /// Starting weight of the noise component, in (0, 1).
  double initial_noise_weight = 0.1;
  /// Called with every row once its fit is done (in the order of results()), and again with
  /// each refined row (`refined` set) once it is refined, if set.
  std::function<void(const MixtureCandidate&)> callback;
};

/// Chooses the number of components, the covariance type and the noise component of a
/// Gaussian mixture by an information criterion: R's mclust's `mclustBIC` for emcluster.
///
/// **Candidates.** Every k of `n_components` (default 1..9), every covariance type of
/// `covariance_types` (default all four: full = mclust's VVV, tied = EEE, diagonal = VVI,
/// spherical = VII) and, as `noise` says, without and/or with the uniform noise component;
/// rows in that order (k, then type, then noise off before on).
///
/// **Fits.** The candidates with the same k share their initialisation: one KMeans per k
/// (`kmeans_n_init` restarts, the lowest inertia wins) gives the initial means of every
/// covariance type and noise setting (GaussianMixtureInit::explicit_parameters: each
/// sample's nearest mean, which is its K-means label, gives the first M-step). On large data
/// (at least 2 m rows, m = max(`init_sample_size`, 64 k)) that K-means runs on a uniform
/// random subset of m rows: its centres are only a start, which EM refines on every row.
/// With `n_init` > 1 there are that many starts per k, from differently seeded K-means runs,
/// and each candidate keeps the start with the highest lower bound (a start whose fit fails
/// numerically is passed over; the candidate fails when all do). k = 1 needs no K-means: its
/// start is the data's mean, its first M-step the closed-form maximum-likelihood Gaussian
/// (with the covariance type's constraint), which EM then keeps. Every fit is a
/// GaussianMixture and uses the library's threads; every seed depends only on (seed, k,
/// start), so a candidate's row does not depend on which other candidates run, nor on the
/// thread count.
///
/// **Refinement.** Every candidate is fitted with `tol` (scikit-learn's 1e-3 on the mean
/// log-likelihood per sample by default). That stops EM early where it creeps along a plateau,
/// and the BIC, which scales with n, can then be off by tens of units on large data. So once
/// all candidates are fitted, EM continues on the `refine` best (default 5) from their
/// parameters to `refine_tol` (1e-5, about mclust's relative tolerance), and they are scored
/// again; the rows say which were refined.
///
/// **Scores** (lower is better, scikit-learn's sign; mclust's BIC and ICL are these negated):
/// with L the total log-likelihood of the fitted model, p its free parameters (as
/// GaussianMixture::n_parameters(): k - 1 weights, k d means, the covariance entries, plus
/// one for the noise weight) and z_ij the posterior probabilities (the noise column counted
/// as a component): BIC = -2 log L + p log n, ICL = BIC - 2 sum_i log max_j z_ij (mclust's
/// ICL: BIC plus twice the entropy of the hard classification), AIC = -2 log L + 2 p. For the
/// four models without noise p is mclust's count; with noise mclust counts one more (it
/// counts the noise density's hypervolume too), so its BIC of a noise model is lower by log n
/// than minus emcluster's. The ICL's term is summed by blocks of rows: no n x k matrix.
///
/// **Failures** are rows: a candidate whose fit throws emcluster::numerical_error (a
/// covariance not positive definite after `reg_covar`) or std::invalid_argument from the
/// data (a noise box without volume) gets `failed` and the message, as mclust reports NA.
///
/// @tparam Scalar `float` or `double`, the scalar type of the data and of the models.
///
/// @code
/// emcluster::GaussianMixtureSearch<>::Options opts;
/// opts.n_components = {1, 2, 3, 4, 5, 6};
/// opts.covariance_types = {emcluster::CovarianceType::full, emcluster::CovarianceType::tied};
/// opts.noise = emcluster::NoiseSearch::both;
/// opts.criterion = emcluster::SelectionCriterion::icl;
/// opts.callback = [](const emcluster::MixtureCandidate& c) {
///   std::printf("k = %ld %s: ICL %.1f\n", static_cast<long>(c.k), c.model().c_str(), c.icl);
/// };
/// emcluster::GaussianMixtureSearch<> search(opts);
/// const emcluster::GaussianMixture<>& gmm = search.fit(X).best_model();
/// std::ofstream("bic.csv") << search.csv();
/// @endcode
///
/// Errors: std::invalid_argument naming the option for an empty candidate list, a k < 1 or
/// above the number of samples, a repeated candidate, an unknown criterion, covariance type
/// or noise setting, or bad fit options; for data as GaussianMixture (empty, non-finite
/// values by row and column). emcluster::numerical_error when every candidate failed.
/// emcluster::not_fitted_error for the results before fit. A fit that throws leaves the
/// search as it was.
template <typename Scalar = double>
class GaussianMixtureSearch
    : public detail::SearchResults<GaussianMixtureSearch<Scalar>, MixtureCandidate,
                                   GaussianMixture<Scalar>> {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster::GaussianMixtureSearch<Scalar>: Scalar must be float or double");
  friend class detail::SearchResults<GaussianMixtureSearch<Scalar>, MixtureCandidate,
                                     GaussianMixture<Scalar>>;
  static constexpr const char* kName = "GaussianMixtureSearch";

 public:
  using Model = GaussianMixture<Scalar>;  ///< the type of the best model

  /// Parameters fixed at construction (the same for float and double).
  using Options = GaussianMixtureSearchOptions;

  /// A search with the default options (k = 1..9, four types, no noise, BIC).
  GaussianMixtureSearch() = default;
  /// A search with the given options; they are checked by fit().
  explicit GaussianMixtureSearch(Options options) : options_(std::move(options)) {}

  /// Fits every candidate to X (n x d, samples in rows) and keeps the best model.
  /// @return *this.
  template <typename Derived>
  GaussianMixtureSearch& fit(const Eigen::MatrixBase<Derived>& X) {
    return fit_impl(X, nullptr, 0, detail::LocalReducer(X.rows()));
  }

  // results(), best_index() (the lowest criterion, the first on ties), best(), best_model()
  // and is_fitted() come from detail::SearchResults.

  /// The options given at construction.
  const Options& options() const { return options_; }

  /// Every row as aligned text, one line per candidate (failed ones with their message),
  /// the best marked with '*'.
  std::string table() const {
    detail::check_fitted(kName, "table", this->fitted_);
    return detail::mixture_table(this->rows_, this->best_);
  }

  /// The criterion as a k x model matrix (as mclust's print of a BIC table: one row per k,
  /// one column per model, NA where the fit failed), then the three best candidates, in
  /// emcluster's sign (lower is better).
  std::string summary() const {
    detail::check_fitted(kName, "summary", this->fitted_);
    return detail::mixture_summary(this->rows_, criterion_);
  }

  /// Every row as CSV with a header line: k, covariance_type, noise (0/1), mclust_model,
  /// log_likelihood, n_parameters, bic, icl, aic, noise_weight, n_iter, converged (0/1),
  /// refined (0/1), criterion, best (0/1), error. Numbers as "%.17g" (they read back exactly),
  /// empty where a fit failed.
  std::string csv() const {
    detail::check_fitted(kName, "csv", this->fitted_);
    return detail::mixture_csv(this->rows_, this->best_);
  }

 private:
  friend struct detail::FitAccess;  // the distributed search of emcluster/mpi.hpp

  /// The search over the rows of every process of the reducer (LocalReducer: this one).
  /// Every step is collective and agreed: every process fits the same candidates in the same
  /// order and ends with the same rows and best model. Sample weights are not offered (w is
  /// nullptr).
  template <typename Derived, typename Reducer>
  GaussianMixtureSearch& fit_impl(const Eigen::MatrixBase<Derived>& X, const double*, int,
                                  const Reducer& reducer) {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::GaussianMixtureSearch<Scalar>: X must have the search's scalar type");
    const char* where = "GaussianMixtureSearch::fit";
    detail::check_shard_data(where, "X", X, reducer);
    check_options(reducer.total_rows(), X.cols());
    const auto& o = options_;
    std::vector<bool> noise_settings;
    if (o.noise != NoiseSearch::on) noise_settings.push_back(false);
    if (o.noise != NoiseSearch::off) noise_settings.push_back(true);

    std::vector<MixtureCandidate> rows;
    std::vector<Model> models;  // one per row (unfitted where the row failed): k d^2 each
    for (Eigen::Index k : o.n_components) {
      // The starts shared by every candidate with this k.
      std::vector<Eigen::MatrixXd> starts;
      std::string start_error;
      try {
        starts = detail::initial_means(X, k, o.n_init, o.kmeans_n_init, o.init_sample_size, o.seed,
                                       reducer);
      } catch (const numerical_error& e) {
        start_error = e.what();
      }
      for (CovarianceType type : o.covariance_types) {
        for (bool noise : noise_settings) {
          MixtureCandidate row;
          row.k = k;
          row.covariance_type = type;
          row.noise = noise;
          row.n_parameters = detail::free_parameters(type, k, X.cols(), noise);
          Model model;
          if (!start_error.empty()) {
            row.failed = true;
            row.error = start_error;
          } else {
            try {
              model = fit_candidate(X, starts, type, noise, reducer);
              detail::score_mixture(X, model, o.criterion, row, reducer);
            } catch (const numerical_error& e) {
              row.failed = true;
              row.error = e.what();
            } catch (const std::invalid_argument& e) {
              row.failed = true;
              row.error = e.what();
            }
          }
          if (o.callback) o.callback(row);
          rows.push_back(std::move(row));
          models.push_back(std::move(model));
        }
      }
    }
    refine_best(X, rows, models, reducer);
    const std::ptrdiff_t best =
        detail::best_row(rows, [](const MixtureCandidate& a, const MixtureCandidate& b) {
          return a.criterion < b.criterion;
        });
    if (best < 0) {
      throw numerical_error(detail::message(where, ": every one of the ", rows.size(),
                                            " candidates failed; the first (k = ", rows[0].k, ", ",
                                            rows[0].model(), "): ", rows[0].error));
    }
    Model best_model = std::move(models[static_cast<std::size_t>(best)]);
    // Commit: nothing above touched the search.
    criterion_ = o.criterion;
    this->commit(std::move(rows), static_cast<std::size_t>(best), std::move(best_model));
    return *this;
  }

  void check_options(Eigen::Index n, Eigen::Index d) const {
    const char* where = "GaussianMixtureSearch::fit";
    const auto& o = options_;
    detail::check_k_list(where, "n_components", o.n_components, n);
    if (o.covariance_types.empty()) {
      detail::fail(where, "covariance_types is empty; give at least one covariance type");
    }
    for (std::size_t i = 0; i < o.covariance_types.size(); ++i) {
      const CovarianceType t = o.covariance_types[i];
      if (t != CovarianceType::full && t != CovarianceType::tied && t != CovarianceType::diagonal &&
          t != CovarianceType::spherical) {
        detail::fail(where, "covariance_types[", i, "] = ", static_cast<int>(t),
                     " is not a CovarianceType");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (o.covariance_types[j] == t) {
          detail::fail(where, "covariance_types[", i, "] (", detail::covariance_type_name(t),
                       ") repeats covariance_types[", j, "]");
        }
      }
    }
    if (o.noise != NoiseSearch::off && o.noise != NoiseSearch::on && o.noise != NoiseSearch::both) {
      detail::fail(where, "noise = ", static_cast<int>(o.noise), " is not a NoiseSearch");
    }
    if (o.criterion != SelectionCriterion::bic && o.criterion != SelectionCriterion::icl &&
        o.criterion != SelectionCriterion::aic) {
      detail::fail(where, "criterion = ", static_cast<int>(o.criterion),
                   " is unknown; use SelectionCriterion::bic, icl or aic");
    }
    if (o.n_init < 1) detail::fail(where, "n_init = ", o.n_init, " must be at least 1");
    if (o.kmeans_n_init < 0) {
      detail::fail(where, "kmeans_n_init = ", o.kmeans_n_init, " must be >= 0 (0 = auto)");
    }
    if (!(o.tol >= 0) || !std::isfinite(o.tol)) {
      detail::fail(where, "tol = ", o.tol, " must be finite and >= 0");
    }
    if (!(o.reg_covar >= 0) || !std::isfinite(o.reg_covar)) {
      detail::fail(where, "reg_covar = ", o.reg_covar, " must be finite and >= 0");
    }
    if (o.max_iter < 1) detail::fail(where, "max_iter = ", o.max_iter, " must be at least 1");
    if (o.init_sample_size < 0) {
      detail::fail(where, "init_sample_size = ", o.init_sample_size,
                   " must be >= 0 (0 = every row)");
    }
    if (o.refine < 0) detail::fail(where, "refine = ", o.refine, " must be >= 0");
    if (!(o.refine_tol >= 0) || !std::isfinite(o.refine_tol)) {
      detail::fail(where, "refine_tol = ", o.refine_tol, " must be finite and >= 0");
    }
    if (o.refine_max_iter < 1) {
      detail::fail(where, "refine_max_iter = ", o.refine_max_iter, " must be at least 1");
    }
    if (o.noise == NoiseSearch::off) return;
    if (!(o.initial_noise_weight > 0 && o.initial_noise_weight < 1)) {
      detail::fail(where, "initial_noise_weight = ", o.initial_noise_weight, " must be in (0, 1)");
    }
    if (o.noise_low.size() != o.noise_high.size()) {
      detail::fail(where, "noise_low has ", o.noise_low.size(), " entries but noise_high has ",
                   o.noise_high.size());
    }
    if (o.noise_low.size() != 0 && o.noise_low.size() != d) {
      detail::fail(where, "noise_low and noise_high have ", o.noise_low.size(),
                   " entries but X has ", d, " features");
    }
    for (Eigen::Index f = 0; f < o.noise_low.size(); ++f) {
      if (!std::isfinite(o.noise_low(f)) || !std::isfinite(o.noise_high(f)) ||
          !(o.noise_low(f) < o.noise_high(f))) {
        detail::fail(where, "the noise box needs finite noise_low[", f, "] < noise_high[", f,
                     "], got ", o.noise_low(f), " and ", o.noise_high(f));
      }
    }
  }

  /// The candidate fitted from every start; the start with the highest lower bound is kept
  /// (the first on ties). A start whose fit fails numerically is passed over; the candidate
  /// fails only when every start does.
  template <typename Derived, typename Reducer>
  Model fit_candidate(const Eigen::MatrixBase<Derived>& X,
                      const std::vector<Eigen::MatrixXd>& starts, CovarianceType type, bool noise,
                      const Reducer& reducer) const {
    const auto& o = options_;
    Model best;
    bool have_best = false;
    std::string first_error;
    for (std::size_t s = 0; s < starts.size(); ++s) {
      typename Model::Options go;
      go.n_components = starts[s].rows();
      go.covariance_type = type;
      go.tol = o.tol;
      go.reg_covar = o.reg_covar;
      go.max_iter = o.max_iter;
      go.n_init = 1;
      go.init = GaussianMixtureInit::explicit_parameters;
      go.initial_means = starts[s].template cast<Scalar>();
      go.noise_component = noise;
      go.noise_low = o.noise_low;
      go.noise_high = o.noise_high;
      go.initial_noise_weight = o.initial_noise_weight;
      Model model(std::move(go));
      try {
        detail::FitAccess::fit(model, X, nullptr, 0, reducer);  // LocalReducer: model.fit(X)
      } catch (const numerical_error& e) {
        if (first_error.empty()) first_error = e.what();
        continue;
      }
      if (!have_best || model.lower_bound() > best.lower_bound()) {
        best = std::move(model);
        have_best = true;
      }
    }
    if (!have_best) {
      if (starts.size() == 1) throw numerical_error(first_error);
      throw numerical_error(detail::message("every one of the ", starts.size(),
                                            " starts failed; the first: ", first_error));
    }
    return best;
  }

  /// EM continued from a fitted candidate's parameters with refine_tol and refine_max_iter:
  /// a new model whose every initial parameter is the candidate's (nothing recomputed from
  /// the data), over the same noise box.
  template <typename Derived, typename Reducer>
  Model continue_fit(const Eigen::MatrixBase<Derived>& X, const Model& from,
                     const Reducer& reducer) const {
    Model model(detail::continuation_options(from, options_.refine_tol, options_.reg_covar,
                                             options_.refine_max_iter));
    detail::FitAccess::fit(model, X, nullptr, 0, reducer);
    return model;
  }

  /// Continues EM on the `refine` best candidates (by the criterion) to refine_tol and
  /// rescores them; a refinement that fails numerically leaves the candidate as it was.
  template <typename Derived, typename Reducer>
  void refine_best(const Eigen::MatrixBase<Derived>& X, std::vector<MixtureCandidate>& rows,
                   std::vector<Model>& models, const Reducer& reducer) const {
    std::vector<std::size_t> order;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (!rows[r].failed) order.push_back(r);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return rows[a].criterion < rows[b].criterion;
    });
    if (order.size() > static_cast<std::size_t>(options_.refine)) {
      order.resize(static_cast<std::size_t>(options_.refine));
    }
    for (std::size_t r : order) {
      MixtureCandidate row = rows[r];
      Model model;
      try {
        model = continue_fit(X, models[r], reducer);
        detail::score_mixture(X, model, options_.criterion, row, reducer);
      } catch (const numerical_error&) {
        continue;
      }
      row.n_iter += rows[r].n_iter;
      row.refined = true;
      rows[r] = std::move(row);
      models[r] = std::move(model);
      if (options_.callback) options_.callback(rows[r]);
    }
  }

  Options options_;
  SelectionCriterion criterion_ = SelectionCriterion::bic;
};

}  // namespace emcluster
