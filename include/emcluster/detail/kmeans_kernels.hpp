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

namespace emcluster {

/// How KMeans finds the nearest centre of each sample. Every kernel gives the same labels up
/// to rounding on near-exact ties; the tests hold each one to the plain reference.
enum class AssignKernel {
  automatic,  ///< direct for small k * d, GEMM otherwise (the default)
  direct,     ///< vectorised loops over a block of rows, one centre at a time (small k, d)
  gemm        ///< one matrix product per block of rows (large k, d)
};

}  // namespace emcluster

namespace emcluster::detail {

#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#define EMCLUSTER_RESTRICT __restrict
#else
#define EMCLUSTER_RESTRICT
#endif

/// k * d up to which the automatic choice uses the direct kernel.
inline constexpr Eigen::Index kDirectKernelMaxWork = 128;

/// Centres prepared for a nearest-centre search: -2 c in the data's scalar type (row-major,
/// one centre per contiguous row) for the distance kernels, ||c||^2, and a double copy for
/// exact distances.
template <typename Scalar>
struct PreparedCenters {
  using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  Matrix centers;                 ///< k x d in the data's scalar type
  RowMatrix minus2_centers;       ///< k x d, -2 c
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> squared_norms;  ///< k, ||c_j||^2
  RowMatrixD centers_d;           ///< k x d in double

  PreparedCenters() = default;
  explicit PreparedCenters(const Eigen::MatrixXd& c)
      : centers(c.cast<Scalar>()),
        minus2_centers(Scalar(-2) * centers),
        squared_norms(centers.rowwise().squaredNorm()),
        centers_d(centers.template cast<double>()) {}
  Eigen::Index k() const { return centers.rows(); }
  Eigen::Index d() const { return centers.cols(); }
};

/// Scratch space of one thread for the assignment of one block of rows.
template <typename Scalar>
struct AssignWorkspace {
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> xb;    ///< kBlockRows x d copy of the block
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> dist;  ///< kBlockRows x k (GEMM kernel)
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> acc, best;         ///< partial distances
  Eigen::VectorXi label;                                       ///< nearest centre per row

  AssignWorkspace(Eigen::Index d, Eigen::Index k, bool gemm)
      : xb(kBlockRows, d), acc(kBlockRows), best(kBlockRows), label(kBlockRows) {
    if (gemm) dist.resize(kBlockRows, k);
  }
};

/// Resolves AssignKernel::automatic for k centres in d dimensions.
inline AssignKernel choose_kernel(AssignKernel requested, Eigen::Index k, Eigen::Index d) {
  if (requested != AssignKernel::automatic) return requested;
  return k * d <= kDirectKernelMaxWork ? AssignKernel::direct : AssignKernel::gemm;
}

/// Keeps, row by row, the smaller of best and candidate and the label it came from.
template <typename Scalar>
inline void keep_minimum(Eigen::Index rows, const Scalar* EMCLUSTER_RESTRICT candidate, int j,
                         Scalar* EMCLUSTER_RESTRICT best, int* EMCLUSTER_RESTRICT label) {
  for (Eigen::Index r = 0; r < rows; ++r) {
    const bool lower = candidate[r] < best[r];
    best[r] = lower ? candidate[r] : best[r];
    label[r] = lower ? j : label[r];
  }
}

/// Finds the nearest centre of rows [begin, end) of X. Copies the block into ws.xb
/// (column-major, contiguous per feature), then leaves in ws.label the nearest centre and in
/// ws.best the partial distance ||c||^2 - 2 x.c (||x||^2 dropped: it does not change the
/// argmin). Ties go to the lowest centre index.
template <typename Derived, typename Scalar>
void assign_block(const Eigen::MatrixBase<Derived>& X, Eigen::Index begin, Eigen::Index end,
                  const PreparedCenters<Scalar>& C, AssignKernel kernel, AssignWorkspace<Scalar>& ws) {
  const Eigen::Index rows = end - begin;
  const Eigen::Index k = C.k(), d = C.d(), ld = ws.xb.rows();
  ws.xb.topRows(rows) = X.derived().middleRows(begin, rows);
  Scalar* EMCLUSTER_RESTRICT best = ws.best.data();
  int* EMCLUSTER_RESTRICT label = ws.label.data();
  if (kernel == AssignKernel::gemm) {
    auto D = ws.dist.topRows(rows);
    D.noalias() = ws.xb.topRows(rows) * C.minus2_centers.transpose();
    for (Eigen::Index j = 0; j < k; ++j) {
      Scalar* EMCLUSTER_RESTRICT col = D.col(j).data();
      const Scalar c2 = C.squared_norms(j);
      for (Eigen::Index r = 0; r < rows; ++r) col[r] += c2;
      if (j == 0) {
        for (Eigen::Index r = 0; r < rows; ++r) {
          best[r] = col[r];
          label[r] = 0;
        }
      } else {
        keep_minimum(rows, col, static_cast<int>(j), best, label);
      }
    }
    return;
  }
  // Direct kernel: one centre at a time, vectorised across the rows of the block.
  Scalar* EMCLUSTER_RESTRICT acc = ws.acc.data();
  const Scalar* xb = ws.xb.data();
  for (Eigen::Index j = 0; j < k; ++j) {
    Scalar* EMCLUSTER_RESTRICT target = j == 0 ? best : acc;
    const Scalar c2 = C.squared_norms(j);
    for (Eigen::Index r = 0; r < rows; ++r) target[r] = c2;
    const Scalar* m2c = C.minus2_centers.row(j).data();
    for (Eigen::Index f = 0; f < d; ++f) {
      const Scalar m = m2c[f];
      const Scalar* EMCLUSTER_RESTRICT xf = xb + f * ld;
      for (Eigen::Index r = 0; r < rows; ++r) target[r] += xf[r] * m;
    }
    if (j == 0) {
      for (Eigen::Index r = 0; r < rows; ++r) label[r] = 0;
    } else {
      keep_minimum(rows, acc, static_cast<int>(j), best, label);
    }
  }
}

/// Exact squared distance between row i of X and a centre held in double.
template <typename Derived, typename CentersD>
double squared_distance(const Eigen::MatrixBase<Derived>& X, Eigen::Index i, const CentersD& centers_d, int label) {
  return (X.row(i).template cast<double>() - centers_d.row(label)).squaredNorm();
}

/// What one chunk of rows contributes to a Lloyd step. Everything is accumulated in double,
/// whatever the data's scalar type.
struct LloydStats {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> sums;  ///< k x d: weighted sum of the points assigned to each centre
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
/// those that changed), the inertia (exact distances, in double) and, when `accumulate` is
/// set, the sufficient statistics of the M-step. Returns the chunks' statistics combined in
/// chunk order.
template <typename Derived, typename Scalar>
LloydStats lloyd_pass(const Eigen::MatrixBase<Derived>& X, const double* w, const PreparedCenters<Scalar>& C,
                      int* labels, bool accumulate, AssignKernel kernel = AssignKernel::automatic) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = C.k();
  kernel = choose_kernel(kernel, k, d);
  const std::size_t stat_bytes = accumulate ? sizeof(double) * std::size_t(k * (d + 1)) : 64;
  const auto chunks = make_chunks(n, stat_bytes);
  std::vector<LloydStats> stats(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    LloydStats s = accumulate ? LloydStats(k, d) : LloydStats();
    AssignWorkspace<Scalar> ws(d, k, kernel == AssignKernel::gemm);
    Eigen::VectorXd x(d);
    const Eigen::Index ld = ws.xb.rows();
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      assign_block(X, begin, end, C, kernel, ws);
      const Scalar* xb = ws.xb.data();
      for (Eigen::Index r = 0; r < end - begin; ++r) {
        const Eigen::Index i = begin + r;
        const int label = ws.label(r);
        if (labels[i] != label) {
          ++s.changed;
          labels[i] = label;
        }
        const double wi = weight_of(w, i);
        const double* c = C.centers_d.row(label).data();
        double dist = 0;
        for (Eigen::Index f = 0; f < d; ++f) {
          x(f) = static_cast<double>(xb[f * ld + r]);
          const double diff = x(f) - c[f];
          dist += diff * diff;
        }
        s.inertia += wi * dist;
        if (accumulate) {
          double* sum = s.sums.row(label).data();
          for (Eigen::Index f = 0; f < d; ++f) sum[f] += wi * x(f);
          s.weights(label) += wi;
        }
      }
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

/// Nearest centre of every row of X (the predict of KMeans and MiniBatchKMeans).
template <typename Derived, typename Scalar>
Eigen::VectorXi nearest_centers(const Eigen::MatrixBase<Derived>& X, const PreparedCenters<Scalar>& C,
                                AssignKernel kernel) {
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
  lloyd_pass(X, nullptr, C, labels.data(), false, kernel);
  return labels;
}

/// Inertia of X (weights w, nullptr = 1) under fixed centres.
template <typename Derived, typename Scalar>
double inertia_of(const Eigen::MatrixBase<Derived>& X, const double* w, const PreparedCenters<Scalar>& C,
                  AssignKernel kernel) {
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1);
  return lloyd_pass(X, w, C, labels.data(), false, kernel).inertia;
}

/// Euclidean distance from every row of X to every centre (n x k), from exact differences
/// in double, by chunks in parallel.
template <typename Derived, typename Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> center_distances(const Eigen::MatrixBase<Derived>& X,
                                                                       const PreparedCenters<Scalar>& C) {
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> out(X.rows(), C.k());
  const auto chunks = make_chunks(X.rows(), 0);
  for_each_chunk(chunks, [&](std::size_t, const Chunk& chunk) {
    const Eigen::MatrixXd block = X.middleRows(chunk.begin, chunk.size()).template cast<double>();
    for (Eigen::Index j = 0; j < C.k(); ++j) {
      out.col(j).segment(chunk.begin, chunk.size()) =
          (block.rowwise() - C.centers_d.row(j)).rowwise().norm().template cast<Scalar>();
    }
  });
  return out;
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
