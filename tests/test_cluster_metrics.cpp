// Tests of the clustering metrics: silhouette, Calinski-Harabasz, Davies-Bouldin
// (internal_metrics.hpp) and the information-based and pair-counting label comparisons
// (metrics.hpp), against scikit-learn 1.2.1 (tests/make_metrics_fixtures.py).
#include <catch2/catch.hpp>

#include "support/check.hpp"

#include <emcluster/datasets.hpp>
#include <emcluster/detail/information.hpp>
#include <emcluster/detail/kmeans_init.hpp>
#include <emcluster/detail/random.hpp>
#include <emcluster/metrics.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef __linux__
#include <sys/resource.h>
#endif

using emcluster::Noise;

namespace {

std::string data_path(const std::string& name) {
  return std::string(EMCLUSTER_TEST_DATA_DIR) + "/" + name;
}

Eigen::MatrixXd read_csv(const std::string& name) {
  std::ifstream in(data_path(name));
  if (!in) throw std::runtime_error("cannot open " + data_path(name));
  std::vector<std::vector<double>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    std::vector<double> row;
    double v = 0;
    while (fields >> v) row.push_back(v);
    rows.push_back(row);
  }
  Eigen::MatrixXd M(static_cast<Eigen::Index>(rows.size()),
                    static_cast<Eigen::Index>(rows.at(0).size()));
  for (Eigen::Index i = 0; i < M.rows(); ++i) {
    REQUIRE(static_cast<Eigen::Index>(rows[static_cast<std::size_t>(i)].size()) == M.cols());
    for (Eigen::Index j = 0; j < M.cols(); ++j) {
      M(i, j) = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
    }
  }
  return M;
}

double parse_double(const std::string& s) {
  if (s == "nan") return std::nan("");
  return std::stod(s);
}

// The integer hash of tests/make_metrics_fixtures.py (every step exact in uint64).
std::uint64_t hash32(std::uint64_t i) {
  std::uint64_t g = (i * 2654435761ULL + 97531ULL) & 0xFFFFFFFFULL;
  g ^= g >> 16;
  std::uint64_t h = (g * 2246822519ULL) & 0xFFFFFFFFULL;
  h ^= h >> 13;
  return h;
}

std::pair<Eigen::VectorXi, Eigen::VectorXi> formula_pair(const std::string& name) {
  if (name == "many") {
    Eigen::VectorXi a(30000), b(30000);
    for (int i = 0; i < 30000; ++i) {
      const std::uint64_t h = hash32(static_cast<std::uint64_t>(i));
      a(i) = static_cast<int>(h % 400);
      b(i) = ((h >> 20) % 2 == 0) ? a(i) % 300 : static_cast<int>((h >> 9) % 300);
    }
    return {a, b};
  }
  const int n = 1000000;
  Eigen::VectorXi a(n), b(n);
  for (int i = 0; i < n; ++i) {
    const std::uint64_t h = hash32(static_cast<std::uint64_t>(i));
    a(i) = static_cast<int>((h >> 4) % 20);
    if ((h >> 20) % 64 == 0) a(i) = -1;
    if (name == "big_random") {
      b(i) = static_cast<int>((h >> 12) % 25);
    } else {
      b(i) =
          ((h >> 9) % 4 != 0 && a(i) >= 0) ? (a(i) * 7 + 3) % 25 : static_cast<int>((h >> 12) % 25);
    }
  }
  return {a, b};
}

const double kCentres[5][3] = {{0, 0, 0}, {3, 0, 1}, {0, 3, 2}, {3, 3, 0}, {1.5, 1.5, 3}};

Eigen::MatrixXd formula_data() {
  Eigen::MatrixXd X(20000, 3);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index f = 0; f < 3; ++f) {
      const double u =
          static_cast<double>(hash32(static_cast<std::uint64_t>(3 * i + f))) / 4294967296.0;
      X(i, f) = kCentres[i % 5][f] + 4.0 * (u - 0.5);
    }
  }
  return X;
}

Eigen::VectorXi formula_labels() {
  Eigen::VectorXi l(20000);
  for (int i = 0; i < 20000; ++i) l(i) = i % 5;
  return l;
}

struct InternalRecord {
  std::string data, xkind, labels, noise, metric;
  double value = 0;
};

struct SamplesRecord {
  std::string data, xkind, labels, noise;
  Eigen::Index stride = 1;
  std::vector<double> values;
};

struct ExternalRecord {
  std::string name, noise, metric;
  double value = 0;
};

struct Fixtures {
  std::map<std::string, Eigen::VectorXi> labels;  // "data/name"
  std::vector<InternalRecord> internal;
  std::vector<SamplesRecord> samples;
  std::map<std::string, std::pair<Eigen::VectorXi, Eigen::VectorXi>> pairs;
  std::vector<ExternalRecord> external;
};

Eigen::VectorXi read_ints(std::istream& in, Eigen::Index n) {
  Eigen::VectorXi v(n);
  for (Eigen::Index i = 0; i < n; ++i) in >> v(i);
  return v;
}

const Fixtures& fixtures() {
  static const Fixtures f = [] {
    Fixtures out;
    std::ifstream in(data_path("metrics_sklearn_cases.txt"));
    if (!in) throw std::runtime_error("cannot open metrics_sklearn_cases.txt");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream t(line);
      std::string kind;
      t >> kind;
      if (kind == "labels") {
        std::string data, name;
        t >> data >> name;
        std::vector<int> v;
        int x = 0;
        while (t >> x) v.push_back(x);
        out.labels[data + "/" + name] =
            Eigen::Map<Eigen::VectorXi>(v.data(), static_cast<Eigen::Index>(v.size()));
      } else if (kind == "internal") {
        InternalRecord r;
        std::string value;
        t >> r.data >> r.xkind >> r.labels >> r.noise >> r.metric >> value;
        r.value = parse_double(value);
        out.internal.push_back(r);
      } else if (kind == "samples") {
        SamplesRecord r;
        t >> r.data >> r.xkind >> r.labels >> r.noise >> r.stride;
        std::string v;
        while (t >> v) r.values.push_back(parse_double(v));
        out.samples.push_back(r);
      } else if (kind == "pair") {
        std::string name;
        Eigen::Index n = 0;
        t >> name >> n;
        Eigen::VectorXi a = read_ints(t, n);
        Eigen::VectorXi b = read_ints(t, n);
        out.pairs[name] = {a, b};
      } else if (kind == "external") {
        ExternalRecord r;
        std::string value;
        t >> r.name >> r.noise >> r.metric >> value;
        r.value = parse_double(value);
        out.external.push_back(r);
      } else {
        throw std::runtime_error("unknown record " + kind);
      }
    }
    return out;
  }();
  return f;
}

const Eigen::MatrixXd& data_set(const std::string& name) {
  static std::map<std::string, Eigen::MatrixXd> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  Eigen::MatrixXd X;
  if (name == "article") {
    X = read_csv("metrics_article.csv").leftCols(2);
  } else if (name == "formula") {
    X = formula_data();
  } else {
    X = read_csv("metrics_" + name + ".csv");
  }
  return cache.emplace(name, X).first->second;
}

Eigen::VectorXi labels_of(const std::string& data, const std::string& name) {
  if (data == "formula") return formula_labels();
  return fixtures().labels.at(data + "/" + name);
}

Noise noise_of(const std::string& s) {
  if (s == "as_cluster") return Noise::as_cluster;
  if (s == "exclude") return Noise::exclude;
  throw std::runtime_error("unknown noise " + s);
}

// |ours - ref| <= 1e-10, relative for values above 1 (Calinski-Harabasz reaches thousands).
bool close(double ours, double ref, double tol = 1e-10) {
  return std::abs(ours - ref) <= tol * std::max(1.0, std::abs(ref));
}

template <typename M>
double internal_metric(const std::string& metric, const M& X, const Eigen::VectorXi& labels,
                       Noise noise) {
  if (metric == "silhouette") {
    emcluster::SilhouetteOptions o;
    o.exclude_noise = noise == Noise::exclude;
    return emcluster::silhouette_score(X, labels, o);
  }
  if (metric == "calinski_harabasz") return emcluster::calinski_harabasz_score(X, labels, noise);
  if (metric == "davies_bouldin") return emcluster::davies_bouldin_score(X, labels, noise);
  throw std::runtime_error("unknown metric " + metric);
}

double external_metric(const std::string& metric, const Eigen::VectorXi& a,
                       const Eigen::VectorXi& b, Noise noise) {
  using namespace emcluster;
  if (metric == "mutual_info") return mutual_info_score(a, b, noise);
  if (metric == "normalized_mutual_info") return normalized_mutual_info_score(a, b, noise);
  if (metric == "adjusted_mutual_info") return adjusted_mutual_info_score(a, b, noise);
  if (metric == "homogeneity") return homogeneity_score(a, b, noise);
  if (metric == "completeness") return completeness_score(a, b, noise);
  if (metric == "v_measure") return v_measure_score(a, b, 1.0, noise);
  if (metric == "v_measure_beta2") return v_measure_score(a, b, 2.0, noise);
  if (metric == "v_measure_beta0.5") return v_measure_score(a, b, 0.5, noise);
  if (metric == "hcv_homogeneity")
    return homogeneity_completeness_v_measure(a, b, 1.0, noise).homogeneity;
  if (metric == "hcv_completeness")
    return homogeneity_completeness_v_measure(a, b, 1.0, noise).completeness;
  if (metric == "hcv_v_measure")
    return homogeneity_completeness_v_measure(a, b, 1.0, noise).v_measure;
  if (metric == "fowlkes_mallows") return fowlkes_mallows_score(a, b, noise);
  if (metric == "adjusted_rand") return adjusted_rand_score(a, b, noise);
  if (metric == "rand") return rand_score(a, b, noise);
  throw std::runtime_error("unknown metric " + metric);
}

// Blobs with cluster sizes and a few noise rows, from detail::Random (no fixture needed).
Eigen::MatrixXd random_blobs(Eigen::Index n, Eigen::Index d, int k, std::uint64_t seed,
                             Eigen::VectorXi& labels) {
  emcluster::detail::Random rng(seed);
  Eigen::MatrixXd X(n, d);
  labels.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng.uniform_index(static_cast<std::uint64_t>(k)));
    labels(i) = (rng.uniform() < 0.03) ? -1 : c;
    for (Eigen::Index f = 0; f < d; ++f) X(i, f) = 2.5 * c * ((f + c) % 2) + rng.normal();
  }
  return X;
}

// Plain O(n^2) silhouette from its definition, for the sampling tests.
Eigen::VectorXd reference_silhouette(const Eigen::MatrixXd& X, const Eigen::VectorXi& labels) {
  const Eigen::Index n = X.rows();
  std::map<int, double> size;
  for (Eigen::Index i = 0; i < n; ++i) size[labels(i)] += 1.0;
  Eigen::VectorXd s(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    std::map<int, double> sum;
    for (Eigen::Index j = 0; j < n; ++j) sum[labels(j)] += (X.row(i) - X.row(j)).norm();
    const double own = size[labels(i)];
    if (own == 1.0) {
      s(i) = 0.0;
      continue;
    }
    const double a = sum[labels(i)] / (own - 1.0);
    double b = std::numeric_limits<double>::infinity();
    for (const auto& [label, total] : sum) {
      if (label != labels(i)) b = std::min(b, total / size[label]);
    }
    s(i) = std::max(a, b) > 0 ? (b - a) / std::max(a, b) : 0.0;
  }
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Against scikit-learn 1.2.1

TEST_CASE("cluster metrics: the article fixture is make_article_data() rounded to 6 decimals",
          "[cluster_metrics]") {
  const Eigen::MatrixXd file = read_csv("metrics_article.csv");
  const emcluster::Dataset<> data = emcluster::make_article_data();
  REQUIRE(file.rows() == data.X.rows());
  CHECK((file.leftCols(2) - data.X).cwiseAbs().maxCoeff() <= 5.0000001e-7);
  CHECK(file.col(2).cast<int>() == data.labels);
}

TEST_CASE(
    "internal metrics match scikit-learn 1.2.1 (silhouette, Calinski-Harabasz, Davies-Bouldin)",
    "[cluster_metrics][sklearn]") {
  const Fixtures& f = fixtures();
  REQUIRE(f.internal.size() >= 40);
  std::map<std::string, int> checked;
  for (const InternalRecord& r : f.internal) {
    if (r.data == "formula") continue;  // the n = 20000 case has its own test
    INFO(r.data << " " << r.xkind << " " << r.labels << " " << r.noise << " " << r.metric);
    const Eigen::MatrixXd& X = data_set(r.data);
    const Eigen::VectorXi labels = labels_of(r.data, r.labels);
    double ours = 0;
    if (r.xkind == "float") {
      const Eigen::MatrixXf Xf = X.cast<float>();
      REQUIRE((Xf.cast<double>() - X).cwiseAbs().maxCoeff() <= 1e-6 * X.cwiseAbs().maxCoeff());
      ours = internal_metric(r.metric, Xf, labels, noise_of(r.noise));
    } else {
      ours = internal_metric(r.metric, X, labels, noise_of(r.noise));
    }
    INFO("ours " << ours << ", scikit-learn " << r.value << ", difference " << ours - r.value);
    CHECK(close(ours, r.value));
    ++checked[r.metric + " " + r.noise];
  }
  CHECK(checked["silhouette as_cluster"] >= 10);
  CHECK(checked["davies_bouldin exclude"] >= 4);
}

TEST_CASE("silhouette_samples matches scikit-learn 1.2.1, NaN where noise is left out",
          "[cluster_metrics][sklearn]") {
  const Fixtures& f = fixtures();
  REQUIRE(f.samples.size() >= 8);
  for (const SamplesRecord& r : f.samples) {
    if (r.data == "formula") continue;
    INFO(r.data << " " << r.xkind << " " << r.labels << " " << r.noise);
    const Eigen::MatrixXd& X = data_set(r.data);
    const Eigen::VectorXi labels = labels_of(r.data, r.labels);
    const Eigen::VectorXd s = r.xkind == "float"
                                  ? emcluster::silhouette_samples(Eigen::MatrixXf(X.cast<float>()),
                                                                  labels, noise_of(r.noise))
                                  : emcluster::silhouette_samples(X, labels, noise_of(r.noise));
    REQUIRE(s.size() == X.rows());
    REQUIRE(static_cast<Eigen::Index>(r.values.size()) == (X.rows() + r.stride - 1) / r.stride);
    for (std::size_t t = 0; t < r.values.size(); ++t) {
      const Eigen::Index i = static_cast<Eigen::Index>(t) * r.stride;
      INFO("row " << i << ": ours " << s(i) << ", scikit-learn " << r.values[t]);
      if (std::isnan(r.values[t])) {
        CHECK(std::isnan(s(i)));
        CHECK(labels(i) == -1);
      } else {
        CHECK(close(s(i), r.values[t]));
      }
    }
  }
}

TEST_CASE("silhouette on 20000 rows: exact, against scikit-learn, without an n x n matrix",
          "[cluster_metrics][sklearn][memory]") {
  // An n x n matrix of doubles would take 20000^2 * 8 bytes = 3.2 GB.
  const Eigen::MatrixXd& X = data_set("formula");
  const Eigen::VectorXi labels = formula_labels();
#ifdef __linux__
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
#endif
  const auto t0 = std::chrono::steady_clock::now();
  const Eigen::VectorXd s = emcluster::silhouette_samples(X, labels);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
#ifdef __linux__
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  const double grown_mb =
      static_cast<double>(after.ru_maxrss - before.ru_maxrss) / 1024.0;  // ru_maxrss: KiB
  INFO("peak resident set grew by " << grown_mb << " MB");
  CHECK(grown_mb < 200.0);
#endif
  WARN("silhouette_samples, 20000 x 3, 5 clusters: " << seconds << " s");
  const Fixtures& f = fixtures();
  int checked = 0;
  for (const InternalRecord& r : f.internal) {
    if (r.data != "formula") continue;
    INFO(r.metric << ": scikit-learn " << r.value);
    if (r.metric == "silhouette") {
      CHECK(close(s.mean(), r.value));
      CHECK(close(emcluster::silhouette_score(X, labels), r.value));
    } else {
      CHECK(close(internal_metric(r.metric, X, labels, Noise::as_cluster), r.value));
    }
    ++checked;
  }
  CHECK(checked == 3);
  for (const SamplesRecord& r : f.samples) {
    if (r.data != "formula") continue;
    for (std::size_t t = 0; t < r.values.size(); ++t) {
      CHECK(close(s(static_cast<Eigen::Index>(t) * r.stride), r.values[t]));
    }
    ++checked;
  }
  CHECK(checked == 4);
}

TEST_CASE("external metrics match scikit-learn 1.2.1", "[cluster_metrics][sklearn]") {
  const Fixtures& f = fixtures();
  REQUIRE(f.external.size() >= 400);
  std::map<std::string, std::pair<Eigen::VectorXi, Eigen::VectorXi>> generated;
  std::map<std::string, int> checked;
  for (const ExternalRecord& r : f.external) {
    INFO(r.name << " " << r.noise << " " << r.metric);
    auto it = f.pairs.find(r.name);
    if (it == f.pairs.end()) {
      if (!generated.count(r.name)) generated[r.name] = formula_pair(r.name);
      it = generated.find(r.name);
    }
    const double ours =
        external_metric(r.metric, it->second.first, it->second.second, noise_of(r.noise));
    INFO("ours " << ours << ", scikit-learn " << r.value << ", difference " << ours - r.value);
    CHECK(close(ours, r.value));
    ++checked[r.metric];
  }
  CHECK(generated.size() == 3);  // big, big_random, many
  for (const char* m : {"mutual_info", "normalized_mutual_info", "adjusted_mutual_info",
                        "homogeneity", "completeness", "v_measure", "fowlkes_mallows"}) {
    INFO(m);
    CHECK(checked[m] >= 30);
  }
}

TEST_CASE("adjusted_mutual_info_score on 10^6 samples: finite, fast, as scikit-learn",
          "[cluster_metrics]") {
  const auto [a, b] = formula_pair("big_random");
  const auto t0 = std::chrono::steady_clock::now();
  const double ami = emcluster::adjusted_mutual_info_score(a, b);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("adjusted_mutual_info_score, n = 10^6, 21 x 25 labels: " << seconds << " s");
  REQUIRE(std::isfinite(ami));
  double ref = std::nan("");
  for (const ExternalRecord& r : fixtures().external) {
    if (r.name == "big_random" && r.noise == "as_cluster" && r.metric == "adjusted_mutual_info")
      ref = r.value;
  }
  CHECK(close(ami, ref));
  // Symmetric, and invariant under relabelling.
  CHECK(close(emcluster::adjusted_mutual_info_score(b, a), ami, 1e-13));
  const Eigen::VectorXi b2 = (b.array() * 3 + 1000).matrix();
  CHECK(emcluster::adjusted_mutual_info_score(a, b2) == ami);
}

// ---------------------------------------------------------------------------------------------
// The expected mutual information against its definition

TEST_CASE("expected mutual information equals the direct hypergeometric sum", "[cluster_metrics]") {
  using emcluster::detail::SparseContingency;
  // Direct: sum over cells and k of P(k) (k / n) log(n k / (a b)) with lgamma in long double.
  auto direct = [](const std::vector<std::int64_t>& rows, const std::vector<std::int64_t>& cols,
                   std::int64_t n) {
    long double emi = 0;
    auto lf = [](std::int64_t x) { return std::lgamma(static_cast<long double>(x) + 1.0L); };
    for (std::int64_t a : rows) {
      for (std::int64_t b : cols) {
        for (std::int64_t k = std::max<std::int64_t>(1, a + b - n); k <= std::min(a, b); ++k) {
          const long double lp = lf(a) + lf(b) + lf(n - a) + lf(n - b) - lf(n) - lf(k) - lf(a - k) -
                                 lf(b - k) - lf(n - a - b + k);
          const long double kd = static_cast<long double>(k);
          emi += std::exp(lp) * (kd / n) * std::log(n * kd / (static_cast<long double>(a) * b));
        }
      }
    }
    return static_cast<double>(emi);
  };
  emcluster::detail::Random rng(5);
  for (int trial = 0; trial < 40; ++trial) {
    const int n = 2 + static_cast<int>(rng.uniform_index(400));
    const int ka = 2 + static_cast<int>(rng.uniform_index(12));
    const int kb = 2 + static_cast<int>(rng.uniform_index(12));
    Eigen::VectorXi a(n), b(n);
    for (int i = 0; i < n; ++i) {
      // Skewed sizes: squares of uniforms pick small labels more often.
      const double u = rng.uniform(), v = rng.uniform();
      a(i) = static_cast<int>(u * u * ka);
      b(i) = static_cast<int>(v * kb);
    }
    const auto p = emcluster::detail::encode_pair("test", a, b, "a", "b");
    const SparseContingency t = emcluster::detail::sparse_contingency(p);
    if (t.row_sums.size() < 2 || t.col_sums.size() < 2) continue;
    const double ours = emcluster::detail::expected_mutual_information(t);
    const double ref = direct(t.row_sums, t.col_sums, t.n);
    INFO("n " << n << ", " << t.row_sums.size() << " x " << t.col_sums.size() << ": ours " << ours
              << ", direct " << ref);
    CHECK(std::abs(ours - ref) <= 1e-13 * std::abs(ref));
  }
}

TEST_CASE("hypergeometric log-probabilities: exact on small cases, normalised on large ones",
          "[cluster_metrics]") {
  using emcluster::detail::log_hypergeometric_pmf;
  // n = 10, a = 4, b = 5: P(k) = C(4, k) C(6, 5 - k) / C(10, 5) = {6, 60, 120, 60, 6} / 252.
  const double expected[] = {6.0 / 252, 60.0 / 252, 120.0 / 252, 60.0 / 252, 6.0 / 252};
  for (int k = 0; k <= 4; ++k) {
    CHECK(std::abs(std::exp(log_hypergeometric_pmf(k, 4, 5, 10)) - expected[k]) <= 1e-15);
  }
  // Probabilities over the support sum to 1 for large n (the sum needs every term accurate).
  for (const auto& [a, b, n] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{
           {300000, 450000, 1000000},
           {7, 999990, 1000000},
           {123456, 1, 2000000},
           {1000000000, 500000000, 2000000000}}) {
    const std::int64_t mode = (a + 1) * (b + 1) / (n + 2);
    long double total = 0;
    const std::int64_t lo = std::max<std::int64_t>(0, a + b - n), hi = std::min(a, b);
    // 40 standard deviations either side: everything beyond is below 1e-300.
    const double fa = static_cast<double>(a) / n, fb = static_cast<double>(b) / n;
    const double sd = std::sqrt(static_cast<double>(n) * fa * fb * (1 - fa) * (1 - fb));
    const auto width = static_cast<std::int64_t>(40 * sd) + 40;
    for (std::int64_t k = std::max(lo, mode - width); k <= std::min(hi, mode + width); ++k) {
      total += std::exp(static_cast<long double>(log_hypergeometric_pmf(k, a, b, n)));
    }
    INFO(a << " " << b << " " << n);
    CHECK(std::abs(static_cast<double>(total) - 1.0) <= 1e-12);
  }
}

// ---------------------------------------------------------------------------------------------
// Properties

TEST_CASE("label encoding and contingency counts: counted and sorted paths agree with a map",
          "[cluster_metrics]") {
  emcluster::detail::Random rng(77);
  // (labels per side, spread of the values): small ranges take the counting path, sparse
  // values (spread 10^6) and tables with more than ~4n cells take the sorting path.
  for (const auto& [ka, kb, spread] : std::vector<std::tuple<int, int, int>>{
           {3, 4, 1}, {40, 60, 1}, {150, 200, 1}, {5, 5, 1000000}, {300, 2, 7}}) {
    const int n = 400;
    Eigen::VectorXi a(n), b(n);
    for (int i = 0; i < n; ++i) {
      a(i) = (static_cast<int>(rng.uniform_index(static_cast<std::uint64_t>(ka))) - 1) * spread;
      b(i) = static_cast<int>(rng.uniform_index(static_cast<std::uint64_t>(kb))) * spread - 3;
    }
    INFO(ka << " x " << kb << ", spread " << spread);
    const auto p = emcluster::detail::encode_pair("test", a, b, "a", "b");
    std::map<std::pair<int, int>, std::int64_t> cells;
    std::map<int, std::int64_t> rows, cols;
    for (int i = 0; i < n; ++i) {
      ++cells[{a(i), b(i)}];
      ++rows[a(i)];
      ++cols[b(i)];
    }
    REQUIRE(p.values_a.size() == rows.size());
    REQUIRE(p.values_b.size() == cols.size());
    for (int i = 0; i < n; ++i) {
      CHECK(p.values_a[static_cast<std::size_t>(p.a[static_cast<std::size_t>(i)])] == a(i));
      CHECK(p.values_b[static_cast<std::size_t>(p.b[static_cast<std::size_t>(i)])] == b(i));
    }
    CHECK(std::is_sorted(p.values_a.begin(), p.values_a.end()));
    const emcluster::detail::SparseContingency t = emcluster::detail::sparse_contingency(p);
    REQUIRE(t.cell_count.size() == cells.size());
    std::size_t c = 0;
    for (const auto& [key, count] : cells) {  // std::map order = (row, column) order
      CHECK(p.values_a[static_cast<std::size_t>(t.cell_row[c])] == key.first);
      CHECK(p.values_b[static_cast<std::size_t>(t.cell_col[c])] == key.second);
      CHECK(t.cell_count[c] == count);
      ++c;
    }
    std::size_t r = 0;
    for (const auto& [value, count] : rows) CHECK(t.row_sums[r++] == count);
  }
}

TEST_CASE("silhouette and scatter scores: the same bits on 1 and 2 threads",
          "[cluster_metrics][openmp]") {
#ifdef _OPENMP
  Eigen::VectorXi labels;
  const Eigen::MatrixXd X = random_blobs(3000, 4, 5, 11, labels);  // 12 chunks, parallel silhouette
  Eigen::VectorXi big_labels;
  const Eigen::MatrixXd B = random_blobs(40000, 3, 6, 12, big_labels);  // parallel scatter passes
  const int saved = omp_get_max_threads();
  struct Result {
    Eigen::VectorXd samples, samples_excluded;
    double score, sampled, ch, db, ch_big, db_big;
  };
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    emcluster::SilhouetteOptions o;
    o.sample_size = 2500;
    o.seed = 3;
    Result r{emcluster::silhouette_samples(X, labels),
             emcluster::silhouette_samples(X, labels, Noise::exclude),
             emcluster::silhouette_score(X, labels),
             emcluster::silhouette_score(X, labels, o),
             emcluster::calinski_harabasz_score(X, labels),
             emcluster::davies_bouldin_score(X, labels),
             emcluster::calinski_harabasz_score(B, big_labels),
             emcluster::davies_bouldin_score(B, big_labels, Noise::exclude)};
    omp_set_num_threads(saved);
    return r;
  };
  const Result one = run(1);
  const Result two = run(2);
  CHECK(one.samples == two.samples);
  CHECK(one.samples_excluded.array().isNaN().matrix() ==
        two.samples_excluded.array().isNaN().matrix());
  CHECK((one.samples_excluded.array().isNaN() ||
         one.samples_excluded.array() == two.samples_excluded.array())
            .all());
  CHECK(one.score == two.score);
  CHECK(one.sampled == two.sampled);
  CHECK(one.ch == two.ch);
  CHECK(one.db == two.db);
  CHECK(one.ch_big == two.ch_big);
  CHECK(one.db_big == two.db_big);
#else
  WARN("built without OpenMP: nothing to compare");
#endif
}

TEST_CASE("silhouette: any Eigen expression, float or double, the same values",
          "[cluster_metrics]") {
  Eigen::VectorXi labels;
  const Eigen::MatrixXd X = random_blobs(500, 3, 4, 21, labels);
  const Eigen::VectorXd s = emcluster::silhouette_samples(X, labels);
  CHECK(s.isApprox(reference_silhouette(X, labels), 1e-12));
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMajor R = X;
  CHECK(emcluster::silhouette_samples(R, labels) == s);
  CHECK(emcluster::silhouette_samples(Eigen::Map<const RowMajor>(R.data(), R.rows(), R.cols()),
                                      labels) == s);
  // A block of a wider matrix, and labels as a long long segment.
  Eigen::MatrixXd wide(X.rows(), 5);
  wide << Eigen::VectorXd::Ones(X.rows()), X, Eigen::VectorXd::Zero(X.rows());
  const Eigen::Matrix<long long, Eigen::Dynamic, 1> labels_ll = labels.cast<long long>();
  CHECK(emcluster::silhouette_samples(wide.middleCols(1, 3), labels_ll.head(X.rows())) == s);
  // float data: the float values, computed in double.
  const Eigen::MatrixXf F = X.cast<float>();
  CHECK(emcluster::silhouette_samples(F, labels) ==
        emcluster::silhouette_samples(Eigen::MatrixXd(F.cast<double>()), labels));
  CHECK(emcluster::calinski_harabasz_score(F, labels) ==
        emcluster::calinski_harabasz_score(Eigen::MatrixXd(F.cast<double>()), labels));
  CHECK(emcluster::davies_bouldin_score(R, labels) == emcluster::davies_bouldin_score(X, labels));
  // Relabelling changes nothing.
  const Eigen::VectorXi relabelled = (labels.array() * -5 + 17).matrix();
  // (Clusters in another order: the same values up to rounding.)
  CHECK(emcluster::silhouette_samples(X, relabelled).isApprox(s, 1e-14));
}

TEST_CASE("silhouette_score with sample_size: the seeded subset, scored among itself",
          "[cluster_metrics]") {
  Eigen::VectorXi labels;
  const Eigen::MatrixXd X = random_blobs(700, 2, 3, 31, labels);
  emcluster::SilhouetteOptions o;
  o.sample_size = 200;
  o.seed = 99;
  const double sampled = emcluster::silhouette_score(X, labels, o);
  // The same rows, drawn as documented: detail::Random(seed), Floyd's algorithm, ascending.
  emcluster::detail::Random rng(99);
  const std::vector<Eigen::Index> rows =
      emcluster::detail::sample_without_replacement(700, 200, rng);
  Eigen::MatrixXd Xs(200, 2);
  Eigen::VectorXi ls(200);
  for (Eigen::Index t = 0; t < 200; ++t) {
    Xs.row(t) = X.row(rows[static_cast<std::size_t>(t)]);
    ls(t) = labels(rows[static_cast<std::size_t>(t)]);
  }
  CHECK(sampled == emcluster::silhouette_score(Xs, ls));
  CHECK(std::abs(sampled - reference_silhouette(Xs, ls).mean()) <= 1e-12);
  // Reproducible, seed-dependent, close to the full score.
  CHECK(emcluster::silhouette_score(X, labels, o) == sampled);
  o.seed = 100;
  const double other = emcluster::silhouette_score(X, labels, o);
  CHECK(other != sampled);
  const double full = emcluster::silhouette_score(X, labels);
  CHECK(std::abs(other - full) < 0.1);
  // sample_size at or above n: every row (scikit-learn's permutation(n)[:size] does the same).
  o.sample_size = 700;
  CHECK(emcluster::silhouette_score(X, labels, o) == full);
  o.sample_size = 5000;
  CHECK(emcluster::silhouette_score(X, labels, o) == full);
  // With exclude_noise, the sample is drawn from the non-noise rows.
  o.sample_size = 150;
  o.seed = 4;
  o.exclude_noise = true;
  std::vector<Eigen::Index> kept;
  for (Eigen::Index i = 0; i < 700; ++i) {
    if (labels(i) != -1) kept.push_back(i);
  }
  emcluster::detail::Random rng2(4);
  const std::vector<Eigen::Index> pick = emcluster::detail::sample_without_replacement(
      static_cast<Eigen::Index>(kept.size()), 150, rng2);
  Eigen::MatrixXd Xn(150, 2);
  Eigen::VectorXi ln(150);
  for (Eigen::Index t = 0; t < 150; ++t) {
    Xn.row(t) = X.row(kept[static_cast<std::size_t>(pick[static_cast<std::size_t>(t)])]);
    ln(t) = labels(kept[static_cast<std::size_t>(pick[static_cast<std::size_t>(t)])]);
  }
  CHECK((ln.array() != -1).all());
  CHECK(emcluster::silhouette_score(X, labels, o) == emcluster::silhouette_score(Xn, ln));
}

TEST_CASE("Noise::exclude equals the metric on the rows without -1", "[cluster_metrics]") {
  Eigen::VectorXi labels;
  const Eigen::MatrixXd X = random_blobs(400, 3, 4, 41, labels);
  REQUIRE((labels.array() == -1).count() > 3);
  std::vector<Eigen::Index> kept;
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    if (labels(i) != -1) kept.push_back(i);
  }
  Eigen::MatrixXd Xk(static_cast<Eigen::Index>(kept.size()), 3);
  Eigen::VectorXi lk(Xk.rows());
  for (Eigen::Index t = 0; t < Xk.rows(); ++t) {
    Xk.row(t) = X.row(kept[static_cast<std::size_t>(t)]);
    lk(t) = labels(kept[static_cast<std::size_t>(t)]);
  }
  const Eigen::VectorXd s = emcluster::silhouette_samples(X, labels, Noise::exclude);
  const Eigen::VectorXd sk = emcluster::silhouette_samples(Xk, lk);
  for (Eigen::Index t = 0; t < Xk.rows(); ++t) CHECK(s(kept[static_cast<std::size_t>(t)]) == sk(t));
  CHECK(s.array().isNaN().count() == X.rows() - Xk.rows());
  emcluster::SilhouetteOptions o;
  o.exclude_noise = true;
  CHECK(emcluster::silhouette_score(X, labels, o) == emcluster::silhouette_score(Xk, lk));
  CHECK(emcluster::silhouette_score(X, labels) != emcluster::silhouette_score(Xk, lk));
  CHECK(close(emcluster::calinski_harabasz_score(X, labels, Noise::exclude),
              emcluster::calinski_harabasz_score(Xk, lk), 1e-13));
  CHECK(close(emcluster::davies_bouldin_score(X, labels, Noise::exclude),
              emcluster::davies_bouldin_score(Xk, lk), 1e-13));
  // External: a sample is dropped when either labeling says -1.
  Eigen::VectorXi pred = labels;
  for (Eigen::Index i = 0; i < pred.size(); i += 7)
    pred(i) = (i % 21 == 0) ? -1 : (pred(i) + 1) % 4;
  std::vector<int> ka, kb;
  for (Eigen::Index i = 0; i < pred.size(); ++i) {
    if (labels(i) != -1 && pred(i) != -1) {
      ka.push_back(labels(i));
      kb.push_back(pred(i));
    }
  }
  const Eigen::Map<const Eigen::VectorXi> ma(ka.data(), static_cast<Eigen::Index>(ka.size()));
  const Eigen::Map<const Eigen::VectorXi> mb(kb.data(), static_cast<Eigen::Index>(kb.size()));
  CHECK(emcluster::adjusted_mutual_info_score(labels, pred, Noise::exclude) ==
        emcluster::adjusted_mutual_info_score(ma, mb));
  CHECK(emcluster::normalized_mutual_info_score(labels, pred, Noise::exclude) ==
        emcluster::normalized_mutual_info_score(ma, mb));
  CHECK(emcluster::fowlkes_mallows_score(labels, pred, Noise::exclude) ==
        emcluster::fowlkes_mallows_score(ma, mb));
  CHECK(emcluster::adjusted_rand_score(labels, pred, Noise::exclude) ==
        emcluster::adjusted_rand_score(ma, mb));
  CHECK(emcluster::v_measure_score(labels, pred, 1.0, Noise::exclude) ==
        emcluster::v_measure_score(ma, mb));
  CHECK(emcluster::adjusted_mutual_info_score(labels, pred) !=
        emcluster::adjusted_mutual_info_score(ma, mb));
  const emcluster::ContingencyTable t = emcluster::contingency_table(labels, pred, Noise::exclude);
  CHECK(t.values_a.front() != -1);
  CHECK(t.values_b.front() != -1);
  CHECK(t.counts.sum() == static_cast<int>(ka.size()));
}

TEST_CASE("external metrics: symmetry, relabelling, V-measure = NMI, bounds", "[cluster_metrics]") {
  emcluster::detail::Random rng(8);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 20 + static_cast<int>(rng.uniform_index(300));
    Eigen::VectorXi a(n), b(n);
    for (int i = 0; i < n; ++i) {
      a(i) = static_cast<int>(rng.uniform_index(5)) - 1;
      b(i) = rng.uniform() < 0.6 ? a(i) : static_cast<int>(rng.uniform_index(7));
    }
    INFO("trial " << trial);
    const double nmi = emcluster::normalized_mutual_info_score(a, b);
    CHECK(close(emcluster::normalized_mutual_info_score(b, a), nmi, 1e-14));
    CHECK(close(emcluster::v_measure_score(a, b), nmi, 1e-14));
    CHECK(close(emcluster::adjusted_mutual_info_score(b, a),
                emcluster::adjusted_mutual_info_score(a, b), 1e-13));
    CHECK(emcluster::fowlkes_mallows_score(b, a) == emcluster::fowlkes_mallows_score(a, b));
    CHECK(close(emcluster::homogeneity_score(a, b), emcluster::completeness_score(b, a), 1e-14));
    CHECK(nmi >= 0.0);
    CHECK(nmi <= 1.0 + 1e-15);
    const Eigen::VectorXi shuffled = (b.array() * 11 - 4).matrix();
    CHECK(emcluster::adjusted_mutual_info_score(a, shuffled) ==
          emcluster::adjusted_mutual_info_score(a, b));
    CHECK(emcluster::mutual_info_score(a, shuffled) == emcluster::mutual_info_score(a, b));
    CHECK(close(emcluster::adjusted_mutual_info_score(a, a), 1.0, 1e-14));
    CHECK(close(emcluster::normalized_mutual_info_score(a, a), 1.0, 1e-15));
    const auto hcv = emcluster::homogeneity_completeness_v_measure(a, b, 3.0);
    CHECK(hcv.homogeneity == emcluster::homogeneity_score(a, b));
    CHECK(hcv.completeness == emcluster::completeness_score(a, b));
    CHECK(hcv.v_measure == emcluster::v_measure_score(a, b, 3.0));
  }
  // Any integral label type.
  Eigen::Matrix<std::int16_t, Eigen::Dynamic, 1> s(6);
  s << 0, 0, 1, 1, 2, 2;
  Eigen::Matrix<std::uint8_t, 1, Eigen::Dynamic> u(6);
  u << 9, 9, 9, 4, 4, 4;
  Eigen::VectorXi si(6), ui(6);
  si << 0, 0, 1, 1, 2, 2;
  ui << 9, 9, 9, 4, 4, 4;
  CHECK(emcluster::adjusted_mutual_info_score(s, u) ==
        emcluster::adjusted_mutual_info_score(si, ui));
  CHECK(emcluster::fowlkes_mallows_score(s, u) == emcluster::fowlkes_mallows_score(si, ui));
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST_CASE("cluster metrics errors", "[cluster_metrics]") {
  using emcluster_test::require_throw_with;
  Eigen::MatrixXd X(6, 2);
  X << 0, 0, 0, 1, 1, 0, 5, 5, 5, 6, 6, 5;
  Eigen::VectorXi labels(6);
  labels << 0, 0, 0, 1, 1, 1;
  const Eigen::VectorXi short_labels = labels.head(5);
  using Fn = std::function<void()>;

  // Internal metrics: each function names itself and the parameter.
  const std::vector<
      std::pair<std::string, std::function<void(const Eigen::MatrixXd&, const Eigen::VectorXi&)>>>
      internal{
          {"silhouette_score", [](const Eigen::MatrixXd& x,
                                  const Eigen::VectorXi& l) { emcluster::silhouette_score(x, l); }},
          {"silhouette_samples",
           [](const Eigen::MatrixXd& x, const Eigen::VectorXi& l) {
             emcluster::silhouette_samples(x, l);
           }},
          {"calinski_harabasz_score",
           [](const Eigen::MatrixXd& x, const Eigen::VectorXi& l) {
             emcluster::calinski_harabasz_score(x, l);
           }},
          {"davies_bouldin_score",
           [](const Eigen::MatrixXd& x, const Eigen::VectorXi& l) {
             emcluster::davies_bouldin_score(x, l);
           }},
      };
  for (const auto& [name, f] : internal) {
    INFO(name);
    CHECK_NOTHROW(f(X, labels));
    require_throw_with<std::invalid_argument>(Fn([&, &f = f] { f(X, short_labels); }),
                                              name + ": labels has 5 entries but X has 6 rows");
    require_throw_with<std::invalid_argument>(Fn([&, &f = f] { f(X, Eigen::VectorXi::Zero(6)); }),
                                              "labels has 1 distinct value(s) among 6 samples");
    require_throw_with<std::invalid_argument>(
        Fn([&, &f = f] { f(X, Eigen::VectorXi::LinSpaced(6, 0, 5)); }),
        "valid numbers of labels are 2 to n_samples - 1 = 5");
    require_throw_with<std::invalid_argument>(Fn([&, &f = f] { f(X.topRows(1), labels.head(1)); }),
                                              name + ": needs at least 2 samples; 1");
    require_throw_with<std::invalid_argument>(
        Fn([&, &f = f] { f(X.topRows(2), labels.segment(2, 2)); }),
        "valid numbers of labels are 2 to n_samples - 1 = 1");
    Eigen::MatrixXd bad = X;
    bad(3, 1) = std::nan("");
    require_throw_with<std::invalid_argument>(
        Fn([&, &f = f] { f(bad, labels); }),
        name + ": X has a non-finite value (NaN) at row 3, column 1");
    bad(3, 1) = std::numeric_limits<double>::infinity();
    require_throw_with<std::invalid_argument>(Fn([&, &f = f] { f(bad, labels); }),
                                              "(Inf) at row 3, column 1");
    require_throw_with<std::invalid_argument>(
        Fn([&, &f = f] { f(Eigen::MatrixXd(0, 2), Eigen::VectorXi(0)); }), name + ": X is empty");
  }
  // Noise left out: the checks apply to what remains.
  Eigen::VectorXi noisy(6);
  noisy << 0, 0, -1, -1, -1, -1;
  require_throw_with<std::invalid_argument>(
      Fn([&] { emcluster::davies_bouldin_score(X, noisy, Noise::exclude); }),
      "davies_bouldin_score: labels has 1 distinct value(s) among 2 samples (after leaving out the "
      "noise label -1)");
  CHECK_NOTHROW(emcluster::davies_bouldin_score(X, noisy));  // -1 is a cluster by default
  Eigen::VectorXi all_noise = Eigen::VectorXi::Constant(6, -1);
  require_throw_with<std::invalid_argument>(
      Fn([&] { emcluster::silhouette_samples(X, all_noise, Noise::exclude); }),
      "silhouette_samples: needs at least 2 samples; 0");
  emcluster::SilhouetteOptions o;
  o.sample_size = -1;
  require_throw_with<std::invalid_argument>(
      Fn([&] { emcluster::silhouette_score(X, labels, o); }),
      "silhouette_score: options.sample_size = -1 must be >= 0");
  o.sample_size = 1;
  require_throw_with<std::invalid_argument>(
      Fn([&] { emcluster::silhouette_score(X, labels, o); }),
      "silhouette_score: needs at least 2 samples; 1 (in the sample");
  o.sample_size = 2;  // two rows hold 1 or 2 labels: neither is in 2 .. n - 1 = 1
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    o.seed = seed;
    require_throw_with<std::invalid_argument>(
        Fn([&] { emcluster::silhouette_score(X, labels, o); }),
        "among 2 samples (in the sample of options.sample_size rows)");
  }

  // External metrics: lengths, empty labelings, nothing left after excluding noise, beta.
  const std::vector<
      std::pair<std::string, std::function<void(const Eigen::VectorXi&, const Eigen::VectorXi&)>>>
      external{
          {"mutual_info_score",
           [](const Eigen::VectorXi& a, const Eigen::VectorXi& b) {
             emcluster::mutual_info_score(a, b);
           }},
          {"normalized_mutual_info_score",
           [](const Eigen::VectorXi& a, const Eigen::VectorXi& b) {
             emcluster::normalized_mutual_info_score(a, b);
           }},
          {"adjusted_mutual_info_score",
           [](const Eigen::VectorXi& a, const Eigen::VectorXi& b) {
             emcluster::adjusted_mutual_info_score(a, b);
           }},
          {"homogeneity_score",
           [](const Eigen::VectorXi& a, const Eigen::VectorXi& b) {
             emcluster::homogeneity_score(a, b);
           }},
          {"completeness_score",
           [](const Eigen::VectorXi& a, const Eigen::VectorXi& b) {
             emcluster::completeness_score(a, b);
           }},
          {"v_measure_score", [](const Eigen::VectorXi& a,
                                 const Eigen::VectorXi& b) { emcluster::v_measure_score(a, b); }},
          {"homogeneity_completeness_v_measure",
           [](const Eigen::VectorXi& a, const Eigen::VectorXi& b) {
             emcluster::homogeneity_completeness_v_measure(a, b);
           }},
          {"fowlkes_mallows_score",
           [](const Eigen::VectorXi& a, const Eigen::VectorXi& b) {
             emcluster::fowlkes_mallows_score(a, b);
           }},
      };
  for (const auto& [name, f] : external) {
    INFO(name);
    require_throw_with<std::invalid_argument>(
        Fn([&, &f = f] { f(labels, short_labels); }),
        name + ": labels_true has 6 entries but labels_pred has 5");
    require_throw_with<std::invalid_argument>(
        Fn([&, &f = f] { f(Eigen::VectorXi(0), Eigen::VectorXi(0)); }),
        name + ": labels_true is empty");
  }
  require_throw_with<std::invalid_argument>(
      Fn([&] { emcluster::adjusted_mutual_info_score(labels, all_noise, Noise::exclude); }),
      "adjusted_mutual_info_score: every sample is labelled -1 (noise) in labels_true or "
      "labels_pred");
  require_throw_with<std::invalid_argument>(
      Fn([&] { emcluster::v_measure_score(labels, labels, -1.0); }),
      "v_measure_score: beta = -1 must be finite and >= 0");
  require_throw_with<std::invalid_argument>(
      Fn([&] { emcluster::homogeneity_completeness_v_measure(labels, labels, std::nan("")); }),
      "homogeneity_completeness_v_measure: beta = nan must be finite and >= 0");
  CHECK(emcluster::v_measure_score(labels, noisy, 0.0) ==
        emcluster::homogeneity_score(labels, noisy));
}
