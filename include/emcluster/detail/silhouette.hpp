/// @file detail/silhouette.hpp
/// @brief Kernels of the internal clustering metrics: the exact silhouette by blocks of rows
/// against tiles of columns (never an n x n matrix), and the per-cluster centroids and
/// scatter that Calinski-Harabasz and Davies-Bouldin need.
///
/// Determinism: every row's silhouette is computed on its own, the same way whichever chunk
/// or thread it lands in (a row's sums run over the same tiles in the same order), so the
/// values are the same bits for any number of threads. The scatter passes combine per-chunk
/// statistics in chunk order, as the estimators do.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <exception>
#include <limits>
#include <vector>

#include "parallel.hpp"
#include "reducer.hpp"

namespace emcluster::detail {

/// Selected rows of the data grouped by cluster, in double, column-major: the layout the
/// silhouette kernel scans (each cluster a contiguous run of rows).
struct ClusterRows {
  Eigen::MatrixXd X;                 ///< m x d, cluster 0's rows first, each in input order
  std::vector<Eigen::Index> begin;   ///< k + 1 offsets: cluster c is rows [begin[c], begin[c+1])
  std::vector<Eigen::Index> source;  ///< source[r]: position in the selection of sorted row r
};

/// Groups the selected rows rows[0..m) of X by their cluster code[t] in [0, k) (t the position
/// in the selection; a stable counting sort) and converts them to double.
template <typename Derived>
ClusterRows group_rows(const Eigen::MatrixBase<Derived>& X, const std::vector<Eigen::Index>& rows,
                       const std::vector<int>& code, int k) {
  const auto m = static_cast<Eigen::Index>(rows.size());
  ClusterRows out;
  out.begin.assign(static_cast<std::size_t>(k) + 1, 0);
  for (int c : code) ++out.begin[static_cast<std::size_t>(c) + 1];
  for (std::size_t c = 0; c < static_cast<std::size_t>(k); ++c) out.begin[c + 1] += out.begin[c];
  std::vector<Eigen::Index> next(out.begin.begin(), out.begin.end() - 1);
  out.X.resize(m, X.cols());
  out.source.resize(static_cast<std::size_t>(m));
  for (Eigen::Index t = 0; t < m; ++t) {
    const Eigen::Index r = next[static_cast<std::size_t>(code[static_cast<std::size_t>(t)])]++;
    out.X.row(r) = X.row(rows[static_cast<std::size_t>(t)]).template cast<double>();
    out.source[static_cast<std::size_t>(r)] = t;
  }
  return out;
}

/// Pair-feature operations (m * m * d) from which the silhouette runs on several threads.
inline constexpr double kSilhouetteParallelWork = 4.0e6;
/// Bytes of per-row cluster sums one block of rows may hold.
inline constexpr std::size_t kSilhouetteBlockBytes = std::size_t(1) << 20;

/// Columns per tile: the tile's d coordinates stay in cache while a block of rows scans it.
/// Depends on d only; a row's sums are grouped by tiles, so this fixes the rounding.
inline Eigen::Index silhouette_tile(Eigen::Index d) {
  const Eigen::Index t = std::max<Eigen::Index>(
      64, std::min<Eigen::Index>(1024, 32768 / std::max<Eigen::Index>(d, 1)));
  return t - t % 8;
}

/// Silhouette of every row of g, by sorted row: s = (b - a) / max(a, b), a the mean Euclidean
/// distance to the other members of the row's cluster, b the smallest mean distance to the
/// members of another cluster; 0 for a member of a singleton cluster and when a = b = 0 (as
/// scikit-learn's nan_to_num). Needs k >= 2. Distances are exact differences in double,
/// (x_j - x_i)^2 summed over features, then sqrt: symmetric bit for bit, no cancellation.
/// Memory: the tile, and per block of rows its k sums each (at most ~1 MB, or k doubles).
inline Eigen::VectorXd silhouette_sorted(const ClusterRows& g) {
  const Eigen::Index m = g.X.rows();
  const Eigen::Index d = g.X.cols();
  const auto k = static_cast<Eigen::Index>(g.begin.size()) - 1;
  const Eigen::Index tile = silhouette_tile(d);
  const Eigen::Index block = std::max<Eigen::Index>(
      1, std::min<Eigen::Index>(
             64, static_cast<Eigen::Index>(kSilhouetteBlockBytes / (sizeof(double) * k))));
  Eigen::VectorXd s(m);
  const std::vector<Chunk> chunks = make_chunks(m, 0);
  const bool parallel = static_cast<double>(m) * static_cast<double>(m) * static_cast<double>(d) >=
                        kSilhouetteParallelWork;
  for_each_chunk_if(chunks, parallel, [&](std::size_t, const Chunk& chunk) {
    std::vector<double> sums(static_cast<std::size_t>(block * k));
    Eigen::ArrayXd dist(tile);
    for (Eigen::Index r0 = chunk.begin; r0 < chunk.end; r0 += block) {
      const Eigen::Index r1 = std::min(chunk.end, r0 + block);
      std::fill(sums.begin(), sums.end(), 0.0);
      for (Eigen::Index j0 = 0; j0 < m; j0 += tile) {
        const Eigen::Index len = std::min(tile, m - j0);
        // The first cluster with a row in [j0, j0 + len).
        const auto first =
            static_cast<Eigen::Index>(std::upper_bound(g.begin.begin(), g.begin.end(), j0) -
                                      g.begin.begin()) -
            1;
        for (Eigen::Index r = r0; r < r1; ++r) {
          auto dd = dist.head(len);
          dd = (g.X.col(0).segment(j0, len).array() - g.X(r, 0)).square();
          for (Eigen::Index f = 1; f < d; ++f) {
            dd += (g.X.col(f).segment(j0, len).array() - g.X(r, f)).square();
          }
          dd = dd.sqrt();
          double* row_sums = sums.data() + (r - r0) * k;
          for (Eigen::Index c = first; c < k && g.begin[static_cast<std::size_t>(c)] < j0 + len;
               ++c) {
            const Eigen::Index lo = std::max(g.begin[static_cast<std::size_t>(c)], j0);
            const Eigen::Index hi = std::min(g.begin[static_cast<std::size_t>(c) + 1], j0 + len);
            if (hi > lo) row_sums[c] += dd.segment(lo - j0, hi - lo).sum();
          }
        }
      }
      Eigen::Index c = static_cast<Eigen::Index>(
                           std::upper_bound(g.begin.begin(), g.begin.end(), r0) - g.begin.begin()) -
                       1;
      for (Eigen::Index r = r0; r < r1; ++r) {
        while (g.begin[static_cast<std::size_t>(c) + 1] <= r) ++c;
        const Eigen::Index own =
            g.begin[static_cast<std::size_t>(c) + 1] - g.begin[static_cast<std::size_t>(c)];
        const double* row_sums = sums.data() + (r - r0) * k;
        if (own == 1) {
          s(r) = 0.0;
          continue;
        }
        const double a = row_sums[c] / static_cast<double>(own - 1);
        double b = std::numeric_limits<double>::infinity();
        for (Eigen::Index o = 0; o < k; ++o) {
          if (o == c) continue;
          const auto size =
              g.begin[static_cast<std::size_t>(o) + 1] - g.begin[static_cast<std::size_t>(o)];
          b = std::min(b, row_sums[o] / static_cast<double>(size));
        }
        const double scale = std::max(a, b);
        s(r) = scale > 0.0 ? (b - a) / scale : 0.0;
      }
    }
  });
  return s;
}

/// Per-cluster statistics of the rows of X with code[i] in [0, k) (rows with code -1 are
/// left out): counts, centroids, and the sums of squared and of plain Euclidean distances
/// of the members to their centroid. Two chunked passes, combined in chunk order.
struct ClusterScatter {
  Eigen::VectorXd count;     ///< k
  Eigen::RowVectorXd total;  ///< sum of all counted rows
  Eigen::MatrixXd centroid;  ///< k x d
  Eigen::VectorXd sum_sq;    ///< k: sum of ||x - centroid||^2 over the members
  Eigen::VectorXd sum_dist;  ///< k: sum of ||x - centroid|| over the members
};

/// cluster_scatter over the rows of every process of the reducer (each passes the codes of
/// its own rows): each pass's combined sums are summed over the processes before they are
/// used (LocalReducer: nothing to do, the single-process statistics).
template <typename Derived, typename Reducer>
ClusterScatter cluster_scatter(const Eigen::MatrixBase<Derived>& X, const std::vector<int>& code,
                               int k, const Reducer& reducer) {
  const Eigen::Index n = X.rows();
  const Eigen::Index d = X.cols();
  const std::vector<Chunk> chunks =
      make_chunks(n, sizeof(double) * static_cast<std::size_t>(k) * (d + 2));
  std::vector<Eigen::MatrixXd> chunk_sums(chunks.size());
  std::vector<Eigen::VectorXd> chunk_counts(chunks.size());
  for_each_chunk(chunks, [&](std::size_t ci, const Chunk& chunk) {
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, d);
    Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
    for (Eigen::Index i = chunk.begin; i < chunk.end; ++i) {
      const int c = code[static_cast<std::size_t>(i)];
      if (c < 0) continue;
      sums.row(c) += X.row(i).template cast<double>();
      counts(c) += 1.0;
    }
    chunk_sums[ci] = std::move(sums);
    chunk_counts[ci] = std::move(counts);
  });
  ClusterScatter out;
  Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, d);
  out.count = Eigen::VectorXd::Zero(k);
  for (std::size_t ci = 0; ci < chunks.size(); ++ci) {
    sums += chunk_sums[ci];
    out.count += chunk_counts[ci];
  }
  if constexpr (Reducer::kDistributed) {
    Eigen::VectorXd buffer(k * d + k);
    buffer << Eigen::Map<const Eigen::VectorXd>(sums.data(), k * d), out.count;
    reducer.sum(buffer.data(), static_cast<std::size_t>(buffer.size()));
    sums = Eigen::Map<const Eigen::MatrixXd>(buffer.data(), k, d);
    out.count = buffer.tail(k);
  }
  out.total = Eigen::RowVectorXd::Zero(d);
  for (Eigen::Index c = 0; c < k; ++c) out.total += sums.row(c);
  out.centroid = sums.array().colwise() / out.count.array();

  std::vector<Eigen::VectorXd> chunk_sq(chunks.size()), chunk_dist(chunks.size());
  for_each_chunk(chunks, [&](std::size_t ci, const Chunk& chunk) {
    Eigen::VectorXd sq = Eigen::VectorXd::Zero(k);
    Eigen::VectorXd dist = Eigen::VectorXd::Zero(k);
    for (Eigen::Index i = chunk.begin; i < chunk.end; ++i) {
      const int c = code[static_cast<std::size_t>(i)];
      if (c < 0) continue;
      const double q = (X.row(i).template cast<double>() - out.centroid.row(c)).squaredNorm();
      sq(c) += q;
      dist(c) += std::sqrt(q);
    }
    chunk_sq[ci] = std::move(sq);
    chunk_dist[ci] = std::move(dist);
  });
  out.sum_sq = Eigen::VectorXd::Zero(k);
  out.sum_dist = Eigen::VectorXd::Zero(k);
  for (std::size_t ci = 0; ci < chunks.size(); ++ci) {
    out.sum_sq += chunk_sq[ci];
    out.sum_dist += chunk_dist[ci];
  }
  if constexpr (Reducer::kDistributed) {
    Eigen::VectorXd buffer(2 * k);
    buffer << out.sum_sq, out.sum_dist;
    reducer.sum(buffer.data(), static_cast<std::size_t>(buffer.size()));
    out.sum_sq = buffer.head(k);
    out.sum_dist = buffer.tail(k);
  }
  return out;
}

/// cluster_scatter of the rows of one process.
template <typename Derived>
ClusterScatter cluster_scatter(const Eigen::MatrixBase<Derived>& X, const std::vector<int>& code,
                               int k) {
  return cluster_scatter(X, code, k, LocalReducer(X.rows()));
}

/// The Calinski-Harabasz index from the scatter of k clusters of m rows.
inline double calinski_harabasz_value(const ClusterScatter& sc, double m, int k) {
  const Eigen::RowVectorXd mean = sc.total / m;
  double extra = 0.0, intra = 0.0;
  for (int c = 0; c < k; ++c) {
    extra += sc.count(c) * (sc.centroid.row(c) - mean).squaredNorm();
    intra += sc.sum_sq(c);
  }
  if (intra == 0.0) return 1.0;
  return extra * (m - k) / (intra * (k - 1.0));
}

/// The Davies-Bouldin index from the scatter of k clusters.
inline double davies_bouldin_value(const ClusterScatter& sc, int k) {
  const Eigen::VectorXd spread = sc.sum_dist.array() / sc.count.array();
  constexpr double close = 1e-8;  // numpy.allclose(v, 0): |v| <= atol = 1e-8
  bool spreads_zero = true, centroids_zero = true;
  for (int i = 0; i < k; ++i) spreads_zero = spreads_zero && std::abs(spread(i)) <= close;
  // O(k^2 d) without a k x k matrix; a centroid distance is the same bits either way round.
  double total = 0.0;
  for (int i = 0; i < k; ++i) {
    double worst = 0.0;
    for (int j = 0; j < k; ++j) {
      const double distance = (sc.centroid.row(i) - sc.centroid.row(j)).norm();
      centroids_zero = centroids_zero && distance <= close;
      if (distance == 0.0) continue;  // scikit-learn: distance 0 -> inf -> ratio 0
      worst = std::max(worst, (spread(i) + spread(j)) / distance);
    }
    total += worst;
  }
  if (spreads_zero || centroids_zero) return 0.0;
  return total / k;
}

}  // namespace emcluster::detail
