/// @file detail/search_tables.hpp
/// @brief The result tables of the model searches as text: GaussianMixtureSearch's table,
/// its mclust-like summary and its CSV; KMeansSearch's table and CSV.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "../search_types.hpp"
#include "mixture_params.hpp"
#include "text_table.hpp"

namespace emcluster::detail {

/// The rows of a GaussianMixtureSearch as aligned text, one line per candidate (failed ones
/// with their message), the row at `best` marked with '*'.
inline std::string mixture_table(const std::vector<MixtureCandidate>& rows, std::size_t best) {
  std::vector<std::vector<std::string>> cells = {{"k", "model", "mclust", "log-likelihood",
                                                  "params", "BIC", "ICL", "AIC", "noise weight",
                                                  "iter", "conv", "refined", "best"}};
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const MixtureCandidate& c = rows[r];
    std::vector<std::string> line = {std::to_string(c.k), c.model(),
                                     mclust_model_name(c.covariance_type)};
    if (c.failed) {
      line.push_back("failed: " + c.error);
    } else {
      line.insert(line.end(),
                  {fixed(c.log_likelihood, 3), std::to_string(c.n_parameters), fixed(c.bic, 3),
                   fixed(c.icl, 3), fixed(c.aic, 3), c.noise ? fixed(c.noise_weight, 4) : "-",
                   std::to_string(c.n_iter), c.converged ? "yes" : "no", c.refined ? "yes" : "",
                   r == best ? "*" : ""});
    }
    cells.push_back(std::move(line));
  }
  return aligned(cells, {1, 2, 12});
}

/// The criterion of the rows as a k x model matrix (as mclust's print of a BIC table), then
/// the three best candidates, in emcluster's sign (lower is better).
inline std::string mixture_summary(const std::vector<MixtureCandidate>& rows,
                                   SelectionCriterion criterion) {
  const char* name = criterion_name(criterion);
  std::string out = std::string(name) + " (lower is better; mclust's " + name +
                    " is minus this), by k and model:\n";
  // Columns: the models in order of first appearance (types without noise, then with).
  std::vector<std::string> models;
  for (bool noise : {false, true}) {
    for (const MixtureCandidate& c : rows) {
      if (c.noise != noise) continue;
      if (std::find(models.begin(), models.end(), c.model()) == models.end()) {
        models.push_back(c.model());
      }
    }
  }
  std::vector<std::vector<std::string>> cells(1, std::vector<std::string>{"k"});
  for (const std::string& m : models) cells[0].push_back(m);
  std::vector<Eigen::Index> ks;
  for (const MixtureCandidate& c : rows) {
    if (std::find(ks.begin(), ks.end(), c.k) == ks.end()) ks.push_back(c.k);
  }
  for (Eigen::Index k : ks) {
    std::vector<std::string> line(models.size() + 1, "");
    line[0] = std::to_string(k);
    for (const MixtureCandidate& c : rows) {
      if (c.k != k) continue;
      const auto at = std::find(models.begin(), models.end(), c.model()) - models.begin();
      line[static_cast<std::size_t>(at) + 1] = fixed(c.criterion, 3);
    }
    cells.push_back(std::move(line));
  }
  out += aligned(cells);
  // The top three (fewer if fewer succeeded), best first; ties keep the search's order.
  std::vector<std::size_t> order;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (!rows[r].failed) order.push_back(r);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return rows[a].criterion < rows[b].criterion;
  });
  if (order.size() > 3) order.resize(3);
  out += "top " + std::to_string(order.size()) + " by " + name + ":";
  for (std::size_t r : order) {
    out += "  " + rows[r].model() + ", k = " + std::to_string(rows[r].k) + ": " +
           fixed(rows[r].criterion, 3) + ";";
  }
  out.back() = '\n';
  return out;
}

/// The rows of a GaussianMixtureSearch as CSV with a header line; `best` flagged.
inline std::string mixture_csv(const std::vector<MixtureCandidate>& rows, std::size_t best) {
  std::string out =
      "k,covariance_type,noise,mclust_model,log_likelihood,n_parameters,bic,icl,aic,noise_weight,"
      "n_iter,converged,refined,criterion,best,error\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const MixtureCandidate& c = rows[r];
    out += std::to_string(c.k) + ',' + covariance_type_name(c.covariance_type) + ',' +
           (c.noise ? "1," : "0,") + mclust_model_name(c.covariance_type) + ',' +
           exact(c.log_likelihood) + ',' + std::to_string(c.n_parameters) + ',' + exact(c.bic) +
           ',' + exact(c.icl) + ',' + exact(c.aic) + ',' + exact(c.noise_weight) + ',' +
           std::to_string(c.n_iter) + ',' + (c.converged ? "1," : "0,") +
           (c.refined ? "1," : "0,") + exact(c.criterion) + ',' + (r == best ? "1," : "0,") +
           csv_field(c.error) + '\n';
  }
  return out;
}

/// The rows of a KMeansSearch as aligned text under the score's name, the row at `best`
/// marked with '*'.
inline std::string kmeans_table(const std::vector<KMeansCandidate>& rows, std::size_t best,
                                KMeansScore score) {
  std::vector<std::vector<std::string>> cells = {{"k", "inertia", "silhouette", "calinski_harabasz",
                                                  "davies_bouldin", "iter", "conv", "best"}};
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const KMeansCandidate& c = rows[r];
    std::vector<std::string> line = {std::to_string(c.k), fixed(c.inertia, 4)};
    if (c.failed) {
      line.push_back("failed: " + c.error);
    } else {
      line.insert(line.end(), {fixed(c.silhouette, 4), fixed(c.calinski_harabasz, 4),
                               fixed(c.davies_bouldin, 4), std::to_string(c.n_iter),
                               c.converged ? "yes" : "no", r == best ? "*" : ""});
    }
    cells.push_back(std::move(line));
  }
  return std::string("score: ") + score_name(score) +
         (score == KMeansScore::davies_bouldin ? " (lower is better)\n" : " (higher is better)\n") +
         aligned(cells, {7});
}

/// The rows of a KMeansSearch as CSV with a header line; `best` flagged.
inline std::string kmeans_csv(const std::vector<KMeansCandidate>& rows, std::size_t best) {
  std::string out =
      "k,inertia,silhouette,calinski_harabasz,davies_bouldin,n_iter,converged,criterion,best,"
      "error\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const KMeansCandidate& c = rows[r];
    out += std::to_string(c.k) + ',' + exact(c.inertia) + ',' + exact(c.silhouette) + ',' +
           exact(c.calinski_harabasz) + ',' + exact(c.davies_bouldin) + ',' +
           std::to_string(c.n_iter) + ',' + (c.converged ? "1," : "0,") + exact(c.criterion) + ',' +
           (r == best ? "1," : "0,") + csv_field(c.error) + '\n';
  }
  return out;
}

}  // namespace emcluster::detail
