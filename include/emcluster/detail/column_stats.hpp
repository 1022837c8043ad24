/// @file detail/column_stats.hpp
/// @brief Per-column statistics of the data, in double, by fixed chunks combined in chunk
/// order (the same bits for any thread count): the mean feature variance that scales the
/// K-means tolerances, the centred column sums StandardScaler fits with, and the weighted
/// column mean.
///
/// Each keeps its own order of additions, which its callers' results depend on to the last
/// bit; they are not interchangeable.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <utility>
#include <vector>

#include "parallel.hpp"
#include "reducer.hpp"
#include "sample_rows.hpp"

namespace emcluster::detail {

/// Per-feature variance of X (population, unweighted), averaged over features, computed in
/// two chunked passes in double, over the rows of every process (reducer): the column sums
/// and then the squared deviations are summed over the processes. Used to scale the
/// convergence tolerance.
template <typename Derived, typename Reducer>
double mean_feature_variance(const Eigen::MatrixBase<Derived>& X, const Reducer& reducer) {
  const Eigen::Index n = X.rows(), d = X.cols();
  const auto chunks = make_chunks(n, sizeof(double) * std::size_t(d));
  std::vector<Eigen::VectorXd> part(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    part[c] =
        X.middleRows(chunk.begin, chunk.size()).template cast<double>().colwise().sum().transpose();
  });
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(d);
  for (const auto& p : part) mean += p;
  reducer.sum(mean.data(), std::size_t(d));
  const auto total = static_cast<double>(reducer.total_rows());
  mean /= total;
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    part[c] = (X.middleRows(chunk.begin, chunk.size()).template cast<double>().rowwise() -
               mean.transpose())
                  .colwise()
                  .squaredNorm()
                  .transpose();
  });
  Eigen::VectorXd ss = Eigen::VectorXd::Zero(d);
  for (const auto& p : part) ss += p;
  reducer.sum(ss.data(), std::size_t(d));
  return ss.mean() / total;
}

/// mean_feature_variance of the rows of one process.
template <typename Derived>
double mean_feature_variance(const Eigen::MatrixBase<Derived>& X) {
  return mean_feature_variance(X, LocalReducer(X.rows()));
}

/// Per-column sums of deviations from a centre.
struct ColumnSums {
  Eigen::VectorXd sum;     ///< d: sum of (x - center)
  Eigen::VectorXd sum_sq;  ///< d: sum of (x - center)^2 (zeros unless asked for)
};

/// Per-column largest |x| (d entries, in double), by chunks: the exponents StandardScaler
/// takes out of each column before its two passes. X should be evaluated (direct access).
template <typename Plain>
Eigen::VectorXd column_max_abs(const Plain& X) {
  const Eigen::Index d = X.cols();
  const auto chunks = make_chunks(X.rows(), static_cast<std::size_t>(d) * sizeof(double));
  std::vector<Eigen::VectorXd> partial(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    partial[c] = X.middleRows(chunk.begin, chunk.size())
                     .template cast<double>()
                     .cwiseAbs()
                     .colwise()
                     .maxCoeff()
                     .transpose();
  });
  Eigen::VectorXd total = Eigen::VectorXd::Zero(d);
  for (const auto& p : partial) total = total.cwiseMax(p);  // max: exact, any order
  return total;
}

/// Per-column sums of (f x - center) and (f x - center)^2 (second only when `squares`), with
/// f = factor(j) per column (a power of two that takes the column's exponent out: exact), from
/// double block copies so that the order of additions (row order within a chunk, chunks in
/// order) does not depend on X's storage order or the thread count. X should be evaluated
/// (direct access): a lazy expression would be evaluated once per block. StandardScaler's
/// two passes.
template <typename Plain>
ColumnSums column_sums(const Plain& X, const Eigen::VectorXd& center, const Eigen::VectorXd& factor,
                       bool squares) {
  const Eigen::Index d = X.cols();
  const auto chunks = make_chunks(X.rows(), 2 * static_cast<std::size_t>(d) * sizeof(double));
  std::vector<ColumnSums> partial(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    ColumnSums acc{Eigen::VectorXd::Zero(d), Eigen::VectorXd::Zero(d)};
    Eigen::MatrixXd block;
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      block = X.middleRows(begin, end - begin).template cast<double>();
      for (Eigen::Index j = 0; j < d; ++j) {
        const double m = center(j), f = factor(j);
        double s = acc.sum(j), q = acc.sum_sq(j);
        for (Eigen::Index i = 0; i < block.rows(); ++i) {
          const double v = block(i, j) * f - m;
          s += v;
          if (squares) q += v * v;
        }
        acc.sum(j) = s;
        acc.sum_sq(j) = q;
      }
    });
    partial[c] = std::move(acc);
  });
  ColumnSums total{Eigen::VectorXd::Zero(d), Eigen::VectorXd::Zero(d)};
  for (const auto& p : partial) {  // in chunk order: the same bits for any thread count
    for (Eigen::Index j = 0; j < d; ++j) {
      total.sum(j) += p.sum(j);
      total.sum_sq(j) += p.sum_sq(j);
    }
  }
  return total;
}

/// Weighted mean of the rows of X (weights w, nullptr = 1; positive total), in double: per
/// chunk, the rows' w x added in row order and their weights summed; the chunks' sums then
/// added in chunk order and divided by the total weight.
template <typename Derived>
Eigen::RowVectorXd weighted_column_mean(const Eigen::MatrixBase<Derived>& X, const double* w) {
  const auto chunks = make_chunks(X.rows(), 0);
  std::vector<Eigen::RowVectorXd> chunk_sums(chunks.size());
  std::vector<double> chunk_weights(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(X.cols());
    double weight = 0;
    for (Eigen::Index i = chunk.begin; i < chunk.end; ++i) {
      const double wi = weight_of(w, i);
      sum += wi * X.row(i).template cast<double>();
      weight += wi;
    }
    chunk_sums[c] = std::move(sum);
    chunk_weights[c] = weight;
  });
  Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(X.cols());
  double weight = 0;
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    sum += chunk_sums[c];
    weight += chunk_weights[c];
  }
  return sum / weight;
}

}  // namespace emcluster::detail
