// Tests of emcluster/metrics.hpp: contingency table, pair counts, Rand and adjusted Rand index.
#include <catch2/catch.hpp>

#include "support/check.hpp"

#include <emcluster/detail/random.hpp>
#include <emcluster/metrics.hpp>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

Eigen::VectorXi vec(const std::vector<int>& v) {
  return Eigen::Map<const Eigen::VectorXi>(v.data(), Eigen::Index(v.size()));
}

// The two generated labelings also used in the scikit-learn script below.
Eigen::VectorXi gen_e_true() {
  Eigen::VectorXi v(50);
  for (int i = 0; i < 50; ++i) v(i) = (i * 7) % 5 - 1;
  return v;
}
Eigen::VectorXi gen_e_pred() {
  Eigen::VectorXi v(50);
  for (int i = 0; i < 50; ++i) v(i) = (i * i + 3) % 4;
  return v;
}
Eigen::VectorXi gen_i_true() {
  Eigen::VectorXi v(200);
  for (int i = 0; i < 200; ++i) v(i) = (i * i) % 7;
  return v;
}
Eigen::VectorXi gen_i_pred() {
  Eigen::VectorXi v(200);
  for (int i = 0; i < 200; ++i) v(i) = (i % 3) ? i % 7 : (i * 5) % 11;
  return v;
}

struct Case {
  const char* name;
  Eigen::VectorXi a, b;
  double ari, rand;
  std::int64_t tn, fp, fn, tp;  // scikit-learn's pair_confusion_matrix [[tn, fp], [fn, tp]]
};

// Reference values from scikit-learn 1.2.1 (Debian's /usr/bin/python3):
//   from sklearn.metrics import adjusted_rand_score as ari, rand_score as rs
//   from sklearn.metrics.cluster import pair_confusion_matrix as pcm
//   for a, b in cases: print(repr(ari(a, b)), repr(ari(b, a)), repr(rs(a, b)), pcm(a,
//   b).ravel().tolist())
// with E = ([(i*7)%5-1 for i in range(50)], [(i*i+3)%4 for i in range(50)]) and
// I = ([(i*i)%7 for i in range(200)], [(i%7 if i%3 else (i*5)%11) for i in range(200)]).
std::vector<Case> sklearn_cases() {
  return {
      {"A", vec({0, 0, 0, 1, 1, 1}), vec({0, 0, 1, 1, 2, 2}), 0.24242424242424243,
       0.6666666666666666, 16, 2, 8, 4},
      {"B (with -1)", vec({-1, -1, 0, 0, 1, 1, 2, 2, 2, -1}), vec({3, 3, 3, 0, 0, 1, 1, 1, -1, 5}),
       0.12078152753108348, 0.7555555555555555, 64, 10, 12, 4},
      {"C (permuted values)", vec({0, 0, 1, 1, 2, 2}), vec({5, 5, -1, -1, 9, 9}), 1.0, 1.0, 24, 0,
       0, 6},
      {"D (one cluster vs singletons)", vec({0, 0, 0, 0}), vec({0, 1, 2, 3}), 0.0, 0.0, 0, 0, 12,
       0},
      {"E (generated)", gen_e_true(), gen_e_pred(), -0.03375527426160337, 0.4897959183673469, 1000,
       1000, 250, 200},
      {"F (one sample)", vec({3}), vec({-7}), 1.0, 1.0, 0, 0, 0, 0},
      {"G (singletons both)", vec({0, 1, 2, 3}), vec({3, 2, 1, 0}), 1.0, 1.0, 12, 0, 0, 0},
      {"H (negative)", vec({0, 0, 1, 1}), vec({0, 1, 0, 1}), -0.5, 0.3333333333333333, 4, 4, 4, 0},
      {"I (generated)", gen_i_true(), gen_i_pred(), 0.28801392131013726, 0.77678391959799, 27978,
       1434, 7450, 2938},
  };
}

using emcluster_test::require_throw_with;

Eigen::VectorXi shift(const Eigen::VectorXi& v) { return (v.array() + 1).matrix(); }

// The textbook Hubert-Arabie formula from binomial coefficients, in long double, as an
// independent reference: (index - expected) / (max - expected).
double ari_reference(const Eigen::VectorXi& a, const Eigen::VectorXi& b) {  // labels >= 0
  const int ka = a.maxCoeff() + 1, kb = b.maxCoeff() + 1;
  Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic> t =
      Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>::Zero(ka, kb);
  for (Eigen::Index i = 0; i < a.size(); ++i) t(a(i), b(i)) += 1;
  auto c2 = [](long double x) { return x * (x - 1) / 2; };
  long double index = 0, sa = 0, sb = 0;
  for (int i = 0; i < ka; ++i) {
    for (int j = 0; j < kb; ++j) index += c2(t(i, j));
  }
  for (int i = 0; i < ka; ++i) sa += c2(t.row(i).sum());
  for (int j = 0; j < kb; ++j) sb += c2(t.col(j).sum());
  const long double expected = sa * sb / c2(static_cast<long double>(a.size()));
  return static_cast<double>((index - expected) / ((sa + sb) / 2 - expected));
}

}  // namespace

TEST_CASE("adjusted_rand_score and rand_score match scikit-learn 1.2.1", "[metrics]") {
  for (const auto& c : sklearn_cases()) {
    INFO("case " << c.name);
    CHECK(emcluster::adjusted_rand_score(c.a, c.b) == Approx(c.ari).epsilon(1e-14).margin(1e-15));
    CHECK(emcluster::adjusted_rand_score(c.b, c.a) == Approx(c.ari).epsilon(1e-14).margin(1e-15));
    CHECK(emcluster::rand_score(c.a, c.b) == Approx(c.rand).epsilon(1e-14));
    const emcluster::PairConfusion p = emcluster::pair_confusion(c.a, c.b);
    CHECK(p.apart_both == c.tn);
    CHECK(p.same_b_only == c.fp);
    CHECK(p.same_a_only == c.fn);
    CHECK(p.same_both == c.tp);
  }
}

TEST_CASE("adjusted_rand_score: identical partitions score exactly 1, symmetric", "[metrics]") {
  emcluster::detail::Random rng(17);
  Eigen::VectorXi a(1000), permuted(1000), b(1000);
  const int relabel[6] = {42, -1, 7, 0, 1000000, -5};  // a permutation of the values, incl. -1
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    a(i) = static_cast<int>(rng.uniform_index(6));
    permuted(i) = relabel[a(i)];
    b(i) = static_cast<int>(rng.uniform_index(4)) - 1;
  }
  CHECK(emcluster::adjusted_rand_score(a, a) == 1.0);
  CHECK(emcluster::adjusted_rand_score(a, permuted) == 1.0);
  CHECK(emcluster::rand_score(permuted, a) == 1.0);
  const double ab = emcluster::adjusted_rand_score(a, b);
  CHECK(ab == emcluster::adjusted_rand_score(b, a));
  CHECK(ab == Approx(ari_reference(a, shift(b))).margin(1e-14));
  CHECK(std::abs(ab) < 0.02);  // independent labelings score about 0

  // Other integral types and row vectors.
  const Eigen::Matrix<std::int64_t, 1, Eigen::Dynamic> a64 = a.cast<std::int64_t>().transpose();
  const Eigen::Matrix<short, Eigen::Dynamic, 1> b16 = b.cast<short>();
  CHECK(emcluster::adjusted_rand_score(a64, b16) == ab);
  CHECK(emcluster::adjusted_rand_score(a.segment(0, 500), b.head(500)) ==
        Approx(ari_reference(a.head(500), shift(b.head(500)))).margin(1e-14));
}

TEST_CASE("adjusted_rand_score stays exact on millions of samples, where pair counts overflow",
          "[metrics]") {
  // n = 3e6: pair counts ~ 9e12 overflow 32 bits and their products ~1e25 overflow 64 bits.
  const Eigen::Index n = 3000000;
  Eigen::VectorXi truth(n), noisy(n), random(n);
  emcluster::detail::Random rng(99);
  for (Eigen::Index i = 0; i < n; ++i) {
    truth(i) = static_cast<int>(i % 5);
    noisy(i) = rng.uniform() < 0.1 ? static_cast<int>(rng.uniform_index(5)) : truth(i);
    random(i) = static_cast<int>(rng.uniform_index(5));
  }
  CHECK(emcluster::adjusted_rand_score(truth, truth) == 1.0);
  const double r = emcluster::adjusted_rand_score(truth, random);
  CHECK(std::abs(r) < 1e-4);
  const double s = emcluster::adjusted_rand_score(truth, noisy);
  CHECK(s == Approx(ari_reference(truth, noisy)).margin(1e-12));
  CHECK(s > 0.7);
  CHECK(s < 0.9);
}

TEST_CASE("contingency_table counts every pair of label values, the values sorted", "[metrics]") {
  const auto t = emcluster::contingency_table(vec({0, 0, 1, 1}), vec({7, -1, 7, 7}));
  CHECK(t.values_a == std::vector<int>{0, 1});
  CHECK(t.values_b == std::vector<int>{-1, 7});
  Eigen::MatrixXi expected(2, 2);
  expected << 1, 1, 0, 2;
  CHECK(t.counts == expected);

  // scikit-learn 1.2.1: contingency_matrix(B_true, B_pred) for case B above.
  const auto tb = emcluster::contingency_table(vec({-1, -1, 0, 0, 1, 1, 2, 2, 2, -1}),
                                               vec({3, 3, 3, 0, 0, 1, 1, 1, -1, 5}));
  Eigen::MatrixXi eb(4, 5);
  eb << 0, 0, 0, 2, 1,  //
      0, 1, 0, 1, 0,    //
      0, 1, 1, 0, 0,    //
      1, 0, 2, 0, 0;
  CHECK(tb.values_a == std::vector<int>{-1, 0, 1, 2});
  CHECK(tb.values_b == std::vector<int>{-1, 0, 1, 3, 5});
  CHECK(tb.counts == eb);
  CHECK(tb.counts.sum() == 10);
}

TEST_CASE(
    "metrics: labelings of different lengths, empty or not vectors throw std::invalid_argument",
    "[metrics]") {
  const Eigen::VectorXi a = vec({0, 1, 1}), b = vec({0, 1});
  require_throw_with<std::invalid_argument>([&] { emcluster::adjusted_rand_score(a, b); },
                                            "3 entries");
  require_throw_with<std::invalid_argument>([&] { emcluster::rand_score(a, b); },
                                            "labels_pred has 2");
  require_throw_with<std::invalid_argument>([&] { emcluster::contingency_table(a, b); },
                                            "labels_b has 2");
  require_throw_with<std::invalid_argument>(
      [&] { emcluster::adjusted_rand_score(Eigen::VectorXi(), Eigen::VectorXi()); },
      "labels_true is empty");
  require_throw_with<std::invalid_argument>(
      [&] { emcluster::contingency_table(a, Eigen::VectorXi()); }, "labels_b is empty");
  require_throw_with<std::invalid_argument>(
      [&] {
        emcluster::adjusted_rand_score(Eigen::MatrixXi::Zero(2, 3), Eigen::VectorXi::Zero(6));
      },
      "vector");
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> big(3);
  big << 0, 1, std::int64_t(1) << 40;
  require_throw_with<std::invalid_argument>([&] { emcluster::adjusted_rand_score(a, big); },
                                            "labels_pred(2)");
}
