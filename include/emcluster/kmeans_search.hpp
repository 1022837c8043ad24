/// @file kmeans_search.hpp
/// @brief KMeansSearch: chooses the number of K-means clusters by the silhouette,
/// Calinski-Harabasz or Davies-Bouldin index, with its options.
///
/// @code
/// #include <emcluster/kmeans_search.hpp>
///
/// emcluster::KMeansSearch<> search;  // k = 2..9, silhouette
/// search.fit(X);
/// std::cout << search.table();
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

#include "detail/reducer.hpp"
#include "detail/sample_rows.hpp"
#include "detail/search_results.hpp"
#include "detail/search_tables.hpp"
#include "detail/silhouette.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"
#include "internal_metrics.hpp"
#include "kmeans.hpp"
#include "search_types.hpp"

namespace emcluster {

/// Options of KMeansSearch (its `Options`).
struct KMeansSearchOptions {
  /// Candidate numbers of clusters (each >= 1 and at most the number of samples).
  std::vector<Eigen::Index> n_clusters = {2, 3, 4, 5, 6, 7, 8, 9};
  /// What best() optimises.
  KMeansScore score = KMeansScore::silhouette;
  /// Compute all three indices (else only `score`'s; the others stay NaN).
  bool all_scores = false;
  /// sample_size, seed and exclude_noise of silhouette_score.
  SilhouetteOptions silhouette;
  /// KMeans's n_init (0 = its auto).
  int n_init = 0;
  /// KMeans's max_iter (>= 1).
  int max_iter = 300;
  /// KMeans's tol (>= 0).
  double tol = 1e-4;
  /// Seed of the K-means runs.
  std::uint64_t seed = 0;
  /// Called with every row once it is done, if set.
  std::function<void(const KMeansCandidate&)> callback;
};

/// Chooses the number of K-means clusters by an internal index: the silhouette (default),
/// Calinski-Harabasz or Davies-Bouldin, what scikit-learn users compute in a loop.
///
/// Every k of `n_clusters` (default 2..9: every index needs at least two clusters) is one
/// KMeans (`n_init` restarts, seed from (seed, k) only), scored on its own labels.
/// silhouette_score is O(n^2 d) (exact, blocked, threaded); give `silhouette.sample_size`
/// to score a random subset of the rows instead, as scikit-learn's `sample_size`. The index
/// chosen by `score` is always computed; with `all_scores` the other two as well (the
/// silhouette then also costs O(n^2 d)), else they are NaN. The best candidate has the
/// highest silhouette or Calinski-Harabasz index, or the lowest Davies-Bouldin index.
///
/// A candidate whose index is not defined (k = 1, or k = n for the silhouette) is a failed
/// row with the metric's message; the result has the same shape as GaussianMixtureSearch's.
///
/// @code
/// emcluster::KMeansSearch<>::Options opts;
/// opts.n_clusters = {2, 3, 4, 5, 6};
/// opts.score = emcluster::KMeansScore::silhouette;
/// opts.silhouette.sample_size = 5000;  // score a subset on large data
/// emcluster::KMeansSearch<> search(opts);
/// search.fit(X);
/// std::cout << search.table();
/// Eigen::VectorXi labels = search.best_model().labels();
/// @endcode
///
/// Errors: std::invalid_argument naming the option for an empty list of k, k < 1, k above
/// the number of samples, a repeated k, an unknown score or bad KMeans options; for data as
/// KMeans. emcluster::numerical_error when every candidate failed; not_fitted_error for the
/// results before fit. A fit that throws leaves the search as it was.
template <typename Scalar = double>
class KMeansSearch
    : public detail::SearchResults<KMeansSearch<Scalar>, KMeansCandidate, KMeans<Scalar>> {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster::KMeansSearch<Scalar>: Scalar must be float or double");
  friend class detail::SearchResults<KMeansSearch<Scalar>, KMeansCandidate, KMeans<Scalar>>;
  static constexpr const char* kName = "KMeansSearch";

 public:
  using Model = KMeans<Scalar>;  ///< the type of the best model

  /// Parameters fixed at construction (the same for float and double).
  using Options = KMeansSearchOptions;

  /// A search with the default options (k = 2..9, silhouette).
  KMeansSearch() = default;
  /// A search with the given options; they are checked by fit().
  explicit KMeansSearch(Options options) : options_(std::move(options)) {}

  /// Fits KMeans for every candidate k on X (n x d) and keeps the best.
  /// @return *this.
  template <typename Derived>
  KMeansSearch& fit(const Eigen::MatrixBase<Derived>& X) {
    return fit_impl(X, nullptr, 0, detail::LocalReducer(X.rows()));
  }

  // results(), best_index() (the first on ties), best(), best_model() (its labels(),
  // cluster_centers(), predict, ...) and is_fitted() come from detail::SearchResults.

  /// The options given at construction.
  const Options& options() const { return options_; }

  /// Every row as aligned text, one line per candidate, the best marked with '*'.
  std::string table() const {
    detail::check_fitted(kName, "table", this->fitted_);
    return detail::kmeans_table(this->rows_, this->best_, score_);
  }

  /// Every row as CSV with a header line: k, inertia, silhouette, calinski_harabasz,
  /// davies_bouldin, n_iter, converged (0/1), criterion, best (0/1), error. Numbers as
  /// "%.17g", empty where not computed.
  std::string csv() const {
    detail::check_fitted(kName, "csv", this->fitted_);
    return detail::kmeans_csv(this->rows_, this->best_);
  }

 private:
  friend struct detail::FitAccess;  // the distributed search of emcluster/mpi.hpp

  /// The search over the rows of every process of the reducer (LocalReducer: this one):
  /// every KMeans a fit over all rows, every score computed over all rows (see
  /// score_candidate). Sample weights are not offered (w is nullptr).
  template <typename Derived, typename Reducer>
  KMeansSearch& fit_impl(const Eigen::MatrixBase<Derived>& X, const double*, int,
                         const Reducer& reducer) {
    static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                  "emcluster::KMeansSearch<Scalar>: X must have the search's scalar type");
    const char* where = "KMeansSearch::fit";
    detail::check_shard_data(where, "X", X, reducer);
    check_options(reducer.total_rows());
    if constexpr (Reducer::kDistributed) {
      const bool silhouette = options_.all_scores || options_.score == KMeansScore::silhouette;
      if (silhouette && options_.silhouette.sample_size == 0) {
        detail::fail(where,
                     "the silhouette over MPI needs silhouette.sample_size > 0 (it compares "
                     "every pair of rows; the sample is gathered on every process)");
      }
    }
    const auto& o = options_;
    std::vector<KMeansCandidate> rows;
    Model best_model;
    std::ptrdiff_t best = -1;
    for (Eigen::Index k : o.n_clusters) {
      typename Model::Options ko;
      ko.n_clusters = k;
      ko.n_init = o.n_init;
      ko.max_iter = o.max_iter;
      ko.tol = o.tol;
      ko.seed = detail::candidate_seed(o.seed, k, 0);
      Model model(ko);
      detail::FitAccess::fit(model, X, nullptr, 0, reducer);  // LocalReducer: model.fit(X)
      KMeansCandidate row;
      row.k = k;
      row.inertia = model.inertia();
      row.n_iter = model.n_iter();
      row.converged = model.converged();
      try {
        score_candidate(X, model.labels(), row, reducer);
      } catch (const std::invalid_argument& e) {
        row.failed = true;
        row.error = e.what();
      }
      if (!row.failed && !std::isfinite(row.criterion)) {
        row.failed = true;
        row.error = detail::message(where, ": the ", score_name(o.score), " score is not finite");
      }
      if (!row.failed && (best < 0 || better(row, rows[static_cast<std::size_t>(best)]))) {
        best = static_cast<std::ptrdiff_t>(rows.size());
        best_model = std::move(model);
      }
      if (o.callback) o.callback(row);
      rows.push_back(std::move(row));
    }
    if (best < 0) {
      throw numerical_error(detail::message(where, ": every one of the ", rows.size(),
                                            " candidates failed; the first (k = ", rows[0].k,
                                            "): ", rows[0].error));
    }
    score_ = o.score;
    this->commit(std::move(rows), static_cast<std::size_t>(best), std::move(best_model));
    return *this;
  }

  void check_options(Eigen::Index n) const {
    const char* where = "KMeansSearch::fit";
    const auto& o = options_;
    detail::check_k_list(where, "n_clusters", o.n_clusters, n);
    if (o.score != KMeansScore::silhouette && o.score != KMeansScore::calinski_harabasz &&
        o.score != KMeansScore::davies_bouldin) {
      detail::fail(where, "score = ", static_cast<int>(o.score),
                   " is unknown; use KMeansScore::silhouette, calinski_harabasz or davies_bouldin");
    }
    if (o.n_init < 0) detail::fail(where, "n_init = ", o.n_init, " must be >= 0 (0 = auto)");
    if (o.max_iter < 1) detail::fail(where, "max_iter = ", o.max_iter, " must be at least 1");
    if (!(o.tol >= 0) || !std::isfinite(o.tol)) {
      detail::fail(where, "tol = ", o.tol, " must be finite and >= 0");
    }
    if (o.silhouette.sample_size < 0) {
      detail::fail(where, "silhouette.sample_size = ", o.silhouette.sample_size,
                   " must be >= 0 (0 = every row)");
    }
  }

  /// Whether candidate a beats candidate b under the search's score.
  bool better(const KMeansCandidate& a, const KMeansCandidate& b) const {
    return options_.score == KMeansScore::davies_bouldin ? a.criterion < b.criterion
                                                         : a.criterion > b.criterion;
  }

  /// The scores of one candidate from its labels. Over several processes (each passing its
  /// own rows and their labels): Calinski-Harabasz and Davies-Bouldin from per-cluster sums
  /// reduced over the processes; the silhouette on silhouette.sample_size global rows drawn
  /// alike on every process (as the single process draws them) and shared, so every
  /// process scores the same sample.
  template <typename Derived, typename Reducer>
  void score_candidate(const Eigen::MatrixBase<Derived>& X, const Eigen::VectorXi& labels,
                       KMeansCandidate& row, const Reducer& reducer) const {
    const auto& o = options_;
    const bool all = o.all_scores;
    if constexpr (!Reducer::kDistributed) {
      if (all || o.score == KMeansScore::silhouette) {
        row.silhouette = silhouette_score(X, labels, o.silhouette);
      }
      if (all || o.score == KMeansScore::calinski_harabasz) {
        row.calinski_harabasz = calinski_harabasz_score(X, labels);
      }
      if (all || o.score == KMeansScore::davies_bouldin) {
        row.davies_bouldin = davies_bouldin_score(X, labels);
      }
    } else {
      if (all || o.score == KMeansScore::silhouette) {
        row.silhouette = sampled_silhouette(X, labels, reducer);
      }
      if (all || o.score != KMeansScore::silhouette) {
        // The labels' distinct values over every process, in ascending order, as
        // encode_labels numbers them.
        const Eigen::Index k = row.k;
        Eigen::VectorXd count = Eigen::VectorXd::Zero(k);
        for (Eigen::Index i = 0; i < labels.size(); ++i) count(labels(i)) += 1.0;
        reducer.sum(count.data(), static_cast<std::size_t>(k));
        std::vector<int> code_of(static_cast<std::size_t>(k), -1);
        int distinct = 0;
        for (Eigen::Index j = 0; j < k; ++j)
          if (count(j) > 0) code_of[static_cast<std::size_t>(j)] = distinct++;
        const Eigen::Index m = reducer.total_rows();
        const char* name = all || o.score == KMeansScore::calinski_harabasz
                               ? "calinski_harabasz_score"
                               : "davies_bouldin_score";
        if (distinct < 2 || distinct > m - 1) {
          detail::fail(name, "labels has ", distinct, " distinct value(s) among ", m,
                       " samples; valid numbers of labels are 2 to n_samples - 1 = ", m - 1,
                       " (inclusive)");
        }
        std::vector<int> code(static_cast<std::size_t>(labels.size()));
        for (Eigen::Index i = 0; i < labels.size(); ++i)
          code[static_cast<std::size_t>(i)] = code_of[static_cast<std::size_t>(labels(i))];
        const detail::ClusterScatter sc = detail::cluster_scatter(X, code, distinct, reducer);
        if (all || o.score == KMeansScore::calinski_harabasz) {
          row.calinski_harabasz =
              detail::calinski_harabasz_value(sc, static_cast<double>(m), distinct);
        }
        if (all || o.score == KMeansScore::davies_bouldin) {
          row.davies_bouldin = detail::davies_bouldin_value(sc, distinct);
        }
      }
    }
    switch (o.score) {
      case KMeansScore::silhouette:
        row.criterion = row.silhouette;
        break;
      case KMeansScore::calinski_harabasz:
        row.criterion = row.calinski_harabasz;
        break;
      case KMeansScore::davies_bouldin:
        row.criterion = row.davies_bouldin;
        break;
    }
  }

  /// The silhouette of silhouette.sample_size rows of all processes (all rows when there are
  /// no more): the rows silhouette_score would draw from the concatenated rows, each filled
  /// in by its owner and shared, then scored alike on every process.
  template <typename Derived, typename Reducer>
  double sampled_silhouette(const Eigen::MatrixBase<Derived>& X, const Eigen::VectorXi& labels,
                            const Reducer& reducer) const {
    const SilhouetteOptions& so = options_.silhouette;
    const Eigen::Index n = reducer.total_rows();
    std::vector<Eigen::Index> pick;
    if (so.sample_size > 0 && so.sample_size < n) {
      detail::Random rng(so.seed);
      pick = detail::sample_without_replacement(n, so.sample_size, rng);
    } else {
      for (Eigen::Index g = 0; g < n; ++g) pick.push_back(g);
    }
    const auto m = static_cast<Eigen::Index>(pick.size());
    Eigen::MatrixXd rows = Eigen::MatrixXd::Zero(m, X.cols() + 1);  // the row, then its label
    const Eigen::Index lo = reducer.row_offset(), hi = lo + X.rows();
    for (Eigen::Index t = 0; t < m; ++t) {
      const Eigen::Index g = pick[static_cast<std::size_t>(t)];
      if (g < lo || g >= hi) continue;
      rows.row(t).head(X.cols()) = X.row(g - lo).template cast<double>();
      rows(t, X.cols()) = labels(g - lo);
    }
    detail::share_owned_rows(reducer, rows);
    const Eigen::VectorXi sample_labels = rows.col(X.cols()).template cast<int>();
    return silhouette_score(rows.leftCols(X.cols()), sample_labels);
  }

  Options options_;
  KMeansScore score_ = KMeansScore::silhouette;
};

}  // namespace emcluster
