/// @file datasets.hpp
/// @brief Synthetic data: Gaussian clusters plus uniform background noise, and the data set
/// of the article this library grew from (three elongated 2-D clusters and 30 noise points).
///
/// Every generator is reproducible bit for bit: the same arguments and seed give the same
/// bytes on every platform, compiler and thread count, and `float` data are exactly the
/// `double` data rounded to float. To make that possible all values are drawn and computed in
/// double through emcluster::detail::Random (its own normal and uniform distributions, never
/// the standard library's), with plain scalar loops in a fixed order, and cast to Scalar last.
///
/// Order of the draws, from one Random stream seeded with `seed` (fixed; part of the
/// interface, so that stored data sets stay valid):
///  1. cluster 0, row 0: d standard normals z_0 .. z_{d-1}; then row 1, ... to the cluster's
///     last row; then cluster 1 the same way, and so on;
///  2. the noise rows, one after the other: d uniforms, coordinate 0 first, each
///     `uniform(low_j, high_j)`.
///
/// A cluster row is `mean + sqrt(variance) * z` (element-wise) in the diagonal generator and
/// `mean + L z` in the full-covariance generator, L being the lower Cholesky factor of the
/// covariance. The rows of X come in that order too: the clusters in the order given, then the
/// noise; `labels` holds the cluster index of each row, -1 for noise.
///
/// @code
/// #include <emcluster/datasets.hpp>
///
/// // The article's experiment: 1830 x 2, labels 0/1/2 and -1 for the 30 noise points.
/// emcluster::Dataset<> data = emcluster::make_article_data();
///
/// // Two 3-D clusters with diagonal variances and 50 noise points in the cube [-5, 5]^3.
/// std::vector<Eigen::VectorXd> means = {Eigen::Vector3d(0, 0, 0), Eigen::Vector3d(3, 3, 0)};
/// std::vector<Eigen::VectorXd> vars = {Eigen::Vector3d(1, 1, 1), Eigen::Vector3d(0.5, 2, 1)};
/// auto blobs = emcluster::make_clusters_with_noise<float>(
///     {500, 300}, means, vars, Eigen::Vector3d::Constant(-5), Eigen::Vector3d::Constant(5),
///     50, /*seed=*/7);
/// @endcode
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "detail/random.hpp"
#include "detail/validation.hpp"

namespace emcluster {

/// A generated data set: the samples and the component each one was drawn from.
/// @tparam Scalar `float` or `double`, the scalar type of X.
template <typename Scalar = double>
struct Dataset {
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> X;  ///< n x d, samples in rows
  Eigen::VectorXi labels;                                   ///< n: true component, -1 = noise
};

namespace detail {

/// Checks the parts every generator shares (counts, means, noise box) and returns d, the
/// dimension; `n_stats` is the length of the per-cluster variances / covariances vector.
inline Eigen::Index check_cluster_spec(const char* where, const std::vector<Eigen::Index>& counts,
                                       const std::vector<Eigen::VectorXd>& means,
                                       std::size_t n_stats, const char* stats_name,
                                       const Eigen::VectorXd& noise_low,
                                       const Eigen::VectorXd& noise_high, Eigen::Index noise_count,
                                       Eigen::Index& total) {
  if (means.size() != counts.size()) {
    fail(where, "means has ", means.size(), " entries but counts has ", counts.size());
  }
  if (n_stats != counts.size()) {
    fail(where, stats_name, " has ", n_stats, " entries but counts has ", counts.size());
  }
  if (counts.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    fail(where, "counts has ", counts.size(), " clusters; labels are int, at most ",
         std::numeric_limits<int>::max());
  }
  if (noise_count < 0) fail(where, "noise_count = ", noise_count, " is negative");

  if (counts.empty() && noise_count == 0) {
    fail(where, "counts is empty and noise_count is 0; there is nothing to generate");
  }
  Eigen::Index d = 0;
  if (!means.empty()) {
    d = means.front().size();
  } else if (noise_count > 0) {
    d = noise_low.size();
  }
  if (d < 1) {
    fail(where, means.empty() ? "noise_low" : "means[0]",
         " has no coordinates; the data need at least one feature");
  }

  total = 0;
  const Eigen::Index max_rows = std::numeric_limits<Eigen::Index>::max() / d;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] < 0) fail(where, "counts[", c, "] = ", counts[c], " is negative");
    if (means[c].size() != d) {
      fail(where, "means[", c, "] has ", means[c].size(), " coordinates but means[0] has ", d);
    }
    for (Eigen::Index j = 0; j < d; ++j) {
      if (!std::isfinite(means[c](j))) fail(where, "means[", c, "](", j, ") is not finite");
    }
    if (counts[c] > max_rows - total) fail(where, "counts add up to more rows than fit in memory");
    total += counts[c];
  }

  if (noise_count > 0) {
    if (noise_low.size() != d) {
      fail(where, "noise_low has ", noise_low.size(), " coordinates but the clusters have ", d);
    }
    if (noise_high.size() != d) {
      fail(where, "noise_high has ", noise_high.size(), " coordinates but the clusters have ", d);
    }
    for (Eigen::Index j = 0; j < d; ++j) {
      if (!std::isfinite(noise_low(j))) fail(where, "noise_low(", j, ") is not finite");
      if (!std::isfinite(noise_high(j))) fail(where, "noise_high(", j, ") is not finite");
      if (!(noise_low(j) < noise_high(j))) {
        fail(where, "the noise box is empty in coordinate ", j, ": noise_low(", j,
             ") = ", noise_low(j), " is not below noise_high(", j, ") = ", noise_high(j));
      }
    }
    if (noise_count > max_rows - total)
      fail(where, "counts and noise_count add up to more rows than fit in memory");
    total += noise_count;
  }
  if (total == 0) fail(where, "counts and noise_count are all zero; there is nothing to generate");
  return d;
}

/// Lower Cholesky factor of a symmetric positive-definite matrix by plain scalar loops in a
/// fixed order (so the bits do not depend on SIMD width); only the lower triangle is read.
/// Returns the first column whose pivot is not positive, or -1 on success.
inline Eigen::Index scalar_cholesky(const Eigen::MatrixXd& A, Eigen::MatrixXd& L,
                                    double& bad_pivot) {
  const Eigen::Index d = A.rows();
  L = Eigen::MatrixXd::Zero(d, d);
  for (Eigen::Index j = 0; j < d; ++j) {
    double pivot = A(j, j);
    for (Eigen::Index k = 0; k < j; ++k) pivot -= L(j, k) * L(j, k);
    if (!(pivot > 0.0) || !std::isfinite(pivot)) {
      bad_pivot = pivot;
      return j;
    }
    const double ljj = std::sqrt(pivot);
    L(j, j) = ljj;
    for (Eigen::Index i = j + 1; i < d; ++i) {
      double s = A(i, j);
      for (Eigen::Index k = 0; k < j; ++k) s -= L(i, k) * L(j, k);
      L(i, j) = s / ljj;
    }
  }
  return -1;
}

/// Fills the noise rows [row, row + noise_count) with uniform draws in the box.
template <typename Scalar>
void fill_noise(Dataset<Scalar>& out, Eigen::Index row, Eigen::Index noise_count,
                const Eigen::VectorXd& low, const Eigen::VectorXd& high, Random& rng) {
  const Eigen::Index d = out.X.cols();
  for (Eigen::Index i = 0; i < noise_count; ++i, ++row) {
    for (Eigen::Index j = 0; j < d; ++j)
      out.X(row, j) = static_cast<Scalar>(rng.uniform(low(j), high(j)));
    out.labels(row) = -1;
  }
}

/// Compile-time check that the generators are instantiated for float or double only.
template <typename Scalar>
constexpr void check_dataset_scalar() {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster datasets: Scalar must be float or double");
}

}  // namespace detail

/// Gaussian clusters with diagonal covariances plus uniform background noise (the article's
/// generator).
///
/// Row block c (in the order given) holds `counts[c]` samples `means[c] + sqrt(variances[c])
/// .* z`, z standard normal; then come `noise_count` samples uniform in the box
/// [noise_low, noise_high). The draw order is fixed; see the file notes.
///
/// @param counts      samples per cluster (>= 0 each)
/// @param means       one d-vector per cluster (finite)
/// @param variances   one d-vector of per-coordinate variances per cluster (finite, >= 0)
/// @param noise_low   lower corner of the noise box (d entries); ignored when noise_count = 0
/// @param noise_high  upper corner, above noise_low in every coordinate; ignored when noise_count =
/// 0
/// @param noise_count number of noise samples (>= 0), labelled -1
/// @param seed        seed of the one random stream
/// @return X (n x d, n = sum(counts) + noise_count) and the label of every row.
/// @throws std::invalid_argument naming the argument: mismatched lengths or dimensions,
///         negative counts, non-finite means, negative or non-finite variances, an empty,
///         inverted or wrongly sized noise box (when noise_count > 0), zero samples in all.
///
/// @code
/// std::vector<Eigen::VectorXd> means = {Eigen::Vector2d(0, 0), Eigen::Vector2d(5, 5)};
/// std::vector<Eigen::VectorXd> vars = {Eigen::Vector2d(1, 4), Eigen::Vector2d(2, 2)};
/// auto data = emcluster::make_clusters_with_noise<>({100, 200}, means, vars,
///     Eigen::Vector2d(-10, -10), Eigen::Vector2d(15, 15), 20, 1);  // 320 x 2
/// @endcode
template <typename Scalar = double>
Dataset<Scalar> make_clusters_with_noise(const std::vector<Eigen::Index>& counts,
                                         const std::vector<Eigen::VectorXd>& means,
                                         const std::vector<Eigen::VectorXd>& variances,
                                         const Eigen::VectorXd& noise_low,
                                         const Eigen::VectorXd& noise_high,
                                         Eigen::Index noise_count, std::uint64_t seed) {
  detail::check_dataset_scalar<Scalar>();
  constexpr const char* where = "make_clusters_with_noise";
  Eigen::Index n = 0;
  const Eigen::Index d = detail::check_cluster_spec(
      where, counts, means, variances.size(), "variances", noise_low, noise_high, noise_count, n);
  std::vector<Eigen::VectorXd> sd(counts.size());
  for (std::size_t c = 0; c < counts.size(); ++c) {
    if (variances[c].size() != d) {
      detail::fail(where, "variances[", c, "] has ", variances[c].size(), " coordinates but means[",
                   c, "] has ", d);
    }
    for (Eigen::Index j = 0; j < d; ++j) {
      const double v = variances[c](j);
      if (!std::isfinite(v)) detail::fail(where, "variances[", c, "](", j, ") is not finite");
      if (v < 0) detail::fail(where, "variances[", c, "](", j, ") = ", v, " is negative");
    }
    sd[c] = variances[c].cwiseSqrt();
  }

  Dataset<Scalar> out;
  out.X.resize(n, d);
  out.labels.resize(n);
  detail::Random rng(seed);
  Eigen::Index row = 0;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    for (Eigen::Index i = 0; i < counts[c]; ++i, ++row) {
      for (Eigen::Index j = 0; j < d; ++j) {
        const double z = rng.normal();
        out.X(row, j) = static_cast<Scalar>(means[c](j) + sd[c](j) * z);
      }
      out.labels(row) = static_cast<int>(c);
    }
  }
  detail::fill_noise(out, row, noise_count, noise_low, noise_high, rng);
  return out;
}

/// Gaussian clusters with full covariance matrices plus uniform background noise.
///
/// Same as make_clusters_with_noise() but each cluster c has a symmetric positive-definite
/// d x d covariance: a row is `means[c] + L_c z`, L_c the lower Cholesky factor of
/// `covariances[c]` (computed by plain scalar loops so that the result does not depend on the
/// SIMD width), z standard normal. The draws are the same as the diagonal generator's, so a
/// diagonal covariance matrix gives exactly the diagonal generator's bytes.
///
/// @param covariances one symmetric positive-definite d x d matrix per cluster
/// @throws std::invalid_argument as make_clusters_with_noise(), and for a covariance that is
///         not square d x d, not finite, not symmetric (relative tolerance 1e-12) or not
///         positive definite.
///
/// @code
/// Eigen::Matrix2d S;
/// S << 2.0, 1.2,
///      1.2, 1.0;
/// auto data = emcluster::make_clusters_with_noise_full<>({1000}, {Eigen::Vector2d(1, 2)},
///     {S}, Eigen::VectorXd(), Eigen::VectorXd(), 0, 3);  // 1000 x 2, no noise
/// @endcode
template <typename Scalar = double>
Dataset<Scalar> make_clusters_with_noise_full(const std::vector<Eigen::Index>& counts,
                                              const std::vector<Eigen::VectorXd>& means,
                                              const std::vector<Eigen::MatrixXd>& covariances,
                                              const Eigen::VectorXd& noise_low,
                                              const Eigen::VectorXd& noise_high,
                                              Eigen::Index noise_count, std::uint64_t seed) {
  detail::check_dataset_scalar<Scalar>();
  constexpr const char* where = "make_clusters_with_noise_full";
  Eigen::Index n = 0;
  const Eigen::Index d =
      detail::check_cluster_spec(where, counts, means, covariances.size(), "covariances", noise_low,
                                 noise_high, noise_count, n);
  std::vector<Eigen::MatrixXd> chol(counts.size());
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const Eigen::MatrixXd& S = covariances[c];
    if (S.rows() != d || S.cols() != d) {
      detail::fail(where, "covariances[", c, "] is ", S.rows(), " x ", S.cols(), " but means[", c,
                   "] has ", d, " coordinates (expected ", d, " x ", d, ")");
    }
    for (Eigen::Index i = 0; i < d; ++i) {
      for (Eigen::Index j = 0; j < d; ++j) {
        if (!std::isfinite(S(i, j)))
          detail::fail(where, "covariances[", c, "](", i, ", ", j, ") is not finite");
      }
    }
    for (Eigen::Index i = 0; i < d; ++i) {
      for (Eigen::Index j = 0; j < i; ++j) {
        const double scale = std::max(
            {std::abs(S(i, j)), std::abs(S(j, i)), std::sqrt(std::abs(S(i, i) * S(j, j)))});
        if (std::abs(S(i, j) - S(j, i)) > 1e-12 * scale) {
          detail::fail(where, "covariances[", c, "] is not symmetric: entry (", i, ", ", j,
                       ") = ", S(i, j), " but (", j, ", ", i, ") = ", S(j, i));
        }
      }
    }
    double bad_pivot = 0.0;
    const Eigen::Index bad = detail::scalar_cholesky(S, chol[c], bad_pivot);
    if (bad >= 0) {
      detail::fail(where, "covariances[", c, "] is not positive definite (Cholesky pivot ", bad,
                   " is ", bad_pivot, ")");
    }
  }

  Dataset<Scalar> out;
  out.X.resize(n, d);
  out.labels.resize(n);
  detail::Random rng(seed);
  Eigen::VectorXd z(d);
  Eigen::Index row = 0;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const Eigen::MatrixXd& L = chol[c];
    for (Eigen::Index i = 0; i < counts[c]; ++i, ++row) {
      for (Eigen::Index j = 0; j < d; ++j) z(j) = rng.normal();
      for (Eigen::Index j = 0; j < d; ++j) {
        double s = L(j, 0) * z(0);
        for (Eigen::Index k = 1; k <= j; ++k) s += L(j, k) * z(k);
        out.X(row, j) = static_cast<Scalar>(means[c](j) + s);
      }
      out.labels(row) = static_cast<int>(c);
    }
  }
  detail::fill_noise(out, row, noise_count, noise_low, noise_high, rng);
  return out;
}

/// The article's data set ("K-means and Gaussian Mixture Models from scratch").
///
/// Three 2-D Gaussian clusters with diagonal variances, then uniform background noise:
///
/// | label | size        | mean       | variances |
/// |-------|-------------|------------|-----------|
/// | 0     | 400 * scale | (0.5, 0.5) | (1, 3)    |
/// | 1     | 600 * scale | (6, 1.5)   | (2, 2)    |
/// | 2     | 800 * scale | (1, 7)     | (6, 2)    |
/// | -1    | 30 * scale  | uniform in x in [-10, 15), y in [-15, 20) | |
///
/// Sizes are rounded to the nearest integer (halves away from zero). At scale 1 the data are
/// 1830 x 2. Drawn by make_clusters_with_noise() with the given seed.
///
/// @param seed  seed of the random stream (the default 42 gives the library's reference data)
/// @param scale multiplies every size (> 0, finite), for larger or smaller versions
/// @throws std::invalid_argument for a scale that is not finite and positive or that rounds
///         every size to zero.
///
/// @code
/// auto data = emcluster::make_article_data();            // 1830 x 2, double
/// auto big = emcluster::make_article_data<float>(7, 100.0);  // 183000 x 2, float
/// @endcode
template <typename Scalar = double>
Dataset<Scalar> make_article_data(std::uint64_t seed = 42, double scale = 1.0) {
  if (!std::isfinite(scale) || !(scale > 0)) {
    detail::fail("make_article_data", "scale = ", scale, " must be finite and positive");
  }
  if (scale > 1e15) detail::fail("make_article_data", "scale = ", scale, " is too large");
  auto count = [scale](double base) {
    return static_cast<Eigen::Index>(std::llround(base * scale));
  };
  std::vector<Eigen::VectorXd> means(3, Eigen::VectorXd::Zero(2));
  std::vector<Eigen::VectorXd> variances(3, Eigen::VectorXd::Zero(2));
  means[0] << 0.5, 0.5;
  means[1] << 6.0, 1.5;
  means[2] << 1.0, 7.0;
  variances[0] << 1.0, 3.0;
  variances[1] << 2.0, 2.0;
  variances[2] << 6.0, 2.0;
  Eigen::VectorXd low(2), high(2);
  low << -10.0, -15.0;
  high << 15.0, 20.0;
  const Eigen::Index noise = count(30.0);
  if (count(400.0) + count(600.0) + count(800.0) + noise == 0) {
    detail::fail("make_article_data", "scale = ", scale, " rounds every size to zero");
  }
  return make_clusters_with_noise<Scalar>({count(400.0), count(600.0), count(800.0)}, means,
                                          variances, low, high, noise, seed);
}

}  // namespace emcluster
