// Concurrent use of one fitted model: the const calls (predict, predict_proba, score_samples,
// uncertainty, score, transform, inverse_transform) from 8 threads at once give the
// single-thread results, bit for bit. Also built alone with ThreadSanitizer (scripts/test
// --tsan), where a data race in those calls is reported.
#include <catch2/catch.hpp>

#include <emcluster/datasets.hpp>
#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/minibatch_kmeans.hpp>
#include <emcluster/preprocessing.hpp>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace {

constexpr int kThreads = 8;
constexpr int kRounds = 3;

// 20000 x 2 rows (above the size where a pass starts an OpenMP team, when OpenMP is on).
emcluster::Dataset<double> data() {
  return emcluster::make_article_data<double>(3, 20000.0 / 1830.0);
}

// Runs `call` kRounds times on each of kThreads threads started together; counts the threads
// whose every result equalled `expected`.
template <typename Result>
int agreeing_threads(const std::function<Result()>& call, const Result& expected) {
  std::atomic<int> agree{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();  // start together
      bool same = true;
      for (int r = 0; r < kRounds; ++r) same = same && (call() == expected);
      if (same) agree.fetch_add(1);
    });
  }
  for (auto& thread : threads) thread.join();
  return agree.load();
}

}  // namespace

TEST_CASE("KMeans: predict, transform and score from 8 threads on one model", "[concurrency]") {
  const auto ds = data();
  emcluster::KMeans<>::Options o;
  o.n_clusters = 3;
  o.seed = 5;
  emcluster::KMeans<> km(o);
  km.fit(ds.X);
  const Eigen::VectorXi labels = km.predict(ds.X);
  const Eigen::MatrixXd dist = km.transform(ds.X.topRows(3000));
  const double score = km.score(ds.X);
  CHECK(agreeing_threads<Eigen::VectorXi>([&] { return km.predict(ds.X); }, labels) == kThreads);
  CHECK(agreeing_threads<Eigen::MatrixXd>([&] { return km.transform(ds.X.topRows(3000)); }, dist) ==
        kThreads);
  CHECK(agreeing_threads<double>([&] { return km.score(ds.X); }, score) == kThreads);
}

TEST_CASE("MiniBatchKMeans: predict and score from 8 threads on one model", "[concurrency]") {
  const auto ds = data();
  emcluster::MiniBatchKMeans<>::Options o;
  o.n_clusters = 3;
  o.seed = 5;
  emcluster::MiniBatchKMeans<> mbk(o);
  mbk.fit(ds.X);
  const Eigen::VectorXi labels = mbk.predict(ds.X);
  const double score = mbk.score(ds.X);
  CHECK(agreeing_threads<Eigen::VectorXi>([&] { return mbk.predict(ds.X); }, labels) == kThreads);
  CHECK(agreeing_threads<double>([&] { return mbk.score(ds.X); }, score) == kThreads);
}

TEST_CASE("GaussianMixture: every const call from 8 threads on one model", "[concurrency]") {
  const auto ds = data();
  for (const bool noise : {false, true}) {
    CAPTURE(noise);
    emcluster::GaussianMixture<>::Options o;
    o.n_components = 3;
    o.seed = 5;
    o.noise_component = noise;
    emcluster::GaussianMixture<> gmm(o);
    gmm.fit(ds.X);
    const auto& X = ds.X;
    const Eigen::VectorXi labels = gmm.predict(X);
    const Eigen::MatrixXd proba = gmm.predict_proba(X);
    const Eigen::VectorXd log_density = gmm.score_samples(X);
    const Eigen::VectorXd unsure = gmm.uncertainty(X);
    const double score = gmm.score(X);
    CHECK(agreeing_threads<Eigen::VectorXi>([&] { return gmm.predict(X); }, labels) == kThreads);
    CHECK(agreeing_threads<Eigen::MatrixXd>([&] { return gmm.predict_proba(X); }, proba) ==
          kThreads);
    CHECK(agreeing_threads<Eigen::VectorXd>([&] { return gmm.score_samples(X); }, log_density) ==
          kThreads);
    CHECK(agreeing_threads<Eigen::VectorXd>([&] { return gmm.uncertainty(X); }, unsure) ==
          kThreads);
    CHECK(agreeing_threads<double>([&] { return gmm.score(X); }, score) == kThreads);
  }
}

TEST_CASE("StandardScaler: transform and inverse_transform from 8 threads", "[concurrency]") {
  const auto ds = data();
  emcluster::StandardScaler<float> scaler;
  scaler.fit(ds.X);
  const Eigen::MatrixXf Z = scaler.transform(ds.X);
  const Eigen::MatrixXf back = scaler.inverse_transform(Z);
  CHECK(agreeing_threads<Eigen::MatrixXf>([&] { return scaler.transform(ds.X); }, Z) == kThreads);
  CHECK(agreeing_threads<Eigen::MatrixXf>([&] { return scaler.inverse_transform(Z); }, back) ==
        kThreads);
}
