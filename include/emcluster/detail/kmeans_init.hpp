/// @file detail/kmeans_init.hpp
/// @brief Initial centres for KMeans: greedy k-means++, random samples, uniform in the
/// bounding box. Each returns a k x d matrix in double and draws only from detail::Random.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <vector>

#include "parallel.hpp"
#include "random.hpp"
#include "reducer.hpp"
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
/// come from one small GEMM. No n x k matrix. With several processes (reducer) the draws scan
/// the processes' masses in rank order, the process that owns a drawn row shares it, and the
/// candidates' potentials are summed over the processes: three small collectives per centre.
template <typename Derived, typename Reducer>
Eigen::MatrixXd kmeans_plus_plus(const Eigen::MatrixBase<Derived>& X, const double* w,
                                 Eigen::Index k, int trials, Random& rng, const Reducer& reducer) {
  using Scalar = typename Derived::Scalar;
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  const Eigen::Index n = X.rows(), d = X.cols();
  if (trials <= 0) trials = 2 + static_cast<int>(std::floor(std::log(static_cast<double>(k))));
  Eigen::MatrixXd centers(k, d);
  std::vector<Scalar> closest(static_cast<std::size_t>(n));
  const auto chunks = make_chunks(n, sizeof(double) * std::size_t(trials));
  std::vector<double> chunk_potential(chunks.size());
  std::vector<double> row_offsets;  // of every process, for uniform draws of a global row
  if constexpr (Reducer::kDistributed) row_offsets = process_row_offsets(reducer);

  auto weighted_mass = [&](Eigen::Index i) { return weight_of(w, i); };
  std::vector<double> chunk_weight(chunks.size());
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    double s = 0;
    for (Eigen::Index i = chunks[c].begin; i < chunks[c].end; ++i) s += weight_of(w, i);
    chunk_weight[c] = s;
  }
  double local_weight = 0;
  for (double s : chunk_weight) local_weight += s;
  const std::vector<double> process_weight = reducer.all_gather(std::vector<double>{local_weight});
  double total_weight = 0;
  for (double s : process_weight) total_weight += s;
  {
    const Eigen::Index first = pick_by_process_mass(
        reducer, process_weight, rng.uniform() * total_weight,
        [&](double r) { return sample_by_mass(chunks, chunk_weight, r, weighted_mass); });
    if constexpr (Reducer::kDistributed) centers.row(0).setZero();
    if (first >= 0) centers.row(0) = X.row(first).template cast<double>();
    Eigen::MatrixXd row = centers.row(0);
    share_owned_rows(reducer, row);
    centers.row(0) = row;
  }

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
    double local_potential = 0;
    for (double p : chunk_potential) local_potential += p;
    const std::vector<double> process_potential =
        reducer.all_gather(std::vector<double>{local_potential});
    double potential = 0;
    for (double p : process_potential) potential += p;
    if constexpr (Reducer::kDistributed) candidate_rows.setZero();
    for (int t = 0; t < trials; ++t) {
      Eigen::Index pick = -1;
      const double r = rng.uniform() * potential;
      if (potential > 0) {
        pick = pick_by_process_mass(reducer, process_potential, r, [&](double rest) {
          return sample_by_mass(chunks, chunk_potential, rest, mass);
        });
      } else {
        // All mass zero (every point sits on a chosen centre): any point is as good as another.
        const auto g = static_cast<Eigen::Index>(
            rng.uniform_index(static_cast<std::uint64_t>(reducer.total_rows())));
        if constexpr (Reducer::kDistributed) {
          const auto [owner, local] = owner_of_row(row_offsets, g);
          if (owner == reducer.rank()) pick = local;
        } else {
          pick = g;
        }
      }
      if (pick >= 0) candidate_rows.row(t) = X.row(pick).template cast<double>();
    }
    share_owned_rows(reducer, candidate_rows);
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
    reducer.sum(candidate_potential.data(), static_cast<std::size_t>(trials));
    Eigen::Index best = 0;
    candidate_potential.minCoeff(&best);
    centers.row(c_index) = candidate_rows.row(best);
    update_closest(c_index, false);
  }
  return centers;
}

/// Greedy k-means++ on the rows of one process.
template <typename Derived>
Eigen::MatrixXd kmeans_plus_plus(const Eigen::MatrixBase<Derived>& X, const double* w,
                                 Eigen::Index k, int trials, Random& rng) {
  return kmeans_plus_plus(X, w, k, trials, rng, LocalReducer(X.rows()));
}

/// k distinct indices of 0..n-1 drawn uniformly: a partial Fisher-Yates shuffle of the index
/// list whose moved entries live in a small map (O(k) memory, not O(n); the same draws and
/// picks as the shuffle of a full list).
inline std::vector<Eigen::Index> distinct_indices(Eigen::Index n, Eigen::Index k, Random& rng) {
  std::unordered_map<Eigen::Index, Eigen::Index> moved;  // position -> index, where not identity
  auto at = [&moved](Eigen::Index pos) {
    const auto it = moved.find(pos);
    return it == moved.end() ? pos : it->second;
  };
  std::vector<Eigen::Index> picks(static_cast<std::size_t>(k));
  for (Eigen::Index j = 0; j < k; ++j) {
    const auto pick =
        j + static_cast<Eigen::Index>(rng.uniform_index(static_cast<std::uint64_t>(n - j)));
    picks[static_cast<std::size_t>(j)] = at(pick);
    moved[pick] = at(j);  // swap positions j and pick; position j is never read again
  }
  return picks;
}

/// k distinct samples drawn uniformly (distinct_indices).
template <typename Derived>
Eigen::MatrixXd random_samples_init(const Eigen::MatrixBase<Derived>& X, Eigen::Index k,
                                    Random& rng) {
  const std::vector<Eigen::Index> picks = distinct_indices(X.rows(), k, rng);
  Eigen::MatrixXd centers(k, X.cols());
  for (Eigen::Index j = 0; j < k; ++j) {
    centers.row(j) = X.row(picks[static_cast<std::size_t>(j)]).template cast<double>();
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

/// k distinct samples drawn uniformly. With several processes the same draws run over the
/// global row indices (distinct_indices) and every drawn row is shared by its owner.
template <typename Derived, typename Reducer>
Eigen::MatrixXd random_samples_init(const Eigen::MatrixBase<Derived>& X, Eigen::Index k,
                                    Random& rng, const Reducer& reducer) {
  if constexpr (!Reducer::kDistributed) {
    return random_samples_init(X, k, rng);
  } else {
    const Eigen::Index n = reducer.total_rows();
    const std::vector<double> row_offsets = process_row_offsets(reducer);
    const std::vector<Eigen::Index> picks = distinct_indices(n, k, rng);
    Eigen::MatrixXd centers = Eigen::MatrixXd::Zero(k, X.cols());
    for (Eigen::Index j = 0; j < k; ++j) {
      const auto [owner, local] = owner_of_row(row_offsets, picks[static_cast<std::size_t>(j)]);
      if (owner == reducer.rank()) centers.row(j) = X.row(local).template cast<double>();
    }
    share_owned_rows(reducer, centers);
    return centers;
  }
}

/// k points uniform in the bounding box of the rows of every process.
template <typename Derived, typename Reducer>
Eigen::MatrixXd random_box_init(const Eigen::MatrixBase<Derived>& X, Eigen::Index k, Random& rng,
                                const Reducer& reducer) {
  if constexpr (!Reducer::kDistributed) {
    return random_box_init(X, k, rng);
  } else {
    const Eigen::Index d = X.cols();
    Eigen::VectorXd lo = Eigen::VectorXd::Constant(d, std::numeric_limits<double>::infinity());
    Eigen::VectorXd hi = -lo;
    if (X.rows() > 0) {
      lo = X.colwise().minCoeff().template cast<double>().transpose();
      hi = X.colwise().maxCoeff().template cast<double>().transpose();
    }
    reducer.min(lo.data(), std::size_t(d));
    reducer.max(hi.data(), std::size_t(d));
    Eigen::MatrixXd centers(k, d);
    for (Eigen::Index j = 0; j < k; ++j) {
      for (Eigen::Index f = 0; f < d; ++f) centers(j, f) = rng.uniform(lo(f), hi(f));
    }
    return centers;
  }
}

/// A uniform double in [0, 1) for global row `row` in a draw seeded by `seed`: the SplitMix64
/// finaliser of seed + (row + 1) times the golden-ratio increment, its top 53 bits. A
/// counter-based draw: it depends on the row's global index only, so the rows k-means||
/// samples are the same for any thread count and any split of the rows across processes.
inline double row_uniform(std::uint64_t seed, Eigen::Index row) {
  std::uint64_t z = seed + (static_cast<std::uint64_t>(row) + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

/// Rounds of oversampling of k-means|| (Bahmani et al. found 5 enough; Spark's default is 2).
inline constexpr int kParallelInitRounds = 5;

/// k-means|| (Bahmani, Moseley, Vattani, Kumar, Vassilvitskii: "Scalable K-Means++", VLDB
/// 2012; Spark MLlib's default): the first centre drawn by weight; then kParallelInitRounds
/// rounds in which every row is taken independently with probability
/// min(1, l w D(x)^2 / phi), l = 2k the oversampling factor, phi the weighted potential of
/// the candidates so far (one pass per round, the distances to the round's new candidates
/// from one GEMM per block); every candidate is then weighted by the total weight of the rows
/// nearest to it, and greedy k-means++ on the weighted candidates (identical on every
/// process: they and their weights are shared) picks the k centres. A round's draws come from
/// row_uniform with a seed from `rng`. O(n) memory (one distance per row) besides the
/// candidates (about 2 k rounds rows); few passes over the data instead of k.
template <typename Derived, typename Reducer>
Eigen::MatrixXd kmeans_parallel(const Eigen::MatrixBase<Derived>& X, const double* w,
                                Eigen::Index k, int trials, Random& rng, const Reducer& reducer) {
  using Scalar = typename Derived::Scalar;
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  const Eigen::Index n = X.rows(), d = X.cols();
  const double l = 2.0 * static_cast<double>(k);
  const auto chunks = make_chunks(n, 0);

  // The first centre: as k-means++ (a draw by weight over the rows of every process).
  Eigen::MatrixXd candidates = kmeans_plus_plus(X, w, 1, 1, rng, reducer);
  std::vector<double> closest(static_cast<std::size_t>(n), std::numeric_limits<double>::infinity());
  std::vector<double> chunk_potential(chunks.size());
  // closest <- min(closest, D^2 to rows [from, end) of candidates); the weighted potential
  // summed over every process.
  auto update_closest = [&](Eigen::Index from) {
    const Matrix fresh = candidates.middleRows(from, candidates.rows() - from).cast<Scalar>();
    const Vector fresh_sq = fresh.rowwise().squaredNorm();
    for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
      double potential = 0;
      Matrix xb, dist;
      for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
        block_squared_distances(X, begin, end, fresh, fresh_sq, dist, xb);
        for (Eigen::Index r = 0; r < end - begin; ++r) {
          double& cl = closest[static_cast<std::size_t>(begin + r)];
          cl = std::min(cl, static_cast<double>(dist.row(r).minCoeff()));
          potential += weight_of(w, begin + r) * cl;
        }
      });
      chunk_potential[c] = potential;
    });
    double phi = 0;
    for (double p : chunk_potential) phi += p;
    reducer.sum(&phi, 1);
    return phi;
  };
  double phi = update_closest(0);
  const Eigen::Index offset = reducer.row_offset();
  for (int round = 0; round < kParallelInitRounds && phi > 0; ++round) {
    const std::uint64_t seed = rng.bits();
    std::vector<std::vector<Eigen::Index>> taken(chunks.size());
    for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
      for (Eigen::Index i = chunk.begin; i < chunk.end; ++i) {
        const double p = l * weight_of(w, i) * closest[static_cast<std::size_t>(i)] / phi;
        if (row_uniform(seed, offset + i) < p) taken[c].push_back(i);
      }
    });
    std::vector<double> rows;  // this process's new candidates, in row order
    for (const auto& t : taken)
      for (Eigen::Index i : t)
        for (Eigen::Index f = 0; f < d; ++f) rows.push_back(static_cast<double>(X.coeff(i, f)));
    const std::vector<double> all = reducer.all_gather(std::move(rows));
    const auto added = static_cast<Eigen::Index>(all.size()) / std::max<Eigen::Index>(d, 1);
    if (added == 0) continue;
    const Eigen::Index from = candidates.rows();
    candidates.conservativeResize(from + added, d);
    candidates.middleRows(from, added) =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            all.data(), added, d);
    phi = update_closest(from);
  }
  const Eigen::Index m = candidates.rows();
  if (m <= k) {
    // Too few distinct draws (tiny or degenerate data): greedy k-means++ on the rows.
    if (m < k) return kmeans_plus_plus(X, w, k, trials, rng, reducer);
    return candidates;
  }
  // Each candidate's weight: the total weight of the rows nearest to it (ties to the lowest
  // index), per chunk, chunks in order, then summed over the processes.
  const Matrix cand = candidates.cast<Scalar>();
  const Vector cand_sq = cand.rowwise().squaredNorm();
  std::vector<Eigen::VectorXd> chunk_weight(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    Eigen::VectorXd cw = Eigen::VectorXd::Zero(m);
    Matrix xb, dist;
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      block_squared_distances(X, begin, end, cand, cand_sq, dist, xb);
      for (Eigen::Index r = 0; r < end - begin; ++r) {
        Eigen::Index j = 0;
        dist.row(r).minCoeff(&j);
        cw(j) += weight_of(w, begin + r);
      }
    });
    chunk_weight[c] = std::move(cw);
  });
  Eigen::VectorXd candidate_weight = Eigen::VectorXd::Zero(m);
  for (const auto& cw : chunk_weight) candidate_weight += cw;
  reducer.sum(candidate_weight.data(), static_cast<std::size_t>(m));
  return kmeans_plus_plus(candidates, candidate_weight.data(), k, trials, rng, LocalReducer(m));
}

}  // namespace emcluster::detail
