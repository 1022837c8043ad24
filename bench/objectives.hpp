/// @file bench/objectives.hpp
/// @brief The objectives the driver computes itself from every implementation's final
/// parameters, in double and the same way for all: K-means inertia (and the nearest-centre
/// labels), and a Gaussian mixture's mean log-likelihood per sample.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "workloads.hpp"

namespace emcluster_bench {

template <typename Scalar>
using ConstRowMap = Eigen::Map<const RowMatrix<Scalar>>;

/// Nearest centre of every row and the inertia, in double (GEMM identity by blocks, then the
/// exact squared distance to the chosen centre).
template <typename Scalar>
double nearest_centres(const ConstRowMap<Scalar>& X, const Eigen::MatrixXd& C,
                       std::vector<int>* labels) {
  const Eigen::Index n = X.rows(), block = 4096;
  const Eigen::VectorXd cn = C.rowwise().squaredNorm();
  double inertia = 0.0;
  if (labels) labels->assign(static_cast<std::size_t>(n), 0);
  for (Eigen::Index b = 0; b < n; b += block) {
    const Eigen::Index rows = std::min(block, n - b);
    const Eigen::MatrixXd xb = X.middleRows(b, rows).template cast<double>();
    Eigen::MatrixXd dist = -2.0 * xb * C.transpose();
    dist.rowwise() += cn.transpose();
    for (Eigen::Index i = 0; i < rows; ++i) {
      Eigen::Index j = 0;
      dist.row(i).minCoeff(&j);
      inertia += (xb.row(i) - C.row(j)).squaredNorm();
      if (labels) (*labels)[static_cast<std::size_t>(b + i)] = static_cast<int>(j);
    }
  }
  return inertia;
}

/// Mean log-likelihood of X under a mixture given as weights (k), means (k x d) and full
/// covariances (k of d x d), all packed in p. NaN when a covariance is not positive definite.
inline double mean_log_likelihood(const ConstRowMap<double>& X, const std::vector<double>& p,
                                  Eigen::Index k) {
  const Eigen::Index n = X.rows(), d = X.cols(), block = 4096;
  const double log2pi = std::log(2.0 * 3.14159265358979323846);
  std::vector<Eigen::LLT<Eigen::MatrixXd>> chol;
  Eigen::VectorXd logconst(k);
  for (Eigen::Index j = 0; j < k; ++j) {
    const Eigen::Map<const Eigen::MatrixXd> S(p.data() + k + k * d + j * d * d, d, d);
    chol.emplace_back(S);
    if (chol.back().info() != Eigen::Success) return std::numeric_limits<double>::quiet_NaN();
    const double logdet =
        2.0 * chol.back().matrixL().toDenseMatrix().diagonal().array().log().sum();
    logconst(j) = std::log(p[static_cast<std::size_t>(j)]) - 0.5 * (d * log2pi + logdet);
  }
  const Eigen::Map<const RowMatrix<double>> M(p.data() + k, k, d);
  double total = 0.0;
  Eigen::MatrixXd lp(block, k);
  for (Eigen::Index b = 0; b < n; b += block) {
    const Eigen::Index rows = std::min(block, n - b);
    for (Eigen::Index j = 0; j < k; ++j) {
      Eigen::MatrixXd diff = (X.middleRows(b, rows).rowwise() - M.row(j)).transpose();  // d x rows
      chol[static_cast<std::size_t>(j)].matrixL().solveInPlace(diff);
      lp.col(j).head(rows) =
          (logconst(j) - 0.5 * diff.colwise().squaredNorm().array()).matrix().transpose();
    }
    for (Eigen::Index i = 0; i < rows; ++i) {
      const double mx = lp.row(i).maxCoeff();
      total += mx + std::log((lp.row(i).array() - mx).exp().sum());
    }
  }
  return total / static_cast<double>(n);
}

}  // namespace emcluster_bench
