// Numbers at the edges for KMeans and MiniBatchKMeans: the same clustered data multiplied by
// powers of two across the whole floating-point range give the same labels, centres scaled by
// exactly that power, inertia scaled by its square (or numerical_error where the true value
// overflows double), consistent transform/score; weights whose sum overflows; subnormal data.
#include <catch2/catch.hpp>

#include <emcluster/kmeans.hpp>
#include <emcluster/minibatch_kmeans.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using emcluster::AssignKernel;
using emcluster::KMeansAlgorithm;

template <typename Scalar>
using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

/// Three blobs in 2-d, every coordinate a multiple of 2^-6 below 2^5: scaling by 2^s is
/// exact in float for s in [-120, 120] and in double for s in [-1000, 1000].
template <typename Scalar>
Mat<Scalar> blobs() {
  const double centres[3][2] = {{0, 0}, {12, 2}, {3, 14}};
  const int per = 40;
  Mat<Scalar> X(3 * per, 2);
  std::uint64_t state = 12345;
  auto next = [&state]() {  // a fixed LCG: the data do not depend on any library
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((state >> 33) % 129) - 64;  // [-64, 64]
  };
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < per; ++i) {
      for (int j = 0; j < 2; ++j) {
        X(c * per + i, j) = static_cast<Scalar>(centres[c][j] + next() / 32.0);
      }
    }
  }
  return X;
}

/// Integer weights 1..3 (exact at any power-of-two scale).
Eigen::VectorXd int_weights(Eigen::Index n) {
  Eigen::VectorXd w(n);
  for (Eigen::Index i = 0; i < n; ++i) w(i) = static_cast<double>(1 + i % 3);
  return w;
}

template <typename M>
M times_pow2(const M& A, int s) {
  using S = typename M::Scalar;
  return A.unaryExpr([s](S v) { return static_cast<S>(std::ldexp(v, s)); });
}

enum class Kind { lloyd, hamerly, minibatch };

const char* kind_name(Kind k) {
  return k == Kind::lloyd ? "KMeans lloyd" : k == Kind::hamerly ? "KMeans hamerly" : "MiniBatch";
}

/// What a fit gives, in the user's units; inertia NaN when it threw numerical_error.
template <typename Scalar>
struct Fitted {
  Eigen::VectorXi labels;
  Mat<Scalar> centers;
  double inertia = 0;
  bool inertia_overflows = false;
  Eigen::VectorXi predicted;
  Mat<Scalar> distances;
  double score = 0;
  bool score_overflows = false;
};

template <typename Model, typename Scalar>
Fitted<Scalar> fit_and_probe(Model& model, const Mat<Scalar>& X, const Eigen::VectorXd* w) {
  if (w) {
    model.fit(X, *w);
  } else {
    model.fit(X);
  }
  Fitted<Scalar> f;
  f.labels = model.labels();
  f.centers = model.cluster_centers();
  try {
    f.inertia = model.inertia();
  } catch (const emcluster::numerical_error& e) {
    f.inertia_overflows =
        std::string(e.what()).find("inertia overflows double") != std::string::npos;
    f.inertia = std::numeric_limits<double>::quiet_NaN();
  }
  f.predicted = model.predict(X);
  f.distances = model.transform(X);
  try {
    f.score = w ? model.score(X, *w) : model.score(X);
  } catch (const emcluster::numerical_error&) {
    f.score_overflows = true;
    f.score = std::numeric_limits<double>::quiet_NaN();
  }
  return f;
}

template <typename Scalar>
Fitted<Scalar> run_case(Kind kind, AssignKernel kernel, const Mat<Scalar>& X,
                        const Eigen::VectorXd* w) {
  if (kind == Kind::minibatch) {
    typename emcluster::MiniBatchKMeans<Scalar>::Options o;
    o.n_clusters = 3;
    o.batch_size = 32;
    o.seed = 7;
    o.kernel = kernel;
    emcluster::MiniBatchKMeans<Scalar> m(o);
    return fit_and_probe(m, X, w);
  }
  typename emcluster::KMeans<Scalar>::Options o;
  o.n_clusters = 3;
  o.n_init = 3;
  o.seed = 7;
  o.kernel = kernel;
  o.algorithm = kind == Kind::lloyd ? KMeansAlgorithm::lloyd : KMeansAlgorithm::hamerly;
  emcluster::KMeans<Scalar> m(o);
  return fit_and_probe(m, X, w);
}

template <typename Scalar>
void check_scales(const std::vector<int>& scales) {
  const Mat<Scalar> X0 = blobs<Scalar>();
  const Eigen::VectorXd wi = int_weights(X0.rows());
  for (Kind kind : {Kind::lloyd, Kind::hamerly, Kind::minibatch}) {
    for (AssignKernel kernel : {AssignKernel::direct, AssignKernel::gemm}) {
      for (bool weighted : {false, true}) {
        const Eigen::VectorXd* w = weighted ? &wi : nullptr;
        const Fitted<Scalar> ref = run_case<Scalar>(kind, kernel, X0, w);
        REQUIRE(std::isfinite(ref.inertia));
        REQUIRE(ref.labels.maxCoeff() == 2);  // three clusters found at scale 1
        for (int s : scales) {
          INFO(kind_name(kind) << ", kernel " << (kernel == AssignKernel::gemm ? "gemm" : "direct")
                               << (weighted ? ", weighted" : "") << ", scale 2^" << s);
          const Mat<Scalar> Xs = times_pow2(X0, s);
          const Fitted<Scalar> got = run_case<Scalar>(kind, kernel, Xs, w);
          CHECK(got.labels == ref.labels);
          CHECK(got.predicted == ref.labels);
          CHECK(got.centers == times_pow2(ref.centers, s));  // bit-identical
          CHECK(got.distances == times_pow2(ref.distances, s));
          const double inertia = std::ldexp(ref.inertia, 2 * s);
          const double score = std::ldexp(ref.score, 2 * s);
          if (std::isinf(inertia)) {
            CHECK(got.inertia_overflows);
            CHECK(got.score_overflows);
          } else {
            CHECK(got.inertia == inertia);
            CHECK(got.score == score);
            CHECK(!got.score_overflows);
          }
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("KMeans and MiniBatchKMeans are exactly scale-invariant over the double range",
          "[edges][kmeans]") {
  check_scales<double>({-1000, -500, -200, -60, 0, 60, 200, 500, 1000});
}

TEST_CASE("KMeans and MiniBatchKMeans are exactly scale-invariant over the float range",
          "[edges][kmeans]") {
  check_scales<float>({-120, -60, -20, 0, 20, 60, 120});
}

TEST_CASE("Weights whose sum overflows give the same centres as proportional weights",
          "[edges][kmeans]") {
  const Mat<double> X = blobs<double>();
  const Eigen::VectorXd wi = int_weights(X.rows());
  for (Kind kind : {Kind::lloyd, Kind::hamerly, Kind::minibatch}) {
    INFO(kind_name(kind));
    const Fitted<double> ref = run_case<double>(kind, AssignKernel::automatic, X, &wi);
    for (int e : {1020, 600, -600, -1000}) {
      INFO("weights times 2^" << e);
      const Eigen::VectorXd w = times_pow2(wi, e);
      const Fitted<double> got = run_case<double>(kind, AssignKernel::automatic, X, &w);
      CHECK(got.labels == ref.labels);
      CHECK(got.centers == ref.centers);
      CHECK(got.centers.allFinite());
      const double inertia = std::ldexp(ref.inertia, e);
      if (std::isinf(inertia)) {
        CHECK(got.inertia_overflows);
      } else {
        CHECK(got.inertia == inertia);
      }
    }
  }
  // The case of the report: two weights of 1.7e308.
  Mat<double> two(2, 1);
  two << 1.0, 3.0;
  const Eigen::Vector2d big(1.7e308, 1.7e308);
  emcluster::KMeans<double>::Options o;
  o.n_clusters = 1;
  emcluster::KMeans<double> km(o);
  km.fit(two, big);
  CHECK(km.cluster_centers()(0, 0) == 2.0);
  CHECK_THROWS_AS(km.inertia(), emcluster::numerical_error);  // 3.4e308 is beyond double
}

TEST_CASE("MiniBatchKMeans::partial_fit rejects weights whose sum overflows", "[edges][kmeans]") {
  const Mat<double> X = blobs<double>();
  Eigen::VectorXd w = Eigen::VectorXd::Constant(X.rows(), 1.7e308);
  emcluster::MiniBatchKMeans<double>::Options o;
  o.n_clusters = 3;
  emcluster::MiniBatchKMeans<double> m(o);
  CHECK_THROWS_AS(m.partial_fit(X, w), std::invalid_argument);
  CHECK(!m.is_fitted());
}

TEST_CASE("Data whose every value is subnormal are rejected, subnormal entries are handled",
          "[edges][kmeans]") {
  const Mat<double> X0 = blobs<double>();
  emcluster::KMeans<double>::Options o;
  o.n_clusters = 3;
  o.n_init = 3;
  o.seed = 7;
  emcluster::KMeans<double> ref(o);
  ref.fit(X0);
  // Largest |x| subnormal: a clear error, and the model keeps its previous fit.
  emcluster::KMeans<double> km(o);
  km.fit(X0);
  CHECK_THROWS_AS(km.fit(times_pow2(X0, -1060)), std::invalid_argument);
  CHECK(km.cluster_centers() == ref.cluster_centers());
  emcluster::KMeans<float>::Options of;
  of.n_clusters = 3;
  emcluster::KMeans<float> kf(of);
  CHECK_THROWS_AS(kf.fit(times_pow2(blobs<float>(), -140)), std::invalid_argument);
  // A normal largest value with subnormal entries elsewhere: those count as (nearly) zero.
  Mat<double> X = times_pow2(X0, -1000);
  X(0, 1) = 1e-310;
  emcluster::KMeans<double> tiny(o);
  tiny.fit(X);
  CHECK(tiny.labels() == ref.labels());
  CHECK(tiny.cluster_centers().allFinite());
}

TEST_CASE("An offset far beyond the spread is a clean result, not NaN", "[edges][kmeans]") {
  // 1e200 + unit spread rounds every point to the same double: K-means sees identical points.
  Mat<double> X = blobs<double>();
  X.array() += 1e200;
  emcluster::KMeans<double>::Options o;
  o.n_clusters = 3;
  emcluster::KMeans<double> km(o);
  km.fit(X);
  CHECK(km.cluster_centers().allFinite());
  CHECK(km.inertia() == 0.0);
  CHECK(std::isfinite(km.score(X)));
  CHECK(km.transform(X).allFinite());
}
