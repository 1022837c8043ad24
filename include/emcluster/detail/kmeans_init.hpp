/// @file detail/kmeans_init.hpp
/// @brief Initial centres for KMeans: greedy k-means++, random samples, uniform in the
/// bounding box. Each returns a k x d matrix in double and draws only from detail::Random.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <unordered_map>
#include <vector>

#include "parallel.hpp"
#include "random.hpp"
#include "sample_rows.hpp"

namespace emcluster::detail {

/// Index of the first element whose running sum of mass exceeds r (mass >= 0, r >= 0),
/// searching chunk totals first. Falls back to the last element with positive mass when
/// rounding puts r at or past the total.
template <typename Mass>
Eigen::Index sample_by_mass(const std::vector<Chunk>& chunks, const std::vector<double>& chunk_mass,
                            double r, Mass&& mass) {
  std::size_t c = 0;
  for (; c + 1 < chunks.size(); ++c) {
    if (r < chunk_mass[c]) break;
    r -= chunk_mass[c];
  }
  Eigen::Index last_positive = -1;
  for (; c < chunks.size(); ++c) {
    for (Eigen::Index i = chunks[c].begin; i < chunks[c].end; ++i) {
      const double m = mass(i);
      if (m > 0) {
        if (r < m) return i;
        r -= m;
        last_positive = i;
      }
    }
  }
  return last_positive;
}

/// Squared distances from rows [begin, end) of X to each row of `points` (t x d, in the data's
/// scalar type, squared norms in points_sq), by the GEMM identity with negatives clamped to
/// zero: out is (end - begin) x t. `xb` is scratch for the block copy.
template <typename Derived, typename PointMatrix, typename PointNorms, typename Out, typename Block>
void block_squared_distances(const Eigen::MatrixBase<Derived>& X, Eigen::Index begin,
                             Eigen::Index end, const PointMatrix& points,
                             const PointNorms& points_sq, Out& out, Block& xb) {
  using Scalar = typename Derived::Scalar;
  const Eigen::Index rows = end - begin;
  xb.resize(rows, X.cols());
  xb = X.derived().middleRows(begin, rows);
  out.resize(rows, points.rows());
  out.noalias() = Scalar(-2) * (xb * points.transpose());
  out.rowwise() += points_sq.transpose();
  out.colwise() += xb.rowwise().squaredNorm();
  out = out.cwiseMax(Scalar(0));
}

/// Greedy k-means++ (Arthur & Vassilvitskii, with scikit-learn's greedy variant): the first
/// centre drawn with probability proportional to the sample weight, each next one the best of
/// `trials` candidates drawn proportionally to w * D(x)^2, "best" meaning the lowest potential
/// sum w * min(D(x)^2, ||x - candidate||^2). Keeps one running minimum distance per sample,
/// in the data's own scalar type (each distance is computed in that type, so a float keeps it
/// exactly: 4 bytes per row for float data); the distances to all candidates of a block of rows
/// come from one small GEMM. No n x k matrix.
template <typename Derived>
Eigen::MatrixXd kmeans_plus_plus(const Eigen::MatrixBase<Derived>& X, const double* w,
                                 Eigen::Index k, int trials, Random& rng) {
  using Scalar = typename Derived::Scalar;
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  const Eigen::Index n = X.rows(), d = X.cols();
  if (trials <= 0) trials = 2 + static_cast<int>(std::floor(std::log(static_cast<double>(k))));
  Eigen::MatrixXd centers(k, d);
  std::vector<Scalar> closest(static_cast<std::size_t>(n));
  const auto chunks = make_chunks(n, sizeof(double) * std::size_t(trials));
  std::vector<double> chunk_potential(chunks.size());

  auto weighted_mass = [&](Eigen::Index i) { return weight_of(w, i); };
  std::vector<double> chunk_weight(chunks.size());
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    double s = 0;
    for (Eigen::Index i = chunks[c].begin; i < chunks[c].end; ++i) s += weight_of(w, i);
    chunk_weight[c] = s;
  }
  double total_weight = 0;
  for (double s : chunk_weight) total_weight += s;
  const Eigen::Index first =
      sample_by_mass(chunks, chunk_weight, rng.uniform() * total_weight, weighted_mass);
  centers.row(0) = X.row(first).template cast<double>();

  // Running minimum squared distance to the chosen centres, and its weighted potential.
  auto update_closest = [&](Eigen::Index c_index, bool initial) {
    const Matrix center = centers.row(c_index).template cast<Scalar>();
    const Vector center_sq = center.rowwise().squaredNorm();
    for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
      double potential = 0;
      Matrix xb, dist;
      for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
        block_squared_distances(X, begin, end, center, center_sq, dist, xb);
        for (Eigen::Index r = 0; r < end - begin; ++r) {
          Scalar& cl = closest[static_cast<std::size_t>(begin + r)];
          cl = initial ? dist(r, 0) : std::min(cl, dist(r, 0));
          potential += weight_of(w, begin + r) * static_cast<double>(cl);
        }
      });
      chunk_potential[c] = potential;
    });
  };
  update_closest(0, true);

  auto mass = [&](Eigen::Index i) {
    return weight_of(w, i) * static_cast<double>(closest[static_cast<std::size_t>(i)]);
  };
  std::vector<Eigen::VectorXd> chunk_candidate_potential(chunks.size());
  Eigen::MatrixXd candidate_rows(trials, d);
  for (Eigen::Index c_index = 1; c_index < k; ++c_index) {
    double potential = 0;
    for (double p : chunk_potential) potential += p;
    for (int t = 0; t < trials; ++t) {
      Eigen::Index pick = -1;
      const double r = rng.uniform() * potential;
      if (potential > 0) pick = sample_by_mass(chunks, chunk_potential, r, mass);
      // All mass zero (every point sits on a chosen centre): any point is as good as another.
      if (pick < 0)
        pick = static_cast<Eigen::Index>(rng.uniform_index(static_cast<std::uint64_t>(n)));
      candidate_rows.row(t) = X.row(pick).template cast<double>();
    }
    const Matrix candidates = candidate_rows.cast<Scalar>();
    const Vector candidates_sq = candidates.rowwise().squaredNorm();
    // Potential of each candidate, chunk by chunk.
    for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
      Eigen::VectorXd pot = Eigen::VectorXd::Zero(trials);
      Matrix xb, dist;
      for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
        block_squared_distances(X, begin, end, candidates, candidates_sq, dist, xb);
        for (Eigen::Index r = 0; r < end - begin; ++r) {
          const Scalar cl = closest[static_cast<std::size_t>(begin + r)];
          const double wr = weight_of(w, begin + r);
          for (int t = 0; t < trials; ++t)
            pot(t) += wr * static_cast<double>(std::min(cl, dist(r, t)));
        }
      });
      chunk_candidate_potential[c] = std::move(pot);
    });
    Eigen::VectorXd candidate_potential = Eigen::VectorXd::Zero(trials);
    for (const auto& p : chunk_candidate_potential) candidate_potential += p;
    Eigen::Index best = 0;
    candidate_potential.minCoeff(&best);
    centers.row(c_index) = candidate_rows.row(best);
    update_closest(c_index, false);
  }
  return centers;
}

/// k distinct samples drawn uniformly: a partial Fisher-Yates shuffle of the index list
/// 0..n-1 whose moved entries live in a small map (O(k) memory, not O(n); the same draws and
/// picks as the shuffle of a full list).
template <typename Derived>
Eigen::MatrixXd random_samples_init(const Eigen::MatrixBase<Derived>& X, Eigen::Index k,
                                    Random& rng) {
  const Eigen::Index n = X.rows();
  std::unordered_map<Eigen::Index, Eigen::Index> moved;  // position -> index, where not identity
  auto at = [&moved](Eigen::Index pos) {
    const auto it = moved.find(pos);
    return it == moved.end() ? pos : it->second;
  };
  Eigen::MatrixXd centers(k, X.cols());
  for (Eigen::Index j = 0; j < k; ++j) {
    const auto pick =
        j + static_cast<Eigen::Index>(rng.uniform_index(static_cast<std::uint64_t>(n - j)));
    const Eigen::Index chosen = at(pick);
    moved[pick] = at(j);  // swap positions j and pick; position j is never read again
    centers.row(j) = X.row(chosen).template cast<double>();
  }
  return centers;
}

/// k points uniform in the data's bounding box (the article's initialisation; it often
/// leaves clusters empty, which KMeans then repairs).
template <typename Derived>
Eigen::MatrixXd random_box_init(const Eigen::MatrixBase<Derived>& X, Eigen::Index k, Random& rng) {
  const Eigen::RowVectorXd lo = X.colwise().minCoeff().template cast<double>();
  const Eigen::RowVectorXd hi = X.colwise().maxCoeff().template cast<double>();
  Eigen::MatrixXd centers(k, X.cols());
  for (Eigen::Index j = 0; j < k; ++j) {
    for (Eigen::Index f = 0; f < X.cols(); ++f) centers(j, f) = rng.uniform(lo(f), hi(f));
  }
  return centers;
}

}  // namespace emcluster::detail
