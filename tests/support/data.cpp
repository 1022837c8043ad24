#include "data.hpp"

#include <emcluster/detail/random.hpp>

#include <Eigen/Cholesky>

namespace emcluster_test {

namespace {

Eigen::MatrixXd around(const Eigen::MatrixXd& centres, Eigen::Index n,
                       emcluster::detail::Random& rng) {
  const Eigen::Index k = centres.rows(), d = centres.cols();
  Eigen::MatrixXd X(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) X(i, j) = centres(i % k, j) + rng.normal();
  }
  return X;
}

}  // namespace

Eigen::MatrixXd blobs_at(const Eigen::MatrixXd& centres, Eigen::Index n, std::uint64_t seed) {
  emcluster::detail::Random rng(seed);
  return around(centres, n, rng);
}

Eigen::MatrixXd blobs(Eigen::Index n, Eigen::Index d, Eigen::Index k, double spread,
                      std::uint64_t seed) {
  emcluster::detail::Random rng(seed);
  const Eigen::MatrixXd centres =
      Eigen::MatrixXd::NullaryExpr(k, d, [&]() { return spread * rng.uniform(-1, 1); });
  return around(centres, n, rng);
}

Eigen::MatrixXd axis_centres(Eigen::Index k, Eigen::Index d, double height) {
  Eigen::MatrixXd C(k, d);
  for (Eigen::Index j = 0; j < k; ++j) {
    for (Eigen::Index f = 0; f < d; ++f) C(j, f) = f % k == j % k ? height : 0.0;
  }
  return C;
}

Eigen::VectorXi blob_labels(Eigen::Index n, Eigen::Index k) {
  Eigen::VectorXi labels(n);
  for (Eigen::Index i = 0; i < n; ++i) labels(i) = static_cast<int>(i % k);
  return labels;
}

Eigen::VectorXd positive_weights(Eigen::Index n, std::uint64_t seed) {
  emcluster::detail::Random rng(seed);
  return Eigen::VectorXd::NullaryExpr(n, [&]() { return rng.uniform(0.1, 3.0); });
}

Eigen::MatrixXd pick_rows(const Eigen::MatrixXd& X, const std::vector<Eigen::Index>& rows) {
  Eigen::MatrixXd C(static_cast<Eigen::Index>(rows.size()), X.cols());
  for (std::size_t r = 0; r < rows.size(); ++r)
    C.row(static_cast<Eigen::Index>(r)) = X.row(rows[r]);
  return C;
}

KnownMixture three_in_2d() {
  KnownMixture m;
  m.weights = Eigen::Vector3d(0.2, 0.3, 0.5);
  m.means = {Eigen::Vector2d(0, 0), Eigen::Vector2d(6, 1), Eigen::Vector2d(1, 7)};
  Eigen::Matrix2d a, b, c;
  a << 1.0, 0.6, 0.6, 2.0;
  b << 2.0, -0.8, -0.8, 1.0;
  c << 4.0, 0.0, 0.0, 0.5;
  m.covariances = {a, b, c};
  return m;
}

Eigen::MatrixXd draw(const KnownMixture& m, Eigen::Index n, std::uint64_t seed,
                     Eigen::VectorXi* labels) {
  emcluster::detail::Random rng(seed);
  const Eigen::Index d = m.means[0].size();
  Eigen::MatrixXd X(n, d);
  if (labels) labels->resize(n);
  std::vector<Eigen::MatrixXd> L;
  for (const auto& c : m.covariances) L.emplace_back(Eigen::LLT<Eigen::MatrixXd>(c).matrixL());
  for (Eigen::Index i = 0; i < n; ++i) {
    double u = rng.uniform();
    Eigen::Index j = 0;
    while (j + 1 < m.weights.size() && u >= m.weights(j)) u -= m.weights(j++);
    Eigen::VectorXd z(d);
    for (Eigen::Index f = 0; f < d; ++f) z(f) = rng.normal();
    X.row(i) =
        (m.means[static_cast<std::size_t>(j)] + L[static_cast<std::size_t>(j)] * z).transpose();
    if (labels) (*labels)(i) = static_cast<int>(j);
  }
  return X;
}

Eigen::MatrixXd standardise(const Eigen::MatrixXd& X) {
  Eigen::MatrixXd Z = X.rowwise() - X.colwise().mean();
  const Eigen::RowVectorXd sd =
      (Z.colwise().squaredNorm() / static_cast<double>(Z.rows())).cwiseSqrt();
  return Z.array().rowwise() / sd.array();
}

Eigen::VectorXi clusters_only(const Eigen::VectorXi& truth, const Eigen::VectorXi& labels) {
  std::vector<int> out;
  for (Eigen::Index i = 0; i < truth.size(); ++i) {
    if (truth(i) >= 0) out.push_back(labels(i));
  }
  return Eigen::Map<Eigen::VectorXi>(out.data(), static_cast<Eigen::Index>(out.size()));
}

}  // namespace emcluster_test
