// The distributed fits (emcluster/mpi.hpp) on every rank count ctest runs them with (1, 2, 3):
// equivalence with one process on the concatenated rows, the same bits on every rank and for
// any thread count, uneven shards with a rank that holds no rows, and the same exception on
// every rank when one rank's rows are bad.
//
// Every rank runs every test case in the same order (the fits are collectives), so the cases
// use CHECK, never REQUIRE: a failed check must not make one rank skip a collective.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "emcluster/detail/random.hpp"
#include "emcluster/gaussian_mixture.hpp"
#include "emcluster/kmeans.hpp"
#include "emcluster/kmeans_search.hpp"
#include "emcluster/mixture_search.hpp"
#include "emcluster/mpi.hpp"
#include "emcluster/npy.hpp"
#include "emcluster/preprocessing.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

int rank_of_world() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int size_of_world() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

/// n rows around k centres spread in [-spread, spread]^d, standard normal noise; row i in
/// blob i % k. The same on every rank (every rank builds the whole data set, then keeps its
/// slice).
Eigen::MatrixXd blobs(Eigen::Index n, Eigen::Index d, Eigen::Index k, double spread,
                      std::uint64_t seed) {
  emcluster::detail::Random rng(seed);
  Eigen::MatrixXd C(k, d);
  for (Eigen::Index j = 0; j < k; ++j)
    for (Eigen::Index f = 0; f < d; ++f) C(j, f) = rng.uniform(-spread, spread);
  Eigen::MatrixXd X(n, d);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index f = 0; f < d; ++f) X(i, f) = C(i % k, f) + rng.normal();
  return X;
}

/// Uneven contiguous shards of n rows: rank r of p gets a share proportional to r + 1, and
/// rank 1 (when there are at least two ranks) gets none.
std::vector<Eigen::Index> shard_starts(Eigen::Index n, int p) {
  std::vector<double> share(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) share[std::size_t(r)] = (p >= 2 && r == 1) ? 0.0 : r + 1.0;
  double total = 0;
  for (double s : share) total += s;
  std::vector<Eigen::Index> start(static_cast<std::size_t>(p) + 1, 0);
  double acc = 0;
  for (int r = 0; r < p; ++r) {
    acc += share[std::size_t(r)];
    start[std::size_t(r) + 1] = static_cast<Eigen::Index>(static_cast<double>(n) * acc / total);
  }
  start.back() = n;
  return start;
}

struct Shard {
  Eigen::Index begin = 0, rows = 0;
};
Shard my_shard(Eigen::Index n) {
  const auto start = shard_starts(n, size_of_world());
  const auto r = static_cast<std::size_t>(rank_of_world());
  return {start[r], start[r + 1] - start[r]};
}

/// Whether every rank holds the same bits in v.
bool same_on_every_rank(const double* v, std::size_t n) {
  std::vector<unsigned char> mine(n * sizeof(double)), root(n * sizeof(double));
  if (n > 0) std::memcpy(mine.data(), v, mine.size());
  root = mine;
  MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_UNSIGNED_CHAR, 0, MPI_COMM_WORLD);
  int same = mine == root ? 1 : 0, all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}
bool same_on_every_rank(const Eigen::MatrixXd& M) {
  return same_on_every_rank(M.data(), static_cast<std::size_t>(M.size()));
}
bool same_on_every_rank(const std::string& s) {
  std::vector<double> v(s.begin(), s.end());
  double len = static_cast<double>(v.size()), lo = len, hi = len;
  MPI_Allreduce(&len, &lo, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&len, &hi, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  if (lo != hi) return false;
  return same_on_every_rank(v.data(), v.size());
}

double max_relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1e-300, b.cwiseAbs().maxCoeff());
}

using Options = emcluster::KMeans<>::Options;

/// Fits opts on the whole of X in one process, then on every rank's shard, and checks that
/// every rank holds the same model, equal (to 1e-10 relative) to the single-process one, with
/// the labels of its rows. weighted: with positive weights.
void check_equivalence(const Eigen::MatrixXd& X, const Options& opts, bool weighted,
                       bool exact_start) {
  const Eigen::Index n = X.rows();
  Eigen::VectorXd w(n);
  emcluster::detail::Random wr(99);
  for (Eigen::Index i = 0; i < n; ++i) w(i) = 0.1 + 2.9 * wr.uniform();
  emcluster::KMeans<> one(opts), many(opts);
  if (weighted)
    one.fit(X, w);
  else
    one.fit(X);
  const Shard s = my_shard(n);
  const auto Xs = X.middleRows(s.begin, s.rows);
  emcluster::mpi::Traffic traffic;
  if (weighted)
    emcluster::mpi::fit(many, Xs, w.segment(s.begin, s.rows), MPI_COMM_WORLD, &traffic);
  else
    emcluster::mpi::fit(many, Xs, MPI_COMM_WORLD, &traffic);
  const Eigen::MatrixXd C = many.cluster_centers();
  CHECK(same_on_every_rank(C));
  double inertia = many.inertia();
  CHECK(same_on_every_rank(&inertia, 1));
  CHECK(many.labels().size() == s.rows);
  CHECK(traffic.collectives > 0);
  if (exact_start || size_of_world() == 1) {
    CHECK(max_relative(C, one.cluster_centers()) <= 1e-10);
    CHECK(std::abs(inertia - one.inertia()) <= 1e-10 * one.inertia());
    CHECK(many.n_iter() == one.n_iter());
    CHECK(many.converged() == one.converged());
    CHECK((many.labels().array() == one.labels().segment(s.begin, s.rows).array()).all());
  } else {
    // Seeded draws scan the ranks' masses in another order of additions: the same optimum
    // on well-separated blobs, to the tolerance.
    CHECK(inertia <= 1.01 * one.inertia());
  }
  if (size_of_world() == 1) {  // one rank: the same code with the same bits
    CHECK(C == one.cluster_centers());
    CHECK(inertia == one.inertia());
  }
}

}  // namespace

TEST_CASE("mpi KMeans Lloyd from given centres equals one process", "[mpi]") {
  const Eigen::MatrixXd X = blobs(3000, 3, 4, 6.0, 1);
  Options o;
  o.n_clusters = 4;
  o.init = emcluster::KMeansInit::explicit_centers;
  o.initial_centers = X.topRows(4);
  o.algorithm = emcluster::KMeansAlgorithm::lloyd;
  o.tol = 0;
  check_equivalence(X, o, false, true);
  check_equivalence(X, o, true, true);
}

TEST_CASE("mpi KMeans Hamerly from given centres equals one process", "[mpi]") {
  const Eigen::MatrixXd X = blobs(2500, 12, 6, 4.0, 2);
  Options o;
  o.n_clusters = 6;
  o.init = emcluster::KMeansInit::explicit_centers;
  o.initial_centers = X.topRows(6);
  o.algorithm = emcluster::KMeansAlgorithm::hamerly;
  check_equivalence(X, o, false, true);
  check_equivalence(X, o, true, true);
}

TEST_CASE("mpi KMeans tolerance stops every rank at the one-process iteration", "[mpi]") {
  const Eigen::MatrixXd X = blobs(2000, 2, 3, 3.0, 3);
  Options o;
  o.n_clusters = 3;
  o.init = emcluster::KMeansInit::explicit_centers;
  o.initial_centers = X.topRows(3);
  o.tol = 1e-2;
  check_equivalence(X, o, false, true);
}

TEST_CASE("mpi KMeans relocates an empty cluster by the global farthest row", "[mpi]") {
  Eigen::MatrixXd X = blobs(1200, 2, 2, 5.0, 4);
  X(1100, 0) += 40.0;  // an outlier on the last rank's shard: the farthest row
  Options o;
  o.n_clusters = 3;
  o.init = emcluster::KMeansInit::explicit_centers;
  o.initial_centers = X.topRows(3);
  o.initial_centers.row(2) << 1e3, 1e3;  // attracts nothing: relocated in the first iteration
  o.algorithm = emcluster::KMeansAlgorithm::lloyd;
  check_equivalence(X, o, false, true);
  check_equivalence(X, o, true, true);
  emcluster::KMeans<> one(o);
  one.fit(X);
  CHECK(one.labels()(1100) == 2);  // the outlier took the relocated centre
}

TEST_CASE("mpi KMeans seeded inits give the same centres on every rank", "[mpi]") {
  const Eigen::MatrixXd X = blobs(4000, 5, 5, 8.0, 5);
  for (auto init : {emcluster::KMeansInit::kmeans_plus_plus, emcluster::KMeansInit::random_samples,
                    emcluster::KMeansInit::random_box}) {
    Options o;
    o.n_clusters = 5;
    o.init = init;
    o.n_init = 3;
    o.seed = 7;
    check_equivalence(X, o, false, false);
    check_equivalence(X, o, true, false);
  }
}

TEST_CASE("mpi KMeans k-means|| gives the same centres on every rank", "[mpi]") {
  const Eigen::MatrixXd X = blobs(6000, 4, 12, 15.0, 13);
  const Shard s = my_shard(X.rows());
  for (bool weighted : {false, true}) {
    Eigen::VectorXd w = Eigen::VectorXd::Ones(X.rows());
    if (weighted) w.head(X.rows() / 2).array() = 2.5;
    // The seeding alone: the same candidates on every rank (rows are drawn by their global
    // index), and as good as the one-process seeding.
    emcluster::detail::Random r1(3), r2(3);
    const Eigen::MatrixXd one = emcluster::detail::kmeans_parallel(
        X, w.data(), 12, 0, r1, emcluster::detail::LocalReducer(X.rows()));
    const Eigen::VectorXd mine = w.segment(s.begin, s.rows);
    const emcluster::mpi::MpiReducer reducer(MPI_COMM_WORLD, s.rows);
    const Eigen::MatrixXd many = emcluster::detail::kmeans_parallel(
        X.middleRows(s.begin, s.rows), emcluster::detail::weights_pointer(mine), 12, 0, r2,
        reducer);
    CHECK(many.rows() == 12);
    CHECK(same_on_every_rank(many));
    if (size_of_world() == 1) CHECK(many == one);
    Options o;
    o.n_clusters = 12;
    o.init = emcluster::KMeansInit::kmeans_parallel;
    o.n_init = 2;
    o.seed = 5;
    check_equivalence(X, o, weighted, false);
  }
}

TEST_CASE("mpi KMeans auto n_init subsample is drawn from global rows", "[mpi]") {
  const Eigen::MatrixXd X = blobs(40000, 2, 3, 5.0, 6);  // >= 8 * 4096 rows: the subsample path
  Options o;
  o.n_clusters = 3;
  o.seed = 3;
  check_equivalence(X, o, false, false);
}

TEST_CASE("mpi KMeans same bits for any thread count", "[mpi]") {
  const Eigen::MatrixXd X = blobs(60000, 4, 4, 3.0, 8);
  const Shard s = my_shard(X.rows());
  Options o;
  o.n_clusters = 4;
  o.n_init = 2;
  o.seed = 11;
  Eigen::MatrixXd C[2];
  double inertia[2];
  for (int t = 0; t < 2; ++t) {
#ifdef _OPENMP
    omp_set_num_threads(t + 1);
#endif
    emcluster::KMeans<> km(o);
    emcluster::mpi::fit(km, X.middleRows(s.begin, s.rows), MPI_COMM_WORLD);
    C[t] = km.cluster_centers();
    inertia[t] = km.inertia();
  }
  CHECK(C[0] == C[1]);
  CHECK(inertia[0] == inertia[1]);
}

TEST_CASE("mpi KMeans float data and a row-major map", "[mpi]") {
  using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMajorF X = blobs(1500, 3, 3, 6.0, 9).cast<float>();
  const Shard s = my_shard(X.rows());
  emcluster::KMeans<float>::Options o;
  o.n_clusters = 3;
  o.init = emcluster::KMeansInit::explicit_centers;
  o.initial_centers = X.topRows(3);
  emcluster::KMeans<float> one(o), many(o);
  one.fit(X);
  Eigen::Map<const RowMajorF> mine(X.data() + s.begin * X.cols(), s.rows, X.cols());
  emcluster::mpi::fit(many, mine, MPI_COMM_WORLD);
  const Eigen::MatrixXd C = many.cluster_centers().cast<double>();
  CHECK(same_on_every_rank(C));
  CHECK((many.cluster_centers() - one.cluster_centers()).cwiseAbs().maxCoeff() <= 1e-4f);
  CHECK((many.labels().array() == one.labels().segment(s.begin, s.rows).array()).all());
}

TEST_CASE("mpi KMeans NaN on one rank throws the same exception on every rank", "[mpi]") {
  Eigen::MatrixXd X = blobs(900, 2, 3, 5.0, 10);
  const Shard s = my_shard(X.rows());
  Eigen::MatrixXd mine = X.middleRows(s.begin, s.rows);
  // The NaN goes to the last rank that holds rows (rank 1 of 2 holds none).
  const int bad = size_of_world() == 2 ? 0 : size_of_world() - 1;
  if (rank_of_world() == bad) mine(mine.rows() / 2, 1) = std::nan("");
  Options o;
  o.n_clusters = 3;
  emcluster::KMeans<> km(o);
  std::string what;
  bool invalid = false;
  try {
    emcluster::mpi::fit(km, mine, MPI_COMM_WORLD);
  } catch (const std::invalid_argument& e) {
    invalid = true;
    what = e.what();
  }
  CHECK(invalid);
  CHECK(what.find("NaN") != std::string::npos);
  CHECK(what.find("MPI rank " + std::to_string(bad)) != std::string::npos);
  CHECK(same_on_every_rank(what));
  CHECK_FALSE(km.is_fitted());
  // The ranks are still in step: a good fit afterwards works everywhere.
  emcluster::mpi::fit(km, X.middleRows(s.begin, s.rows), MPI_COMM_WORLD);
  CHECK(km.is_fitted());
}

TEST_CASE("mpi KMeans bad weights and too few rows fail on every rank", "[mpi]") {
  const Eigen::MatrixXd X = blobs(300, 2, 2, 5.0, 12);
  const Shard s = my_shard(X.rows());
  Options o;
  o.n_clusters = 2;
  emcluster::KMeans<> km(o);
  Eigen::VectorXd w = Eigen::VectorXd::Ones(s.rows);
  if (rank_of_world() == 0 && s.rows > 0) w(0) = -1;
  CHECK_THROWS_AS(emcluster::mpi::fit(km, X.middleRows(s.begin, s.rows), w, MPI_COMM_WORLD),
                  std::invalid_argument);
  // Fewer rows in all than clusters, though rank 0 alone would have had enough.
  o.n_clusters = 400;
  emcluster::KMeans<> big(o);
  CHECK_THROWS_AS(emcluster::mpi::fit(big, X.middleRows(s.begin, s.rows), MPI_COMM_WORLD),
                  std::invalid_argument);
}

namespace {

using MixtureOptions = emcluster::GaussianMixture<>::Options;

/// Every parameter of a fitted mixture in one vector (for the comparisons).
Eigen::VectorXd mixture_parameters(const emcluster::GaussianMixture<>& g) {
  std::vector<double> v;
  for (Eigen::Index j = 0; j < g.n_components(); ++j) {
    v.push_back(g.weights()(j));
    for (Eigen::Index f = 0; f < g.means().cols(); ++f) v.push_back(g.means()(j, f));
    const Eigen::MatrixXd S = g.covariance(j);
    v.insert(v.end(), S.data(), S.data() + S.size());
  }
  v.push_back(g.noise_weight());
  v.push_back(g.lower_bound());
  return Eigen::Map<Eigen::VectorXd>(v.data(), Eigen::Index(v.size()));
}

/// The mixture fitted in one process on X and on every rank's shard: the same parameters on
/// every rank, within 1e-10 relative of one process when the start is given.
void check_mixture(const Eigen::MatrixXd& X, const MixtureOptions& o, bool weighted,
                   bool exact_start) {
  const Eigen::Index n = X.rows();
  Eigen::VectorXd w(n);
  emcluster::detail::Random wr(17);
  for (Eigen::Index i = 0; i < n; ++i) w(i) = 0.2 + 2.0 * wr.uniform();
  emcluster::GaussianMixture<> one(o), many(o);
  const Shard s = my_shard(n);
  const auto Xs = X.middleRows(s.begin, s.rows);
  if (weighted) {
    one.fit(X, w);
    emcluster::mpi::fit(many, Xs, w.segment(s.begin, s.rows), MPI_COMM_WORLD);
  } else {
    one.fit(X);
    emcluster::mpi::fit(many, Xs, MPI_COMM_WORLD);
  }
  const Eigen::VectorXd p = mixture_parameters(many), q = mixture_parameters(one);
  CHECK(same_on_every_rank(p));
  if (exact_start || size_of_world() == 1) {
    CHECK(max_relative(p, q) <= 1e-10);
    CHECK(many.n_iter() == one.n_iter());
    if (s.rows > 0)  // predict, as every method on new data, needs at least one row
      CHECK((many.predict(Xs).array() == one.predict(X).segment(s.begin, s.rows).array()).all());
  } else {
    CHECK(many.lower_bound() >= one.lower_bound() - 1e-3 * std::abs(one.lower_bound()));
  }
  if (size_of_world() == 1) CHECK(p == q);
}

}  // namespace

TEST_CASE("mpi GaussianMixture every covariance type equals one process", "[mpi]") {
  const Eigen::MatrixXd X = blobs(2400, 3, 3, 5.0, 20);
  for (auto type : {emcluster::CovarianceType::full, emcluster::CovarianceType::tied,
                    emcluster::CovarianceType::diagonal, emcluster::CovarianceType::spherical}) {
    MixtureOptions o;
    o.n_components = 3;
    o.covariance_type = type;
    o.init = emcluster::GaussianMixtureInit::explicit_parameters;
    o.initial_means = X.topRows(3);
    o.tol = 1e-6;
    check_mixture(X, o, false, true);
    check_mixture(X, o, true, true);
  }
}

TEST_CASE("mpi GaussianMixture noise component with the global box", "[mpi]") {
  Eigen::MatrixXd X = blobs(2000, 2, 2, 4.0, 21);
  emcluster::detail::Random rng(5);
  for (Eigen::Index i = 0; i < X.rows(); i += 10)  // background points over a wide box
    for (Eigen::Index f = 0; f < 2; ++f) X(i, f) = rng.uniform(-30.0, 30.0);
  MixtureOptions o;
  o.n_components = 2;
  o.noise_component = true;
  o.init = emcluster::GaussianMixtureInit::explicit_parameters;
  o.initial_means = X.middleRows(1, 2);
  check_mixture(X, o, false, true);
  check_mixture(X, o, true, true);
  emcluster::GaussianMixture<> g(o);
  const Shard s = my_shard(X.rows());
  emcluster::mpi::fit(g, X.middleRows(s.begin, s.rows), MPI_COMM_WORLD);
  CHECK(g.noise_low() == Eigen::VectorXd(X.colwise().minCoeff().transpose()));
  CHECK(g.noise_high() == Eigen::VectorXd(X.colwise().maxCoeff().transpose()));
}

TEST_CASE("mpi GaussianMixture full and tied send only the lower triangles", "[mpi]") {
  // Two fits from the same parameters, 1 and 3 iterations (tol 0: no early stop): the
  // difference of their traffic is two iterations' reductions, the packed statistics
  // (k + 1 + k d + b d (d + 1) / 2 + 2 doubles, b = k full, 1 tied) plus the one int of the
  // zero-density agreement.
  const Eigen::MatrixXd X = blobs(900, 3, 3, 5.0, 27);
  const Shard s = my_shard(X.rows());
  const long long k = 3, d = 3;
  for (auto type : {emcluster::CovarianceType::full, emcluster::CovarianceType::tied}) {
    long long bytes[2] = {0, 0};
    for (int run = 0; run < 2; ++run) {
      MixtureOptions o;
      o.n_components = k;
      o.covariance_type = type;
      o.init = emcluster::GaussianMixtureInit::explicit_parameters;
      o.initial_means = X.topRows(3);
      o.tol = 0;
      o.max_iter = run == 0 ? 1 : 3;
      emcluster::GaussianMixture<> g(o);
      emcluster::mpi::Traffic traffic;
      emcluster::mpi::fit(g, X.middleRows(s.begin, s.rows), MPI_COMM_WORLD, &traffic);
      bytes[run] = traffic.bytes;
    }
    const long long blocks = type == emcluster::CovarianceType::full ? k : 1;
    const long long doubles = k + 1 + k * d + blocks * d * (d + 1) / 2 + 2;
    CHECK(bytes[1] - bytes[0] == 2 * (8 * doubles + 4));
  }
}

TEST_CASE("mpi GaussianMixture seeded inits agree on every rank", "[mpi]") {
  const Eigen::MatrixXd X = blobs(3000, 2, 3, 6.0, 22);
  for (auto init :
       {emcluster::GaussianMixtureInit::kmeans, emcluster::GaussianMixtureInit::kmeans_plus_plus,
        emcluster::GaussianMixtureInit::random_points}) {
    MixtureOptions o;
    o.n_components = 3;
    o.init = init;
    o.n_init = 2;
    o.seed = 4;
    check_mixture(X, o, false, false);
  }
  MixtureOptions o;
  o.n_components = 3;
  o.init = emcluster::GaussianMixtureInit::random_responsibilities;
  emcluster::GaussianMixture<> g(o);
  const Shard s = my_shard(X.rows());
  CHECK_THROWS_AS(emcluster::mpi::fit(g, X.middleRows(s.begin, s.rows), MPI_COMM_WORLD),
                  std::invalid_argument);
}

TEST_CASE("mpi StandardScaler equals one process", "[mpi]") {
  Eigen::MatrixXd X = blobs(1000, 4, 2, 3.0, 23);
  X.col(1).array() += 1e8;  // a large mean: a sum of squares would lose the variance
  X.col(3).setConstant(2.5);
  emcluster::StandardScaler<> one, many;
  one.fit(X);
  const Shard s = my_shard(X.rows());
  emcluster::mpi::fit(many, X.middleRows(s.begin, s.rows), MPI_COMM_WORLD);
  CHECK(many.n_samples_seen() == X.rows());
  Eigen::MatrixXd stats(3, 4);
  stats << many.mean().transpose(), many.var().transpose(), many.scale().transpose();
  CHECK(same_on_every_rank(stats));
  CHECK(max_relative(many.mean(), one.mean()) <= 1e-12);
  CHECK(max_relative(many.var(), one.var()) <= 1e-10);
  CHECK(max_relative(many.scale(), one.scale()) <= 1e-10);
  CHECK(many.scale()(3) == 1.0);
}

namespace {

using SearchOptions = emcluster::GaussianMixtureSearch<>::Options;

/// The search on the whole of X in one process and on every rank's shard: every rank holds
/// the same rows (the CSV bits) and best model; with starts drawn from a subset of the
/// global rows (exact_start) every row equals the single process's to 1e-9 relative, else
/// the same model wins.
void check_search(const Eigen::MatrixXd& X, const SearchOptions& o, bool exact_start) {
  emcluster::GaussianMixtureSearch<> one(o), many(o);
  one.fit(X);
  const Shard s = my_shard(X.rows());
  emcluster::mpi::Traffic traffic;
  emcluster::mpi::fit(many, X.middleRows(s.begin, s.rows), MPI_COMM_WORLD, &traffic);
  CHECK(traffic.collectives > 0);
  CHECK(same_on_every_rank(many.csv()));
  CHECK(same_on_every_rank(mixture_parameters(many.best_model())));
  CHECK(many.results().size() == one.results().size());
  CHECK(many.best().k == one.best().k);
  CHECK(many.best().covariance_type == one.best().covariance_type);
  CHECK(many.best().noise == one.best().noise);
  if (!exact_start && size_of_world() > 1) return;
  CHECK(many.best_index() == one.best_index());
  for (std::size_t r = 0; r < std::min(many.results().size(), one.results().size()); ++r) {
    const emcluster::MixtureCandidate& a = many.results()[r];
    const emcluster::MixtureCandidate& b = one.results()[r];
    CHECK(a.failed == b.failed);
    if (a.failed || b.failed) continue;
    CHECK(std::abs(a.log_likelihood - b.log_likelihood) <= 1e-9 * std::abs(b.log_likelihood));
    CHECK(std::abs(a.icl - b.icl) <= 1e-9 * std::abs(b.icl));
    CHECK(a.n_iter == b.n_iter);
    CHECK(a.refined == b.refined);
  }
  CHECK(max_relative(mixture_parameters(many.best_model()), mixture_parameters(one.best_model())) <=
        1e-9);
  if (size_of_world() == 1) CHECK(many.csv() == one.csv());  // the same code, the same bits
}

}  // namespace

TEST_CASE("mpi GaussianMixtureSearch from subset starts equals one process", "[mpi]") {
  // 2400 rows >= 2 m (m = 200): the K-means starts run on 200 global rows shared by all.
  Eigen::MatrixXd X = blobs(2400, 2, 3, 6.0, 24);
  emcluster::detail::Random rng(6);
  for (Eigen::Index i = 0; i < X.rows(); i += 15)
    for (Eigen::Index f = 0; f < 2; ++f) X(i, f) = rng.uniform(-25.0, 25.0);
  SearchOptions o;
  o.n_components = {1, 2, 3, 4};
  o.noise = emcluster::NoiseSearch::both;
  o.init_sample_size = 200;
  o.criterion = emcluster::SelectionCriterion::icl;
  o.seed = 3;
  check_search(X, o, true);
}

TEST_CASE("mpi GaussianMixtureSearch with distributed K-means starts picks the same model",
          "[mpi]") {
  const Eigen::MatrixXd X = blobs(1500, 3, 3, 8.0, 25);
  SearchOptions o;
  o.n_components = {1, 2, 3, 4, 5};
  o.covariance_types = {emcluster::CovarianceType::full, emcluster::CovarianceType::spherical};
  o.init_sample_size = 0;  // every row: the starts are distributed KMeans fits
  o.seed = 8;
  check_search(X, o, false);
}

TEST_CASE("mpi GaussianMixtureSearch: NaN on one rank fails on every rank", "[mpi]") {
  Eigen::MatrixXd X = blobs(600, 2, 2, 5.0, 26);
  const Shard s = my_shard(X.rows());
  Eigen::MatrixXd mine = X.middleRows(s.begin, s.rows);
  const int bad = size_of_world() == 2 ? 0 : size_of_world() - 1;  // a rank holding rows
  if (rank_of_world() == bad) mine(mine.rows() - 1, 1) = std::nan("");
  SearchOptions o;
  o.n_components = {1, 2};
  emcluster::GaussianMixtureSearch<> search(o);
  std::string message;
  try {
    emcluster::mpi::fit(search, mine, MPI_COMM_WORLD);
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  CHECK(message.find("NaN") != std::string::npos);
  CHECK(message.find("GaussianMixtureSearch::fit") != std::string::npos);
  CHECK(message.find("MPI rank " + std::to_string(bad)) != std::string::npos);
  CHECK(same_on_every_rank(message));
  CHECK_FALSE(search.is_fitted());
}

TEST_CASE("mpi KMeansSearch scores every k over all rows as one process", "[mpi]") {
  const Eigen::MatrixXd X = blobs(1800, 3, 4, 7.0, 28);
  const Shard s = my_shard(X.rows());
  const auto Xs = X.middleRows(s.begin, s.rows);
  emcluster::KMeansSearch<>::Options o;
  o.n_clusters = {2, 3, 4, 5, 6};
  o.all_scores = true;
  o.score = emcluster::KMeansScore::davies_bouldin;
  o.silhouette.sample_size = 500;
  o.silhouette.seed = 4;
  o.n_init = 1;
  o.seed = 2;
  emcluster::KMeansSearch<> one(o), many(o);
  one.fit(X);
  emcluster::mpi::fit(many, Xs, MPI_COMM_WORLD);
  CHECK(same_on_every_rank(many.csv()));
  CHECK(many.best().k == 4);
  CHECK(many.best().k == one.best().k);
  CHECK(many.best_model().labels().size() == s.rows);
  for (std::size_t r = 0; r < many.results().size(); ++r) {
    const emcluster::KMeansCandidate& a = many.results()[r];
    const emcluster::KMeansCandidate& b = one.results()[r];
    CHECK_FALSE(a.failed);
    // k-means++ draws may differ across ranks (docs/scaling.md): the well-separated k = 4
    // is the same clustering; every k scores like one process where the inertia agrees.
    if (std::abs(a.inertia - b.inertia) > 1e-9 * b.inertia) continue;
    CHECK(std::abs(a.calinski_harabasz - b.calinski_harabasz) <= 1e-9 * b.calinski_harabasz);
    CHECK(std::abs(a.davies_bouldin - b.davies_bouldin) <= 1e-9 * b.davies_bouldin);
    CHECK(std::abs(a.silhouette - b.silhouette) <= 1e-9);
  }
  if (size_of_world() == 1) CHECK(many.csv() == one.csv());
  // The exact silhouette compares every pair of rows: refused on every rank.
  o.silhouette.sample_size = 0;
  emcluster::KMeansSearch<> exact(o);
  std::string message;
  try {
    emcluster::mpi::fit(exact, Xs, MPI_COMM_WORLD);
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  CHECK(message.find("sample_size") != std::string::npos);
  CHECK(same_on_every_rank(message));
}

namespace {

/// A file name shared by the ranks (rank 0's process id), in the build's working directory.
std::string shared_name(const std::string& stem) {
  long id = rank_of_world() == 0 ? static_cast<long>(std::hash<std::string>()(stem) % 100000) : 0;
  MPI_Bcast(&id, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  return "emcluster_mpi_" + stem + "_" + std::to_string(id) + "_" + std::to_string(size_of_world());
}

}  // namespace

TEST_CASE("mpi readers give every rank its slice of an npy and a raw file", "[mpi][io]") {
  const Eigen::MatrixXd X = blobs(103, 3, 2, 4.0, 30);
  const std::string npy = shared_name("slice") + ".npy", raw = shared_name("slice") + ".f32";
  if (rank_of_world() == 0) {
    emcluster::write_npy(npy, X);
    const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Xf =
        X.cast<float>();
    std::ofstream(raw, std::ios::binary)
        .write(reinterpret_cast<const char*>(Xf.data()),
               static_cast<std::streamsize>(Xf.size() * sizeof(float)));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto slice = emcluster::mpi::slice_of(X.rows(), rank_of_world(), size_of_world());
  const auto mine = emcluster::mpi::read_npy_slice<double>(npy, MPI_COMM_WORLD);
  CHECK(mine.rows() == slice.second);
  CHECK(Eigen::MatrixXd(mine) == X.middleRows(slice.first, slice.second));
  const auto mine_f =
      emcluster::mpi::read_raw_slice<float>(raw, emcluster::NpyDType::float32, 3, MPI_COMM_WORLD);
  CHECK(Eigen::MatrixXf(mine_f) == X.middleRows(slice.first, slice.second).cast<float>());
  // Every rank's slice together is the whole file.
  long rows = static_cast<long>(mine.rows()), all = 0;
  MPI_Allreduce(&rows, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  CHECK(all == X.rows());
  // A raw file with a partial row: the same data_file_error on every rank, no hang.
  bool failed = false;
  std::string what;
  try {
    emcluster::mpi::read_raw_slice<float>(raw, emcluster::NpyDType::float32, 4, MPI_COMM_WORLD);
  } catch (const emcluster::data_file_error& e) {
    failed = true;
    what = e.what();
    CHECK(e.path() == raw);
    CHECK(e.byte_offset() == 103 * 3 * 4 / 16 * 16);
  }
  CHECK(failed);
  CHECK(same_on_every_rank(what));
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of_world() == 0) {
    std::remove(npy.c_str());
    std::remove(raw.c_str());
  }
}

TEST_CASE("mpi readers: a missing or truncated file fails on every rank", "[mpi][io]") {
  const std::string npy = shared_name("cut") + ".npy";
  if (rank_of_world() == 0) {
    emcluster::write_npy(npy, blobs(50, 4, 2, 4.0, 31));
    // Cut the file inside the last rows: only the last rank's slice is affected.
    std::ifstream in(npy, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    std::ofstream(npy, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 20));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  int kinds[2] = {0, 0};
  for (const std::string& path : {npy, npy + ".missing"}) {
    try {
      emcluster::mpi::read_npy_slice<double>(path, MPI_COMM_WORLD);
    } catch (const emcluster::data_file_error& e) {
      ++kinds[path == npy ? 0 : 1];
      CHECK(e.path() == path);
      CHECK(same_on_every_rank(std::string(e.what())));
    }
  }
  CHECK(kinds[0] == 1);
  CHECK(kinds[1] == 1);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of_world() == 0) std::remove(npy.c_str());
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  Catch::Session session;
  // Only rank 0 reports successes and the summary; every rank reports its failures.
  int rc = session.applyCommandLine(argc, argv);
  if (rc == 0) rc = session.run();
  int worst = 0;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
