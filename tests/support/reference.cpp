#include "reference.hpp"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace emcluster_test {

double sq_dist(const Eigen::MatrixXd& X, Eigen::Index i, const Eigen::MatrixXd& C, Eigen::Index j) {
  double s = 0;
  for (Eigen::Index f = 0; f < X.cols(); ++f) {
    const double diff = X(i, f) - C(j, f);
    s += diff * diff;
  }
  return s;
}

int nearest(const Eigen::MatrixXd& X, Eigen::Index i, const Eigen::MatrixXd& C) {
  int best = 0;
  double best_d = sq_dist(X, i, C, 0);
  for (Eigen::Index j = 1; j < C.rows(); ++j) {
    const double dj = sq_dist(X, i, C, j);
    if (dj < best_d) {
      best_d = dj;
      best = static_cast<int>(j);
    }
  }
  return best;
}

LloydRun reference_lloyd(const Eigen::MatrixXd& X, const Eigen::VectorXd& w, Eigen::MatrixXd C,
                         double tol, int max_iter) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = C.rows();
  auto weight = [&](Eigen::Index i) { return w.size() ? w(i) : 1.0; };
  // Absolute tolerance: tol times the mean population variance of the features (unweighted).
  double mean_var = 0;
  for (Eigen::Index f = 0; f < d; ++f) {
    double mean = 0;
    for (Eigen::Index i = 0; i < n; ++i) mean += X(i, f);
    mean /= static_cast<double>(n);
    double ss = 0;
    for (Eigen::Index i = 0; i < n; ++i) ss += (X(i, f) - mean) * (X(i, f) - mean);
    mean_var += ss / static_cast<double>(n);
  }
  mean_var /= static_cast<double>(d);
  const double tol_abs = tol * mean_var;

  LloydRun ref;
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(n, -1);
  for (int it = 1; it <= max_iter; ++it) {
    // Assignment.
    int changed = 0;
    double inertia = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const int l = nearest(X, i, C);
      if (l != labels(i)) ++changed;
      labels(i) = l;
      inertia += weight(i) * sq_dist(X, i, C, l);
    }
    ref.inertias.push_back(inertia);
    // Weighted sums.
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, d);
    Eigen::VectorXd weights = Eigen::VectorXd::Zero(k);
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index f = 0; f < d; ++f) sums(labels(i), f) += weight(i) * X(i, f);
      weights(labels(i)) += weight(i);
    }
    // Empty clusters, in increasing order, take the samples farthest from their own (old)
    // centre, farthest first, ties to the lower index; zero-weight samples never move.
    std::vector<Eigen::Index> empty;
    for (Eigen::Index j = 0; j < k; ++j) {
      if (weights(j) == 0) empty.push_back(j);
    }
    if (!empty.empty()) {
      std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
      std::iota(order.begin(), order.end(), Eigen::Index(0));
      std::vector<double> far(static_cast<std::size_t>(n));
      for (Eigen::Index i = 0; i < n; ++i) {
        far[static_cast<std::size_t>(i)] = weight(i) > 0 ? sq_dist(X, i, C, labels(i)) : -1;
      }
      std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
        return far[static_cast<std::size_t>(a)] > far[static_cast<std::size_t>(b)];
      });
      for (std::size_t e = 0; e < empty.size() && e < order.size(); ++e) {
        const Eigen::Index i = order[e];
        if (far[static_cast<std::size_t>(i)] < 0) break;
        for (Eigen::Index f = 0; f < d; ++f) {
          sums(labels(i), f) -= weight(i) * X(i, f);
          sums(empty[e], f) = weight(i) * X(i, f);
        }
        weights(labels(i)) -= weight(i);
        weights(empty[e]) = weight(i);
        ++ref.relocations;
      }
    }
    // Update; a centre without weight stays where it was.
    Eigen::MatrixXd updated = C;
    double shift = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      for (Eigen::Index f = 0; f < d; ++f) {
        if (weights(j) > 0) updated(j, f) = sums(j, f) / weights(j);
        shift += (updated(j, f) - C(j, f)) * (updated(j, f) - C(j, f));
      }
    }
    C = updated;
    ref.shifts.push_back(shift);
    ref.n_iter = it;
    if (changed == 0 || shift <= tol_abs) {
      ref.converged = true;
      break;
    }
  }
  // Final assignment to the final centres.
  ref.inertia = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    labels(i) = nearest(X, i, C);
    ref.inertia += weight(i) * sq_dist(X, i, C, labels(i));
  }
  ref.centers = C;
  ref.labels = labels;
  return ref;
}

double gaussian_log_density(const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& mean,
                            const Eigen::MatrixXd& cov) {
  // cov = L L^T: the quadratic form is ||L^-1 (x - mean)||^2, log det cov = 2 sum log L_ii.
  const Eigen::LLT<Eigen::MatrixXd> llt(cov);
  const Eigen::MatrixXd L = llt.matrixL();
  const Eigen::VectorXd z = L.triangularView<Eigen::Lower>().solve((x - mean).transpose());
  const double log_det = 2 * L.diagonal().array().log().sum();
  return -0.5 * z.squaredNorm() -
         0.5 * (static_cast<double>(x.size()) * std::log(2 * M_PI) + log_det);
}

namespace {

double component_density(const MixtureParameters& m, const Eigen::RowVectorXd& x, Eigen::Index j) {
  return m.weights(j) * std::exp(gaussian_log_density(x, m.means.row(j),
                                                      m.covariances[static_cast<std::size_t>(j)]));
}

}  // namespace

double mixture_log_density(const MixtureParameters& m, const Eigen::RowVectorXd& x) {
  double p = 0;
  for (Eigen::Index j = 0; j < m.weights.size(); ++j) p += component_density(m, x, j);
  if (m.noise_low.size()) {
    bool inside = true;
    for (Eigen::Index f = 0; f < x.size(); ++f)
      inside = inside && x(f) >= m.noise_low(f) && x(f) <= m.noise_high(f);
    if (inside) p += m.noise_weight / (m.noise_high - m.noise_low).prod();
  }
  return std::log(p);
}

double posterior(const MixtureParameters& m, const Eigen::RowVectorXd& x, Eigen::Index j) {
  return component_density(m, x, j) / std::exp(mixture_log_density(m, x));
}

}  // namespace emcluster_test
