/// @file detail/metrics_stub.hpp
/// @brief TEMPORARY STUB, NOT PART OF THE LIBRARY. Stand-ins for silhouette_score,
/// calinski_harabasz_score and davies_bouldin_score (and SilhouetteOptions), with the
/// signatures the real ones in metrics.hpp are being written to, so that KMeansSearch in
/// model_selection.hpp compiles and can be tested before they exist on this branch.
///
/// DELETE this file, and its one #include line in model_selection.hpp, when metrics.hpp has
/// the real functions (the commit that added both can be reverted as a whole). The stand-ins
/// are plain and unblocked: O(n^2) memory-free loops for the silhouette, serial, no threads.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "random.hpp"
#include "validation.hpp"

namespace emcluster {

/// STUB (see the file notes): options of silhouette_score.
struct SilhouetteOptions {
  Eigen::Index sample_size = 0;  ///< score a random subset of this many rows (0 = all)
  std::uint64_t seed = 0;        ///< seed of the subset
  bool exclude_noise = false;    ///< leave rows labelled -1 out
};

namespace detail::stub {

/// Dense labels 0..m-1 of the rows `rows`, and m; throws unless 2 <= m <= rows - 1.
template <typename L>
std::vector<int> dense_labels(const char* where, const Eigen::MatrixBase<L>& labels, Eigen::Index n,
                              const std::vector<Eigen::Index>& rows, int& m) {
  if (labels.size() != n)
    fail(where, "labels has ", labels.size(), " entries but X has ", n, " rows");
  std::vector<int> values;
  for (Eigen::Index r : rows) values.push_back(static_cast<int>(labels(r)));
  std::vector<int> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  m = static_cast<int>(sorted.size());
  if (m < 2 || m > static_cast<int>(rows.size()) - 1) {
    fail(where, "the number of labels is ", m, "; valid values are 2 to n_samples - 1 (",
         rows.size() - 1, ")");
  }
  for (int& v : values)
    v = static_cast<int>(std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin());
  return values;
}

template <typename D>
double distance(const Eigen::MatrixBase<D>& X, Eigen::Index a, Eigen::Index b) {
  return (X.row(a).template cast<double>() - X.row(b).template cast<double>()).norm();
}

}  // namespace detail::stub

/// STUB (see the file notes): mean silhouette coefficient.
template <class D, class L>
double silhouette_score(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<L>& labels,
                        const SilhouetteOptions& opts = {}) {
  const char* where = "silhouette_score";
  std::vector<Eigen::Index> rows;
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    if (!(opts.exclude_noise && i < labels.size() && labels(i) == -1)) rows.push_back(i);
  }
  if (opts.sample_size > 0 && opts.sample_size < static_cast<Eigen::Index>(rows.size())) {
    detail::Random rng(opts.seed);
    for (std::size_t i = 0; i < static_cast<std::size_t>(opts.sample_size); ++i) {
      const auto j = i + rng.uniform_index(rows.size() - i);
      std::swap(rows[i], rows[j]);
    }
    rows.resize(static_cast<std::size_t>(opts.sample_size));
  }
  int m = 0;
  const std::vector<int> lab = detail::stub::dense_labels(where, labels, X.rows(), rows, m);
  std::vector<Eigen::Index> count(static_cast<std::size_t>(m), 0);
  for (int l : lab) ++count[static_cast<std::size_t>(l)];
  double total = 0;
  std::vector<double> sums(static_cast<std::size_t>(m));
  for (std::size_t a = 0; a < rows.size(); ++a) {
    std::fill(sums.begin(), sums.end(), 0.0);
    for (std::size_t b = 0; b < rows.size(); ++b) {
      sums[static_cast<std::size_t>(lab[b])] += detail::stub::distance(X, rows[a], rows[b]);
    }
    const auto own = static_cast<std::size_t>(lab[a]);
    if (count[own] < 2) continue;  // a singleton's silhouette is 0
    const double in = sums[own] / static_cast<double>(count[own] - 1);
    double out = std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < sums.size(); ++c) {
      if (c != own) out = std::min(out, sums[c] / static_cast<double>(count[c]));
    }
    total += (out - in) / std::max(in, out);
  }
  return total / static_cast<double>(rows.size());
}

/// STUB (see the file notes): Calinski-Harabasz index.
template <class D, class L>
double calinski_harabasz_score(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<L>& labels) {
  std::vector<Eigen::Index> rows(static_cast<std::size_t>(X.rows()));
  std::iota(rows.begin(), rows.end(), Eigen::Index(0));
  int m = 0;
  const std::vector<int> lab =
      detail::stub::dense_labels("calinski_harabasz_score", labels, X.rows(), rows, m);
  const Eigen::MatrixXd Xd = X.template cast<double>();
  const Eigen::RowVectorXd mean = Xd.colwise().mean();
  Eigen::MatrixXd centres = Eigen::MatrixXd::Zero(m, X.cols());
  Eigen::VectorXd count = Eigen::VectorXd::Zero(m);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    centres.row(lab[static_cast<std::size_t>(i)]) += Xd.row(i);
    count(lab[static_cast<std::size_t>(i)]) += 1;
  }
  centres.array().colwise() /= count.array();
  double extra = 0, intra = 0;
  for (int c = 0; c < m; ++c) extra += count(c) * (centres.row(c) - mean).squaredNorm();
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    intra += (Xd.row(i) - centres.row(lab[static_cast<std::size_t>(i)])).squaredNorm();
  }
  if (intra == 0) return 1.0;
  return extra * static_cast<double>(X.rows() - m) / (intra * static_cast<double>(m - 1));
}

/// STUB (see the file notes): Davies-Bouldin index.
template <class D, class L>
double davies_bouldin_score(const Eigen::MatrixBase<D>& X, const Eigen::MatrixBase<L>& labels) {
  std::vector<Eigen::Index> rows(static_cast<std::size_t>(X.rows()));
  std::iota(rows.begin(), rows.end(), Eigen::Index(0));
  int m = 0;
  const std::vector<int> lab =
      detail::stub::dense_labels("davies_bouldin_score", labels, X.rows(), rows, m);
  const Eigen::MatrixXd Xd = X.template cast<double>();
  Eigen::MatrixXd centres = Eigen::MatrixXd::Zero(m, X.cols());
  Eigen::VectorXd count = Eigen::VectorXd::Zero(m), spread = Eigen::VectorXd::Zero(m);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    centres.row(lab[static_cast<std::size_t>(i)]) += Xd.row(i);
    count(lab[static_cast<std::size_t>(i)]) += 1;
  }
  centres.array().colwise() /= count.array();
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    const int c = lab[static_cast<std::size_t>(i)];
    spread(c) += (Xd.row(i) - centres.row(c)).norm();
  }
  spread.array() /= count.array();
  double total = 0;
  for (int a = 0; a < m; ++a) {
    double worst = 0;
    for (int b = 0; b < m; ++b) {
      if (b == a) continue;
      const double sep = (centres.row(a) - centres.row(b)).norm();
      worst = std::max(worst, sep > 0 ? (spread(a) + spread(b)) / sep : 0.0);
    }
    total += worst;
  }
  return total / m;
}

}  // namespace emcluster
