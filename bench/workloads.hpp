/// @file bench/workloads.hpp
/// @brief The benchmark workloads' data, generated from fixed seeds with emcluster's own
/// generator (datasets.hpp) and random source, so every run and every peer sees the same data.
/// Used by the comparison driver (compare.cpp) and the microbenchmarks (bench_kernels.cpp).
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <emcluster/detail/random.hpp>

#include <emcluster/datasets.hpp>
#include <emcluster/preprocessing.hpp>

namespace emcluster_bench {

template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Gaussian clusters with diagonal variances (emcluster's generator), no noise.
template <typename Scalar>
RowMatrix<Scalar> clusters(const std::vector<Eigen::Index>& counts,
                           const std::vector<Eigen::VectorXd>& means,
                           const std::vector<Eigen::VectorXd>& variances, std::uint64_t seed) {
  const Eigen::Index d = means.front().size();
  const Eigen::VectorXd lo = Eigen::VectorXd::Zero(d), hi = Eigen::VectorXd::Ones(d);
  return emcluster::make_clusters_with_noise<Scalar>(counts, means, variances, lo, hi, 0, seed).X;
}

/// The article's data scaled to about n points (1830 points at scale 1), standardized.
template <typename Scalar>
RowMatrix<Scalar> article_data(Eigen::Index n, std::uint64_t seed) {
  const auto data = emcluster::make_article_data<Scalar>(seed, static_cast<double>(n) / 1830.0);
  emcluster::StandardScaler<Scalar> scaler;  // the article standardizes before clustering
  return scaler.fit_transform(data.X);
}

/// k overlapping Gaussian blobs in d dimensions, n points in all (sizes as equal as possible):
/// centres N(0, spread^2 I), unit variance around them. With spread 1.5 the blobs overlap, as
/// real embeddings do, and Lloyd takes dozens of iterations from most starts.
template <typename Scalar>
RowMatrix<Scalar> blobs(Eigen::Index n, Eigen::Index d, Eigen::Index k, double spread,
                        std::uint64_t seed) {
  emcluster::detail::Random rng(seed);
  std::vector<Eigen::Index> counts;
  std::vector<Eigen::VectorXd> means, variances;
  for (Eigen::Index c = 0; c < k; ++c) {
    counts.push_back(n / k + (c < n % k ? 1 : 0));
    Eigen::VectorXd m(d);
    for (Eigen::Index j = 0; j < d; ++j) m(j) = spread * rng.normal();
    means.push_back(m);
    variances.push_back(Eigen::VectorXd::Ones(d));
  }
  return clusters<Scalar>(counts, means, variances, rng.child_seed());
}

/// k distinct rows of X drawn uniformly (seeded): the common starting centres.
template <typename Scalar>
Eigen::MatrixXd random_rows(const RowMatrix<Scalar>& X, Eigen::Index k, std::uint64_t seed) {
  emcluster::detail::Random rng(seed);
  std::vector<Eigen::Index> rows;
  while (static_cast<Eigen::Index>(rows.size()) < k) {
    const auto r =
        static_cast<Eigen::Index>(rng.uniform_index(static_cast<std::uint64_t>(X.rows())));
    bool seen = false;
    for (Eigen::Index s : rows) seen = seen || s == r;
    if (!seen) rows.push_back(r);
  }
  Eigen::MatrixXd C(k, X.cols());
  for (Eigen::Index c = 0; c < k; ++c)
    C.row(c) = X.row(rows[static_cast<std::size_t>(c)]).template cast<double>();
  return C;
}

}  // namespace emcluster_bench
