// Data the tests are made of: Gaussian blobs, weights, draws from a known mixture, and small
// transformations of them. Everything is seeded (emcluster::detail::Random) and so the same
// bits on every run and every thread count.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace emcluster_test {

// ---- Blobs --------------------------------------------------------------------------------

/// n samples around the rows of `centres`: row i is centres.row(i % k) plus standard normal
/// noise, drawn row by row from Random(seed).
Eigen::MatrixXd blobs_at(const Eigen::MatrixXd& centres, Eigen::Index n, std::uint64_t seed);

/// Gaussian blobs around k random centres: the centres uniform in [-spread, spread]^d, then
/// n samples as blobs_at (one random stream for both). Row i belongs to blob i % k.
Eigen::MatrixXd blobs(Eigen::Index n, Eigen::Index d, Eigen::Index k, double spread,
                      std::uint64_t seed);

/// k centres in d dimensions on the axes: centre j is `height` in every coordinate f with
/// f % k == j % k and 0 elsewhere (well separated for height >> 1).
Eigen::MatrixXd axis_centres(Eigen::Index k, Eigen::Index d, double height);

/// The blob of every row of blobs() and blobs_at(): i % k.
Eigen::VectorXi blob_labels(Eigen::Index n, Eigen::Index k);

/// n weights uniform in [0.1, 3).
Eigen::VectorXd positive_weights(Eigen::Index n, std::uint64_t seed);

/// The rows `rows` of X, in that order (initial centres picked from the data).
Eigen::MatrixXd pick_rows(const Eigen::MatrixXd& X, const std::vector<Eigen::Index>& rows);

// ---- A known Gaussian mixture ---------------------------------------------------------------

/// A full-covariance Gaussian mixture with known parameters.
struct KnownMixture {
  Eigen::VectorXd weights;
  std::vector<Eigen::VectorXd> means;
  std::vector<Eigen::MatrixXd> covariances;
};

/// Three overlapping, correlated components in 2-D, weights 0.2, 0.3, 0.5.
KnownMixture three_in_2d();

/// n points drawn from m (the component of each chosen by weight); their components in
/// `labels` when given.
Eigen::MatrixXd draw(const KnownMixture& m, Eigen::Index n, std::uint64_t seed,
                     Eigen::VectorXi* labels = nullptr);

// ---- Transformations -------------------------------------------------------------------------

/// Every column to mean 0 and (population) standard deviation 1, as the article does.
Eigen::MatrixXd standardise(const Eigen::MatrixXd& X);

/// The entries of `labels` at the rows where truth >= 0 (the clusters without the noise).
Eigen::VectorXi clusters_only(const Eigen::VectorXi& truth, const Eigen::VectorXi& labels);

}  // namespace emcluster_test
