// Readers of the scikit-learn fixtures in tests/data (written by tests/make_kmeans_fixtures.py
// and tests/make_gmm_fixtures.py with scikit-learn 1.2.1), and the conversions from
// scikit-learn's parameter layouts to emcluster's. A missing or malformed file throws
// std::runtime_error naming it.
#pragma once

#include <emcluster/options.hpp>

#include <Eigen/Core>

#include <map>
#include <string>
#include <vector>

namespace emcluster_test {

/// The path of a file in tests/data.
std::string data_path(const std::string& name);

/// A numeric CSV file in tests/data (one row per line, comma separated) as a matrix.
Eigen::MatrixXd read_csv(const std::string& name);

// ---- K-means: tests/data/kmeans_sklearn_cases.txt -----------------------------------------

/// One scikit-learn KMeans(init=<init>, n_init=1, algorithm="lloyd") run.
struct KMeansCase {
  std::string name;
  bool weighted = false;  ///< fitted with tests/data/kmeans_sklearn_weights.csv
  double tol = 0;
  Eigen::MatrixXd init, centers;
  double inertia = 0;
  int n_iter = 0;
  Eigen::VectorXi labels;
};

/// Every case, for data with n rows.
std::vector<KMeansCase> read_kmeans_cases(Eigen::Index n);

// ---- Gaussian mixtures: tests/data/gmm_sklearn_cases.txt ----------------------------------

/// One scikit-learn GaussianMixture run: the "case" line's key/value pairs (and "name") in
/// `header`, every other line's numbers under its first word in `values`.
struct MixtureCase {
  std::map<std::string, std::string> header;
  std::map<std::string, std::vector<double>> values;
};

/// Every case.
std::vector<MixtureCase> read_mixture_cases();

/// scikit-learn's covariance_type string ("full", "tied", "diag", "spherical").
emcluster::CovarianceType parse_covariance_type(const std::string& s);

/// Component j's d x d matrix from scikit-learn's compact covariance or precision layout
/// (v[0] is the number of values that follow).
Eigen::MatrixXd sklearn_block(const std::vector<double>& v, emcluster::CovarianceType type,
                              Eigen::Index d, Eigen::Index j);

/// scikit-learn's precisions_init in emcluster's compact blocks (Options::initial_precisions):
/// k (full) or 1 (tied) d x d matrices, k d-vectors (diagonal), k 1 x 1 (spherical).
std::vector<Eigen::MatrixXd> compact_precisions(const std::vector<double>& v,
                                                emcluster::CovarianceType type, Eigen::Index k,
                                                Eigen::Index d);

/// A rows x cols matrix from row-major values.
Eigen::MatrixXd as_matrix(const std::vector<double>& v, Eigen::Index rows, Eigen::Index cols);

}  // namespace emcluster_test
