/// @file detail/kmeans_kernels.hpp
/// @brief The numerical kernels behind KMeans: nearest-centre assignment by blocks of rows,
/// the per-chunk sufficient statistics of a Lloyd step and their deterministic combination.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

#include "parallel.hpp"

namespace emcluster::detail {

/// Centres prepared for a nearest-centre search: the centres in the data's scalar type for
/// the distance GEMM, their squared norms, and a double copy for exact distances.
template <typename Scalar>
struct PreparedCenters {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;
  Matrix centers;              ///< k x d
  RowVector squared_norms;     ///< 1 x k, ||c_j||^2
  Eigen::MatrixXd centers_d;   ///< k x d in double

  PreparedCenters() = default;
  explicit PreparedCenters(const Eigen::MatrixXd& c)
      : centers(c.cast<Scalar>()),
        squared_norms(centers.rowwise().squaredNorm().transpose()),
        centers_d(centers.template cast<double>()) {}
  Eigen::Index k() const { return centers.rows(); }
};

/// Assigns rows [begin, end) of X to their nearest centre and calls visit(i, label) for each.
/// Distances come from the GEMM identity ||x||^2 - 2 x.c + ||c||^2 with ||x||^2 dropped (it
/// does not change the argmin); ties go to the lowest centre index. `work` is scratch space
/// of at least (end - begin) x k, reused between blocks.
template <typename Derived, typename Scalar, typename Visit>
void assign_block(const Eigen::MatrixBase<Derived>& X, Eigen::Index begin, Eigen::Index end,
                  const PreparedCenters<Scalar>& C,
                  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& work, Visit&& visit) {
  const Eigen::Index rows = end - begin;
  const Eigen::Index k = C.k();
  auto D = work.topRows(rows);
  D.noalias() = X.derived().middleRows(begin, rows) * C.centers.transpose();
  for (Eigen::Index r = 0; r < rows; ++r) {
    int best = 0;
    Scalar best_value = C.squared_norms(0) - Scalar(2) * D(r, 0);
    for (Eigen::Index j = 1; j < k; ++j) {
      const Scalar value = C.squared_norms(j) - Scalar(2) * D(r, j);
      if (value < best_value) {
        best_value = value;
        best = static_cast<int>(j);
      }
    }
    visit(begin + r, best);
  }
}

/// Exact squared distance between row i of X and a centre held in double.
template <typename Derived>
double squared_distance(const Eigen::MatrixBase<Derived>& X, Eigen::Index i,
                        const Eigen::MatrixXd& centers_d, int label) {
  return (X.row(i).template cast<double>() - centers_d.row(label)).squaredNorm();
}

/// What one chunk of rows contributes to a Lloyd step. Everything is accumulated in double,
/// whatever the data's scalar type.
struct LloydStats {
  Eigen::MatrixXd sums;       ///< k x d: weighted sum of the points assigned to each centre
  Eigen::VectorXd weights;    ///< k: total weight assigned to each centre
  double inertia = 0.0;       ///< sum of w ||x - c||^2 under the centres used for assignment
  Eigen::Index changed = 0;   ///< labels that differ from the previous assignment

  LloydStats() = default;
  LloydStats(Eigen::Index k, Eigen::Index d)
      : sums(Eigen::MatrixXd::Zero(k, d)), weights(Eigen::VectorXd::Zero(k)) {}

  /// Adds another chunk's statistics (call in chunk order for reproducible bits).
  void add(const LloydStats& other) {
    sums += other.sums;
    weights += other.weights;
    inertia += other.inertia;
    changed += other.changed;
  }
};

/// Sample weights: nullptr means every weight is 1.
inline double weight_of(const double* w, Eigen::Index i) { return w ? w[i] : 1.0; }

/// One E-step over all rows: assigns each row to its nearest centre, writes labels (counting
/// those that changed) and, when `accumulate` is set, the sufficient statistics of the M-step.
/// Returns the chunks' statistics combined in chunk order.
template <typename Derived, typename Scalar>
LloydStats lloyd_pass(const Eigen::MatrixBase<Derived>& X, const double* w,
                      const PreparedCenters<Scalar>& C, int* labels, bool accumulate) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = C.k();
  const std::size_t stat_bytes = accumulate ? sizeof(double) * std::size_t(k * (d + 1)) : 64;
  const auto chunks = make_chunks(n, stat_bytes);
  std::vector<LloydStats> stats(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    LloydStats s = accumulate ? LloydStats(k, d) : LloydStats();
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> work(std::min(kBlockRows, chunk.size()), k);
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      assign_block(X, begin, end, C, work, [&](Eigen::Index i, int label) {
        if (labels[i] != label) {
          ++s.changed;
          labels[i] = label;
        }
        const double wi = weight_of(w, i);
        s.inertia += wi * squared_distance(X, i, C.centers_d, label);
        if (accumulate) {
          s.sums.row(label) += wi * X.row(i).template cast<double>();
          s.weights(label) += wi;
        }
      });
    });
    stats[c] = std::move(s);
  });
  LloydStats total = accumulate ? LloydStats(k, d) : LloydStats();
  for (const auto& s : stats) {
    if (accumulate) {
      total.add(s);
    } else {
      total.inertia += s.inertia;
      total.changed += s.changed;
    }
  }
  return total;
}

/// Per-feature variance of X (population, unweighted), averaged over features, computed in
/// two chunked passes in double. Used to scale the convergence tolerance.
template <typename Derived>
double mean_feature_variance(const Eigen::MatrixBase<Derived>& X) {
  const Eigen::Index n = X.rows(), d = X.cols();
  const auto chunks = make_chunks(n, sizeof(double) * std::size_t(d));
  std::vector<Eigen::VectorXd> part(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    part[c] = X.middleRows(chunk.begin, chunk.size()).template cast<double>().colwise().sum().transpose();
  });
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(d);
  for (const auto& p : part) mean += p;
  mean /= static_cast<double>(n);
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    part[c] = (X.middleRows(chunk.begin, chunk.size()).template cast<double>().rowwise() - mean.transpose())
                  .colwise()
                  .squaredNorm()
                  .transpose();
  });
  Eigen::VectorXd ss = Eigen::VectorXd::Zero(d);
  for (const auto& p : part) ss += p;
  return ss.mean() / static_cast<double>(n);
}

}  // namespace emcluster::detail
