/// @file detail/search_results.hpp
/// @brief What the model searches share: candidate-list checks, seeds that depend only on
/// (seed, k, start), the choice of the best row, and the fitted results with their accessors.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "validation.hpp"

namespace emcluster::detail {

/// One step of splitmix64: a well-mixed 64-bit value from any 64-bit input.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// The seed of start `start` for k components: a function of (seed, k, start) only, so a
/// candidate's fit does not depend on which other candidates the search runs.
inline std::uint64_t candidate_seed(std::uint64_t seed, Eigen::Index k, int start) {
  return splitmix64(splitmix64(seed ^ splitmix64(static_cast<std::uint64_t>(k))) +
                    static_cast<std::uint64_t>(start));
}

/// Checks a list of candidate numbers of clusters: not empty, every entry in [1, n], no
/// entry twice. `name` is the option's name, used in the messages.
inline void check_k_list(const char* where, const char* name, const std::vector<Eigen::Index>& ks,
                         Eigen::Index n) {
  if (ks.empty()) fail(where, name, " is empty; give at least one number of clusters");
  for (std::size_t i = 0; i < ks.size(); ++i) {
    if (ks[i] < 1) fail(where, name, "[", i, "] = ", ks[i], " must be at least 1");
    if (ks[i] > n) {
      fail(where, name, "[", i, "] = ", ks[i], " exceeds the number of samples (X has ", n,
           " rows)");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (ks[j] == ks[i]) fail(where, name, "[", i, "] = ", ks[i], " repeats ", name, "[", j, "]");
    }
  }
}

/// Position of the best row that did not fail: the first row no later row beats
/// (`beats(a, b)`: row a is strictly better than row b); -1 when every row failed.
template <typename Row, typename Beats>
std::ptrdiff_t best_row(const std::vector<Row>& rows, Beats beats) {
  std::ptrdiff_t best = -1;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].failed) continue;
    if (best < 0 || beats(rows[r], rows[static_cast<std::size_t>(best)])) {
      best = static_cast<std::ptrdiff_t>(r);
    }
  }
  return best;
}

/// Base of the model searches, by the curiously recurring template pattern: Search is the
/// search deriving from it (GaussianMixtureSearch<Scalar> or KMeansSearch<Scalar>), which
/// provides `static constexpr const char* kName` (the prefix of messages) and commits a
/// successful fit with commit(). Every accessor of the results throws
/// emcluster::not_fitted_error("kName::method: ...") before fit.
template <typename Search, typename Row, typename Model>
class SearchResults {
 public:
  /// Every candidate, in the order of the search.
  const std::vector<Row>& results() const {
    check_fitted(Search::kName, "results", fitted_);
    return rows_;
  }
  /// Position of the best candidate in results() (the first on ties).
  std::size_t best_index() const {
    check_fitted(Search::kName, "best_index", fitted_);
    return best_;
  }
  /// The best candidate's row.
  const Row& best() const {
    check_fitted(Search::kName, "best", fitted_);
    return rows_[best_];
  }
  /// The best candidate's fitted model, ready for predict and the rest.
  const Model& best_model() const {
    check_fitted(Search::kName, "best_model", fitted_);
    return best_model_;
  }
  /// Whether fit() has succeeded.
  bool is_fitted() const { return fitted_; }

 protected:
  /// Keeps a successful fit's rows and best model (the search's only change of state).
  void commit(std::vector<Row> rows, std::size_t best, Model best_model) {
    rows_ = std::move(rows);
    best_ = best;
    best_model_ = std::move(best_model);
    fitted_ = true;
  }

  std::vector<Row> rows_;
  std::size_t best_ = 0;
  Model best_model_;
  bool fitted_ = false;
};

}  // namespace emcluster::detail
