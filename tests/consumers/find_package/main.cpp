// A program outside emcluster's build: fits a tiny K-means through the public API and checks
// the result. Built by both consumer projects (find_package and FetchContent); returns non-zero
// when anything is off, so scripts/test fails.
#include <emcluster/emcluster.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstdio>

static_assert(EMCLUSTER_VERSION_MAJOR == 0 && EMCLUSTER_VERSION_MINOR >= 1,
              "this consumer was written against emcluster 0.1");

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  // Two groups of three points, samples in rows, in the caller's own row-major memory.
  const double raw[] = {0, 0, 0, 1, 1, 0, 10, 10, 10, 11, 11, 10};
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 2, Eigen::RowMajor>> X(raw, 6, 2);

  emcluster::KMeans<>::Options options;
  options.n_clusters = 2;
  options.seed = 7;
  emcluster::KMeans<> kmeans(options);
  const Eigen::VectorXi labels = kmeans.fit_predict(X);

  check(labels.size() == 6, "one label per sample");
  check(labels(0) == labels(1) && labels(1) == labels(2), "first group shares a label");
  check(labels(3) == labels(4) && labels(4) == labels(5), "second group shares a label");
  check(labels(0) != labels(3), "the groups get different labels");

  // Each centre is its group's mean; the inertia is 4/3 per group.
  const Eigen::MatrixXd& centers = kmeans.cluster_centers();
  check(centers.rows() == 2 && centers.cols() == 2, "centres are 2 x 2");
  if (centers.rows() == 2 && centers.cols() == 2 && labels.size() == 6) {
    const Eigen::RowVector2d low(1.0 / 3.0, 1.0 / 3.0), high(31.0 / 3.0, 31.0 / 3.0);
    check((centers.row(labels(0)) - low).norm() < 1e-12, "first centre = mean of first group");
    check((centers.row(labels(3)) - high).norm() < 1e-12, "second centre = mean of second group");
    const Eigen::RowVector2d near_low(0.2, 0.3);
    check(kmeans.predict(near_low)(0) == labels(0), "predict a new point near the first group");
  }
  check(std::abs(kmeans.inertia() - 8.0 / 3.0) < 1e-12, "inertia = 8/3");

  if (failures != 0) return 1;
  std::printf("emcluster %s consumer: KMeans k=2 on 6 points, inertia %.6f: OK\n",
              emcluster::version_string, kmeans.inertia());
  return 0;
}
