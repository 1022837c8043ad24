// KMeans, specified: the estimator contract; Lloyd's iterations against a plain reference and
// against scikit-learn; Hamerly's algorithm against Lloyd; initialisation and empty clusters;
// the methods on new data; option errors; reproducibility; recovery of known clusters.
#include <catch2/catch.hpp>

#include <emcluster/datasets.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/metrics.hpp>
#include <emcluster/preprocessing.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/contract.hpp"
#include "support/data.hpp"
#include "support/fixtures.hpp"
#include "support/reference.hpp"

using emcluster::AssignKernel;
using emcluster::KMeans;
using emcluster::KMeansAlgorithm;
using emcluster::KMeansInit;
using emcluster::KMeansIteration;
using namespace emcluster_test;

// =============================================================================================
// The estimator contract (support/contract.hpp)

namespace emcluster_test::contract {

template <typename S>
struct Traits<KMeans<S>> {
  using E = KMeans<S>;
  using Scalar = S;
  static constexpr const char* name = "KMeans";
  static constexpr bool weighted = true;
  static constexpr Eigen::Index parallel_rows = 50000;  // n_init = 0 subsamples from 8 * 4096 rows

  static std::vector<Variant<E>> variants() {
    std::vector<Variant<E>> out;
    for (int n_init : {0, 1}) {
      for (KMeansInit init : {KMeansInit::kmeans_plus_plus, KMeansInit::random_box}) {
        for (KMeansAlgorithm algorithm : {KMeansAlgorithm::lloyd, KMeansAlgorithm::hamerly}) {
          typename E::Options o;
          o.n_clusters = 3;
          o.n_init = n_init;
          o.init = init;
          o.algorithm = algorithm;
          o.seed = 29;
          out.push_back(
              {std::string(init == KMeansInit::kmeans_plus_plus ? "k-means++" : "random_box") +
                   (n_init == 0 ? ", n_init auto" : ", one run") +
                   (algorithm == KMeansAlgorithm::lloyd ? ", Lloyd" : ", Hamerly"),
               o});
        }
      }
    }
    typename E::Options o;
    o.n_clusters = 3;
    o.init = KMeansInit::explicit_centers;
    o.initial_centers =
        (Eigen::MatrixXd(3, 3) << -4, 0, 0, 0, 4, 0, 4, 0, 4).finished().template cast<S>();
    o.kernel = AssignKernel::gemm;
    out.push_back({"explicit centres, GEMM kernel", o});
    return out;
  }
  static Eigen::Index groups(const E& e) { return e.n_clusters(); }
  static void configuration(const E& e) {
    (void)e.options();
    (void)e.n_clusters();
    (void)e.is_fitted();
  }
  static std::vector<Call<E>> fitted_accessors() {
    return {{"cluster_centers", [](const E& e) { (void)e.cluster_centers(); }},
            {"labels", [](const E& e) { (void)e.labels(); }},
            {"inertia", [](const E& e) { (void)e.inertia(); }},
            {"n_iter", [](const E& e) { (void)e.n_iter(); }},
            {"converged", [](const E& e) { (void)e.converged(); }},
            {"n_features", [](const E& e) { (void)e.n_features(); }}};
  }
  static std::vector<DataCall<E>> new_data_methods() {
    return {{"predict", [](const E& e, const Matrix<S>& X) { (void)e.predict(X); }},
            {"transform", [](const E& e, const Matrix<S>& X) { (void)e.transform(X); }},
            {"score", [](const E& e, const Matrix<S>& X) { (void)e.score(X); }},
            {"score", [](const E& e, const Matrix<S>& X) {
               (void)e.score(X, Eigen::VectorXd::Ones(X.rows()));
             }}};
  }
  static std::vector<FitCall<E>> failing_calls(const Matrix<S>& X) {
    Matrix<S> bad = X;
    bad(2, 0) = std::numeric_limits<S>::quiet_NaN();
    return {{"fit_predict: NaN", {"row 2, column 0"}, [bad](E& e) { e.fit_predict(bad); }},
            {"fit_predict: sample weights that sum to zero", {"zero"}, [X](E& e) {
               e.fit_predict(X, Eigen::VectorXd::Zero(X.rows()));
             }}};
  }
  static Record state(const E& e) {
    return Record()
        .add("cluster_centers", e.cluster_centers())
        .add("labels", e.labels())
        .add("inertia", e.inertia())
        .add("n_iter", e.n_iter())
        .add("converged", e.converged())
        .add("n_features", static_cast<double>(e.n_features()));
  }
  template <typename D>
  static Record outputs(const E& e, const Eigen::MatrixBase<D>& X) {
    return Record()
        .add("predict", e.predict(X))
        .add("transform", e.transform(X))
        .add("score", e.score(X));
  }
};

}  // namespace emcluster_test::contract

EMCLUSTER_ESTIMATOR_CONTRACT("[kmeans]", emcluster::KMeans<float>, emcluster::KMeans<double>)

// =============================================================================================
// Helpers: KMeans from explicit centres, held to the reference's whole trajectory

namespace {

KMeans<>::Options explicit_options(const Eigen::MatrixXd& init, double tol, int max_iter = 300) {
  KMeans<>::Options o;
  o.n_clusters = init.rows();
  o.init = KMeansInit::explicit_centers;
  o.initial_centers = init;
  o.tol = tol;
  o.max_iter = max_iter;
  return o;
}

void check_against_reference(const Eigen::MatrixXd& X, const Eigen::VectorXd& w,
                             const Eigen::MatrixXd& init, double tol, AssignKernel kernel,
                             const LloydRun& ref,
                             KMeansAlgorithm algorithm = KMeansAlgorithm::lloyd) {
  auto o = explicit_options(init, tol);
  o.kernel = kernel;
  o.algorithm = algorithm;
  const bool hamerly = algorithm == KMeansAlgorithm::hamerly;
  std::vector<KMeansIteration> seen;
  o.callback = [&](const KMeansIteration& it) { seen.push_back(it); };
  KMeans<> km(o);
  if (w.size()) {
    km.fit(X, w);
  } else {
    km.fit(X);
  }
  // The whole trajectory, not only the fixed point it ends in: every iteration's inertia and
  // centre shift (a wrong relocation or update step often converges to the same centres).
  REQUIRE(seen.size() == ref.inertias.size());
  for (std::size_t t = 0; t < seen.size(); ++t) {
    INFO("iteration " << t + 1);
    CHECK(seen[t].restart == 0);
    CHECK(seen[t].iteration == static_cast<int>(t) + 1);
    if (hamerly) {
      CHECK(std::isnan(seen[t].inertia));  // Hamerly's passes do not compute it
    } else {
      CHECK(seen[t].inertia == Approx(ref.inertias[t]).epsilon(1e-12));
    }
    CHECK(std::abs(seen[t].center_shift - ref.shifts[t]) <=
          1e-10 * std::sqrt(std::max(seen[t].center_shift, ref.shifts[t])) + 1e-20);
  }
  CHECK((km.cluster_centers() - ref.centers).cwiseAbs().maxCoeff() <= 1e-10);
  CHECK((km.labels().array() == ref.labels.array()).all());
  CHECK(km.n_iter() == ref.n_iter);
  CHECK(km.converged() == ref.converged);
  CHECK(km.inertia() == Approx(ref.inertia).epsilon(1e-12));
}

}  // namespace

// =============================================================================================
// Lloyd's algorithm: the plain reference and scikit-learn

TEST_CASE(
    "KMeans: every Lloyd iteration equals the plain reference's, for every kernel and algorithm",
    "[kmeans]") {
  struct Setup {
    const char* name;
    Eigen::MatrixXd X;
    Eigen::VectorXd w;
    Eigen::MatrixXd init;
    double tol;
    bool expect_relocation;
  };
  std::vector<Setup> setups;
  {
    const Eigen::MatrixXd X = blobs(1000, 5, 6, 4.0, 1);
    const Eigen::MatrixXd init =
        pick_rows(X, {0, 1, 2, 3, 6, 12});  // three from blob 0: many iterations
    setups.push_back({"overlapping blobs, tol 1e-4", X, Eigen::VectorXd(), init, 1e-4, false});
    setups.push_back({"overlapping blobs, tol 0", X, Eigen::VectorXd(), init, 0.0, false});
    setups.push_back(
        {"overlapping blobs, weighted", X, positive_weights(1000, 2), init, 1e-4, false});
  }
  {
    // One initial centre far away from all data: empty in the first iteration.
    const Eigen::MatrixXd X = blobs(700, 3, 4, 3.0, 3);
    Eigen::MatrixXd init = pick_rows(X, {5, 9, 20, 33, 41});
    init.row(4) << 100, -80, 60;
    setups.push_back({"far centre", X, Eigen::VectorXd(), init, 0.0, true});
    // Zero weights never relocate: the farthest sample of all (an outlier) has weight 0.
    Eigen::MatrixXd Xo = X;
    Xo.row(0) << 25, 25, -25;
    Eigen::VectorXd w = positive_weights(700, 4);
    for (Eigen::Index i = 0; i < 700; i += 7) w(i) = 0;
    setups.push_back({"far centre, weighted with zeros", Xo, w, init, 1e-4, true});
    // Two far centres at once: the two farthest samples, farthest to the lower index.
    Eigen::MatrixXd init2 = init;
    init2.row(3) << -90, 70, 100;
    setups.push_back({"two far centres", X, Eigen::VectorXd(), init2, 0.0, true});
  }
  {
    // Several chunks (12 blocks of 256 rows) and duplicated initial centres.
    const Eigen::MatrixXd X = blobs(3000, 2, 5, 5.0, 5);
    Eigen::MatrixXd init = pick_rows(X, {0, 1, 2, 3, 4, 5, 6});
    init.row(6) = init.row(5);  // the copy with the higher index starts empty
    setups.push_back({"chunks, duplicated centre", X, positive_weights(3000, 6), init, 1e-4, true});
  }
  for (const auto& s : setups) {
    const LloydRun ref = reference_lloyd(s.X, s.w, s.init, s.tol, 300);
    INFO(s.name << ": reference n_iter " << ref.n_iter << ", relocations " << ref.relocations);
    CHECK(ref.n_iter > 2);
    CHECK((ref.relocations > 0) == s.expect_relocation);
    for (AssignKernel kernel :
         {AssignKernel::automatic, AssignKernel::direct, AssignKernel::gemm}) {
      for (KMeansAlgorithm algorithm : {KMeansAlgorithm::lloyd, KMeansAlgorithm::hamerly}) {
        INFO("kernel " << static_cast<int>(kernel) << ", algorithm "
                       << static_cast<int>(algorithm));
        check_against_reference(s.X, s.w, s.init, s.tol, kernel, ref, algorithm);
      }
    }
  }
}

TEST_CASE("KMeans: stops on the tolerance or after max_iter, as the reference does", "[kmeans]") {
  const Eigen::MatrixXd X = blobs(1000, 5, 6, 4.0, 1);
  const Eigen::MatrixXd init = pick_rows(X, {0, 1, 2, 3, 6, 12});
  const LloydRun strict = reference_lloyd(X, Eigen::VectorXd(), init, 0.0, 300);
  const LloydRun loose = reference_lloyd(X, Eigen::VectorXd(), init, 1e-2, 300);
  CHECK(loose.n_iter < strict.n_iter);  // the tolerance path is exercised, not only stable labels
  check_against_reference(X, Eigen::VectorXd(), init, 1e-2, AssignKernel::automatic, loose);
  // max_iter cuts the run short: not converged, labels still re-assigned to the last centres.
  const LloydRun cut = reference_lloyd(X, Eigen::VectorXd(), init, 0.0, 2);
  CHECK_FALSE(cut.converged);
  CHECK(cut.n_iter == 2);
  auto o = explicit_options(init, 0.0, 2);
  KMeans<> km(o);
  km.fit(X);
  CHECK_FALSE(km.converged());
  CHECK(km.n_iter() == 2);
  CHECK((km.cluster_centers() - cut.centers).cwiseAbs().maxCoeff() <= 1e-10);
  CHECK((km.labels().array() == cut.labels.array()).all());
}

TEST_CASE("KMeans: agrees with scikit-learn 1.2.1 from the same initial centres",
          "[kmeans][sklearn]") {
  const Eigen::MatrixXd X = read_csv("kmeans_sklearn_X.csv");
  const Eigen::VectorXd w = read_csv("kmeans_sklearn_weights.csv").col(0);
  REQUIRE(X.rows() == 300);
  REQUIRE(X.cols() == 3);
  REQUIRE(w.size() == 300);
  const auto cases = read_kmeans_cases(X.rows());
  REQUIRE(cases.size() == 7);
  double max_center_diff = 0, max_inertia_diff = 0;
  for (const auto& c : cases) {
    INFO("case " << c.name);
    const Eigen::VectorXd wc = c.weighted ? w : Eigen::VectorXd();
    KMeans<> km(explicit_options(c.init, c.tol));
    if (c.weighted) {
      km.fit(X, w);
    } else {
      km.fit(X);
    }
    const double center_diff = (km.cluster_centers() - c.centers).cwiseAbs().maxCoeff();
    const double inertia_diff = std::abs(km.inertia() - c.inertia);
    max_center_diff = std::max(max_center_diff, center_diff);
    max_inertia_diff = std::max(max_inertia_diff, inertia_diff);
    CHECK(center_diff <= 1e-8);
    CHECK(inertia_diff <= 1e-8);
    CHECK((km.labels().array() == c.labels.array()).all());
    CHECK(km.n_iter() == c.n_iter);
    // The test's reference agrees with scikit-learn too, so both hold each other honest.
    const LloydRun ref = reference_lloyd(X, wc, c.init, c.tol, 300);
    CHECK((ref.centers - c.centers).cwiseAbs().maxCoeff() <= 1e-8);
    CHECK(ref.n_iter == c.n_iter);
    CHECK((ref.labels.array() == c.labels.array()).all());
    if (c.name.find("far") != std::string::npos) CHECK(ref.relocations == 1);
  }
  std::cout << "KMeans vs scikit-learn 1.2.1 (" << cases.size()
            << " cases): max |centre diff| = " << max_center_diff
            << ", max |inertia diff| = " << max_inertia_diff << "\n";
}

TEST_CASE("KMeans: the inertia never increases from one iteration to the next", "[kmeans]") {
  const Eigen::MatrixXd X = blobs(2000, 3, 6, 3.0, 7);
  struct Run {
    KMeansInit init;
    int n_init;
    bool weighted;
  };
  for (const Run& r :
       {Run{KMeansInit::kmeans_plus_plus, 3, false}, Run{KMeansInit::random_box, 4, false},
        Run{KMeansInit::random_box, 2, true}, Run{KMeansInit::random_samples, 2, true}}) {
    INFO("init " << static_cast<int>(r.init) << ", weighted " << r.weighted);
    std::vector<KMeansIteration> seen;
    KMeans<>::Options o;
    o.n_clusters = 8;
    o.init = r.init;
    o.n_init = r.n_init;
    o.tol = 0;
    o.seed = 11;
    o.callback = [&](const KMeansIteration& it) { seen.push_back(it); };
    KMeans<> km(o);
    if (r.weighted) {
      km.fit(X, positive_weights(X.rows(), 8));
    } else {
      km.fit(X);
    }
    REQUIRE(seen.size() >= 2u);
    int restarts = 1, increases = 0;
    for (std::size_t t = 1; t < seen.size(); ++t) {
      if (seen[t].restart != seen[t - 1].restart) {
        CHECK(seen[t].restart == seen[t - 1].restart + 1);
        CHECK(seen[t].iteration == 1);
        ++restarts;
        continue;
      }
      CHECK(seen[t].iteration == seen[t - 1].iteration + 1);
      CHECK(seen[t].center_shift >= 0);
      if (seen[t].inertia > seen[t - 1].inertia * (1 + 1e-12)) ++increases;
    }
    CHECK(increases == 0);
    CHECK(restarts == r.n_init);
    CHECK(seen.front().iteration == 1);
  }
}

// =============================================================================================
// Hamerly's algorithm: Lloyd's result with fewer distance computations

TEST_CASE("KMeans: Hamerly's algorithm gives the labels, iterations and centres of plain Lloyd",
          "[kmeans][hamerly]") {
  // Overlapping blobs and a bad start: dozens of iterations with many samples changing
  // cluster, most of them skipped by the bounds in the later ones. Several chunks.
  struct Shape {
    Eigen::Index n, d, k;
  };
  for (const Shape sh :
       {Shape{6000, 16, 12}, Shape{3000, 40, 30}, Shape{5000, 3, 4}, Shape{2000, 8, 1}}) {
    const Eigen::MatrixXd Xd = blobs(sh.n, sh.d, std::max<Eigen::Index>(sh.k, 2), 1.0, 71 + sh.d);
    Eigen::MatrixXd init = Xd.topRows(sh.k);
    for (bool weighted : {false, true}) {
      const Eigen::VectorXd w = weighted ? positive_weights(sh.n, 73) : Eigen::VectorXd();
      for (AssignKernel kernel : {AssignKernel::direct, AssignKernel::gemm}) {
        INFO("n " << sh.n << ", d " << sh.d << ", k " << sh.k << ", weighted " << weighted
                  << ", kernel " << static_cast<int>(kernel));
        // layout 0: column-major; 1: a Map of a row-major buffer (Hamerly gathers the failing
        // rows straight from X); 2: a block of a wider row-major matrix (rows with an outer
        // stride). The same types as the estimator contract's layouts.
        auto fit = [&](auto scalar, KMeansAlgorithm algorithm, int layout = 0) {
          using S = decltype(scalar);
          using RowMajor = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
          typename KMeans<S>::Options o;
          o.n_clusters = sh.k;
          o.init = KMeansInit::explicit_centers;
          o.initial_centers = init.cast<S>();
          o.tol = 0;
          o.kernel = kernel;
          o.algorithm = algorithm;
          KMeans<S> km(o);
          auto run = [&](const auto& X) {
            if (weighted) {
              km.fit(X, w);
            } else {
              km.fit(X);
            }
          };
          if (layout == 0) {
            run(Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>(Xd.cast<S>()));
          } else if (layout == 1) {
            const RowMajor rows = Xd.cast<S>();
            run(Eigen::Map<const RowMajor>(rows.data(), sh.n, sh.d));
          } else {
            RowMajor wide = RowMajor::Constant(sh.n + 2, sh.d + 3, S(1e6));
            wide.block(1, 2, sh.n, sh.d) = Xd.cast<S>();
            run(wide.block(1, 2, sh.n, sh.d));
          }
          return km;
        };
        const auto plain = fit(double(), KMeansAlgorithm::lloyd);
        const auto fast = fit(double(), KMeansAlgorithm::hamerly);
        CHECK(plain.n_iter() > (sh.k > 1 ? 5 : 0));
        CHECK(fast.n_iter() == plain.n_iter());
        CHECK(fast.converged() == plain.converged());
        CHECK(fast.labels() == plain.labels());
        CHECK((fast.cluster_centers() - plain.cluster_centers()).cwiseAbs().maxCoeff() <= 1e-12);
        CHECK(fast.inertia() == Approx(plain.inertia()).epsilon(1e-13));
        const auto plain_f = fit(float(), KMeansAlgorithm::lloyd);
        const auto fast_f = fit(float(), KMeansAlgorithm::hamerly);
        CHECK(fast_f.n_iter() == plain_f.n_iter());
        CHECK(fast_f.labels() == plain_f.labels());
        CHECK((fast_f.cluster_centers() - plain_f.cluster_centers()).cwiseAbs().maxCoeff() <=
              1e-5f);
        CHECK(fast_f.inertia() == Approx(plain_f.inertia()).epsilon(1e-6));
        for (int layout : {1, 2}) {
          INFO("layout " << layout);
          const auto rows_d = fit(double(), KMeansAlgorithm::hamerly, layout);
          CHECK(rows_d.labels() == fast.labels());
          CHECK(rows_d.cluster_centers() == fast.cluster_centers());  // bitwise
          CHECK(rows_d.n_iter() == fast.n_iter());
          const auto rows_f = fit(float(), KMeansAlgorithm::hamerly, layout);
          CHECK(rows_f.labels() == fast_f.labels());
          CHECK(rows_f.cluster_centers() == fast_f.cluster_centers());
        }
      }
    }
  }
}

namespace {

/// Runs lloyd_pass with and without the single sweep on the same input and requires the same
/// labels and the same bits in every statistic.
template <typename Matrix>
void require_sweep_matches_reference(const Matrix& X, const Eigen::MatrixXd& centres,
                                     const double* w, bool accumulate) {
  using Scalar = typename Matrix::Scalar;
  namespace ed = emcluster::detail;
  const ed::PreparedCenters<Scalar> C(centres);
  REQUIRE(ed::uses_single_sweep(C.k(), C.d(),
                                ed::choose_kernel(AssignKernel::automatic, C.k(), C.d())));
  // Previous labels: some equal to the new ones, some not, so that `changed` counts both.
  Eigen::VectorXi fast(X.rows()), reference(X.rows());
  for (Eigen::Index i = 0; i < X.rows(); ++i) fast(i) = reference(i) = int(i % (C.k() + 1)) - 1;
  const ed::LloydStats a = ed::lloyd_pass(X, w, C, fast.data(), accumulate);
  const ed::LloydStats b = ed::lloyd_pass(X, w, C, reference.data(), accumulate,
                                          AssignKernel::automatic, /*sweep=*/false);
  REQUIRE(fast == reference);
  REQUIRE(a.size() == b.size());
  for (std::size_t v = 0; v < a.size(); ++v) {
    INFO("statistic " << v << " of " << a.size());
    REQUIRE(std::memcmp(a.data() + v, b.data() + v, sizeof(double)) == 0);
  }
}

}  // namespace

TEST_CASE("KMeans: the single sweep for few centres and features gives its reference's bits",
          "[kmeans][kernels]") {
  // sweep_small_block (assignment, labels and masked statistics in one pass over a block)
  // against the separate passes it replaces, for the shapes compiled for their sizes and
  // for the general body, rows that are not a multiple of a step or a block, several
  // chunks, weights, both scalar types and both storage orders.
  emcluster::detail::Random rng(17);
  const std::vector<std::pair<Eigen::Index, Eigen::Index>> shapes = {
      {1, 1}, {2, 1}, {3, 2}, {4, 4}, {2, 3}, {5, 2}, {7, 1}, {3, 5}, {2, 10}, {1, 20}};
  for (const auto& [k, d] : shapes) {
    for (const Eigen::Index n : {Eigen::Index(1), Eigen::Index(15), Eigen::Index(17),
                                 Eigen::Index(261), Eigen::Index(70001)}) {
      if (n < k) continue;
      Eigen::MatrixXd X(n, d);
      for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index f = 0; f < d; ++f) X(i, f) = rng.normal() * 3 + double(i % 3);
      Eigen::MatrixXd centres(k, d);
      for (Eigen::Index j = 0; j < k; ++j) centres.row(j) = X.row((j * 7919) % n);
      Eigen::VectorXd w(n);
      for (Eigen::Index i = 0; i < n; ++i) w(i) = rng.uniform(0.1, 3.0);
      const contract::RowMatrix<double> Xr = X;
      const contract::RowMatrix<float> Xf = X.cast<float>();
      const Eigen::MatrixXf Xfc = X.cast<float>();
      INFO("k = " << k << ", d = " << d << ", n = " << n);
      for (const bool accumulate : {true, false}) {
        for (const double* wp :
             {static_cast<const double*>(nullptr), static_cast<const double*>(w.data())}) {
          require_sweep_matches_reference(Xr, centres, wp, accumulate);
          require_sweep_matches_reference(X, centres, wp, accumulate);
          require_sweep_matches_reference(Xf, centres, wp, accumulate);
          require_sweep_matches_reference(Xfc, centres, wp, accumulate);
        }
      }
    }
  }
}

TEST_CASE("KMeans: Hamerly's passes skip most samples once the centres settle",
          "[kmeans][hamerly]") {
  // The passes themselves, driven like KMeans does: the bounds must actually prune (or the
  // test above would pass with a plain Lloyd in disguise), and every pass must leave the
  // labels a plain pass gives for the same centres.
  const Eigen::MatrixXd X = blobs(20000, 10, 8, 1.5, 89);  // 20000 rows: parallel chunks
  const Eigen::Index k = 8;
  emcluster::detail::PreparedCenters<double> C(Eigen::MatrixXd(X.topRows(k)));
  emcluster::detail::HamerlyState state(X.rows(), k, X.cols());
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(X.rows(), -1), plain(X.rows());
  std::vector<Eigen::Index> assigned;
  for (int it = 0; it < 30; ++it) {
    const Eigen::Index changed = emcluster::detail::hamerly_pass(X, nullptr, C, labels.data(),
                                                                 state, AssignKernel::automatic);
    assigned.push_back(state.assigned);
    plain.setConstant(-1);
    emcluster::detail::lloyd_pass(X, nullptr, C, plain.data(), false);
    INFO("pass " << it);
    REQUIRE(labels == plain);
    // The running sums are those of the labels.
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, X.cols());
    Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      sums.row(labels(i)) += X.row(i);
      counts(labels(i)) += 1;
    }
    CHECK((state.sums - sums).cwiseAbs().maxCoeff() <= 1e-9);
    CHECK(state.weights == counts);
    if (changed == 0) break;
    Eigen::MatrixXd updated = C.centers_d;
    for (Eigen::Index j = 0; j < k; ++j) {
      if (state.weights(j) > 0) updated.row(j) = state.sums.row(j) / state.weights(j);
    }
    emcluster::detail::PreparedCenters<double> next(updated);
    state.centres_moved(C.centers_d, next.centers_d);
    C = std::move(next);
  }
  REQUIRE(assigned.size() >= 6u);
  CHECK(assigned.front() == X.rows());    // the first pass assigns everyone
  CHECK(assigned.back() < X.rows() / 4);  // the last ones skip most
}

TEST_CASE("KMeans: automatic gives Lloyd's result, and callbacks see NaN inertias under Hamerly",
          "[kmeans][hamerly]") {
  const Eigen::MatrixXd X =
      blobs(2000, 8, 5, 2.0, 79);  // 64 bytes per sample: automatic is Hamerly
  KMeans<>::Options o;
  o.n_clusters = 5;
  o.n_init = 1;
  o.seed = 83;
  std::vector<double> inertias;
  o.callback = [&](const KMeansIteration& it) { inertias.push_back(it.inertia); };
  KMeans<> with_callback(o);  // a callback wants every inertia: automatic runs plain Lloyd
  with_callback.fit(X);
  REQUIRE(inertias.size() >= 2u);
  CHECK(std::all_of(inertias.begin(), inertias.end(), [](double v) { return std::isfinite(v); }));
  inertias.clear();
  o.algorithm = KMeansAlgorithm::hamerly;
  KMeans<> hamerly(o);
  hamerly.fit(X);
  REQUIRE(inertias.size() == static_cast<std::size_t>(hamerly.n_iter()));
  CHECK(std::all_of(inertias.begin(), inertias.end(), [](double v) { return std::isnan(v); }));
  CHECK(std::isfinite(hamerly.inertia()));
  o.callback = nullptr;
  o.algorithm = KMeansAlgorithm::automatic;
  KMeans<> automatic(o);
  automatic.fit(X);
  CHECK(automatic.labels() == with_callback.labels());
  CHECK(automatic.labels() == hamerly.labels());
  CHECK((automatic.cluster_centers() - with_callback.cluster_centers()).cwiseAbs().maxCoeff() <=
        1e-12);
  CHECK(automatic.inertia() == Approx(with_callback.inertia()).epsilon(1e-13));
}

// =============================================================================================
// Initialisation and empty clusters

TEST_CASE("KMeans: clusters left empty by random_box init are re-seeded, so none stays empty",
          "[kmeans]") {
  // Blobs far apart in a large box: uniform centres in the box mostly land in empty space.
  const Eigen::MatrixXd X = blobs(600, 2, 3, 50.0, 9);
  KMeans<>::Options o;
  o.n_clusters = 6;
  o.init = KMeansInit::random_box;
  o.n_init = 1;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    o.seed = seed;
    KMeans<> km(o);
    km.fit(X);
    // Every cluster owns at least one sample (k never shrinks), no NaN anywhere.
    std::vector<int> counts(6, 0);
    for (Eigen::Index i = 0; i < X.rows(); ++i) ++counts[static_cast<std::size_t>(km.labels()(i))];
    for (int c : counts) CHECK(c > 0);
    CHECK(km.cluster_centers().allFinite());
  }
}

TEST_CASE("KMeans: k-means++ with k = n puts a centre on every point, and duplicates give no NaN",
          "[kmeans]") {
  SECTION("k = n distinct points") {
    const Eigen::MatrixXd X = blobs(25, 2, 3, 5.0, 53);
    for (KMeansInit init : {KMeansInit::kmeans_plus_plus, KMeansInit::random_samples}) {
      KMeans<>::Options o;
      o.n_clusters = 25;
      o.init = init;
      o.n_init = 1;
      o.seed = 59;
      double first_inertia = -1;
      o.callback = [&](const KMeansIteration& it) {
        if (it.iteration == 1) first_inertia = it.inertia;
      };
      KMeans<> km(o);
      km.fit(X);
      // Already the initial centres sit on every point (the relocation of empty clusters
      // would hide duplicated initial centres in the final result).
      CHECK(first_inertia == 0.0);
      CHECK(km.inertia() == 0.0);
      // Every point is a centre, and every centre a point: labels are a permutation.
      std::vector<int> hits(25, 0);
      for (Eigen::Index i = 0; i < 25; ++i) {
        const int l = km.labels()(i);
        ++hits[static_cast<std::size_t>(l)];
        CHECK(km.cluster_centers().row(l) == X.row(i));
      }
      CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
    }
  }
  SECTION("fewer distinct points than clusters") {
    Eigen::MatrixXd X(12, 2);
    for (Eigen::Index i = 0; i < 12; ++i)
      X.row(i) << static_cast<double>(i % 3), static_cast<double>(2 * (i % 3));
    const Eigen::VectorXd w = positive_weights(12, 61);
    for (KMeansInit init :
         {KMeansInit::kmeans_plus_plus, KMeansInit::random_samples, KMeansInit::random_box}) {
      for (bool weighted : {false, true}) {
        INFO("init " << static_cast<int>(init) << ", weighted " << weighted);
        KMeans<>::Options o;
        o.n_clusters = 5;
        o.init = init;
        o.n_init = 3;
        o.seed = 67;
        KMeans<> km(o);
        if (weighted) {
          km.fit(X, w);
        } else {
          km.fit(X);
        }
        CHECK(km.cluster_centers().allFinite());
        CHECK(km.inertia() == 0.0);
        CHECK(km.labels().minCoeff() >= 0);
        CHECK(km.labels().maxCoeff() < 5);
        CHECK(km.transform(X).allFinite());
      }
    }
    // All points identical: still finite.
    KMeans<>::Options o;
    o.n_clusters = 3;
    KMeans<> km(o);
    km.fit(Eigen::MatrixXd::Constant(10, 2, 1.5));
    CHECK(km.cluster_centers().allFinite());
    CHECK(km.inertia() == 0.0);
  }
}

// =============================================================================================
// Methods on new data

TEST_CASE(
    "KMeans: transform gives the distances, predict the nearest centre, score minus the inertia",
    "[kmeans]") {
  const Eigen::MatrixXd X = blobs(800, 3, 4, 3.0, 31);
  const Eigen::VectorXd w = positive_weights(800, 32);
  KMeans<>::Options o;
  o.n_clusters = 4;
  o.n_init = 2;
  o.seed = 33;
  KMeans<> km(o);
  km.fit(X);
  const Eigen::MatrixXd& C = km.cluster_centers();
  REQUIRE(C.rows() == 4);
  REQUIRE(C.cols() == 3);
  CHECK(km.n_clusters() == 4);
  CHECK(km.n_features() == 3);
  CHECK(km.is_fitted());

  const Eigen::MatrixXd D = km.transform(X);
  REQUIRE(D.rows() == 800);
  REQUIRE(D.cols() == 4);
  double max_err = 0, inertia = 0, winertia = 0;
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = 0; j < 4; ++j)
      max_err = std::max(max_err, std::abs(D(i, j) - std::sqrt(sq_dist(X, i, C, j))));
    const int l = km.labels()(i);
    CHECK(l == nearest(X, i, C));
    inertia += sq_dist(X, i, C, l);
    winertia += w(i) * sq_dist(X, i, C, l);
  }
  CHECK(max_err <= 1e-12);
  CHECK(km.inertia() == Approx(inertia).epsilon(1e-12));
  CHECK(km.score(X) == Approx(-km.inertia()).epsilon(1e-12));
  CHECK(km.score(X, w) == Approx(-winertia).epsilon(1e-12));
  CHECK(km.predict(X) == km.labels());
  // On new data: predict is the nearest centre, score minus its inertia.
  const Eigen::MatrixXd Y = blobs(50, 3, 4, 3.0, 34);
  const Eigen::VectorXi py = km.predict(Y);
  double yin = 0;
  for (Eigen::Index i = 0; i < Y.rows(); ++i) {
    CHECK(py(i) == nearest(Y, i, C));
    yin += sq_dist(Y, i, C, py(i));
  }
  CHECK(km.score(Y) == Approx(-yin).epsilon(1e-12));

  KMeans<> fp(o);
  const Eigen::VectorXi labels = fp.fit_predict(X);
  CHECK(labels == fp.labels());
  CHECK(labels == km.labels());
  KMeans<> fpw(o);
  const Eigen::VectorXi wl = fpw.fit_predict(X, w);
  CHECK(wl == fpw.labels());
  CHECK(fpw.predict(X) == wl);
  CHECK(fpw.inertia() == Approx(-fpw.score(X, w)).epsilon(1e-12));
}

TEST_CASE(
    "KMeans: predict and score on the training data match fit for every kernel, near-ties included",
    "[kmeans]") {
  // Bulk data fix the centres; zero-weight rows placed on the bisector of the two centres (to
  // within ~1e-15) do not move them (tol = 0), but their labels are decided by rounding, which
  // differs between the direct and the GEMM kernel. predict() must use the fitted kernel.
  emcluster::detail::Random rng(5);
  const Eigen::Index nb = 600, nt = 3000, d = 3;
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(nb + nt, d);
  for (Eigen::Index i = 0; i < nb; ++i) {
    for (Eigen::Index j = 0; j < d; ++j)
      X(i, j) = rng.normal() + (i % 2 ? 4.0 : -4.0) + static_cast<double>(j);
  }
  Eigen::VectorXd w = Eigen::VectorXd::Ones(nb + nt);
  w.tail(nt).setZero();
  auto o = explicit_options(X.topRows(2), 0.0);
  const Eigen::MatrixXd C = KMeans<>(o).fit(X, w).cluster_centers();
  const Eigen::RowVectorXd mid = (C.row(0) + C.row(1)) / 2, dir = C.row(1) - C.row(0);
  for (Eigen::Index i = nb; i < nb + nt; ++i) {
    Eigen::RowVectorXd p = mid;
    for (Eigen::Index j = 0; j < d; ++j) p(j) += 3 * rng.normal();
    p -= (p - mid).dot(dir) / dir.squaredNorm() * dir;
    X.row(i) = p + dir * (rng.uniform(-1, 1) * 1e-15);
  }
  std::vector<Eigen::VectorXi> labels;
  for (AssignKernel kernel : {AssignKernel::direct, AssignKernel::gemm, AssignKernel::automatic}) {
    INFO("kernel " << static_cast<int>(kernel));
    o.kernel = kernel;
    KMeans<> km(o);
    km.fit(X, w);
    REQUIRE(km.cluster_centers() == C);  // the zero-weight rows changed nothing
    CHECK(km.predict(X) == km.labels());
    CHECK(km.score(X, w) == -km.inertia());
    labels.push_back(km.labels());
  }
  // The premise: the two kernels do break some of these near-ties differently.
  CHECK((labels[0].array() != labels[1].array()).count() > 0);
}

TEST_CASE("KMeans: score with sample weights checks the weights as fit does", "[kmeans][errors]") {
  const Eigen::MatrixXd X = blobs(60, 3, 2, 3.0, 43);
  KMeans<>::Options o;
  o.n_clusters = 2;
  KMeans<> km(o);
  km.fit(X);
  CHECK_THROWS_WITH(km.score(X, Eigen::VectorXd::Ones(3)), Catch::Contains("3 entries"));
  Eigen::VectorXd w = Eigen::VectorXd::Ones(60);
  w(5) = -1;
  CHECK_THROWS_WITH(km.score(X, w), Catch::Contains("sample_weight[5]"));
  CHECK(km.score(X, Eigen::VectorXd::Ones(60)) == km.score(X));
}

// =============================================================================================
// Errors beyond the estimator contract

TEST_CASE("KMeans: bad options throw std::invalid_argument naming the option", "[kmeans][errors]") {
  const Eigen::MatrixXd X = blobs(50, 3, 2, 3.0, 37);
  KMeans<>::Options good;
  good.n_clusters = 3;
  auto fit_with = [&](const KMeans<>::Options& o) { KMeans<>(o).fit(X); };
  CHECK_NOTHROW(fit_with(good));
  auto o = good;
  o.n_clusters = 0;
  CHECK_THROWS_WITH(fit_with(o), Catch::Contains("n_clusters"));
  o.n_clusters = -2;
  CHECK_THROWS_AS(fit_with(o), std::invalid_argument);
  o = good;
  o.n_init = -1;  // 0 is "auto" (the default), negative is invalid
  CHECK_THROWS_WITH(fit_with(o), Catch::Contains("n_init"));
  o.n_init = 0;
  CHECK_NOTHROW(fit_with(o));
  o = good;
  o.max_iter = 0;
  CHECK_THROWS_WITH(fit_with(o), Catch::Contains("max_iter"));
  o = good;
  o.tol = -1e-6;
  CHECK_THROWS_WITH(fit_with(o), Catch::Contains("tol"));
  o.tol = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(fit_with(o), std::invalid_argument);
  o.tol = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(fit_with(o), std::invalid_argument);
  o = good;
  o.n_local_trials = -1;
  CHECK_THROWS_AS(fit_with(o), std::invalid_argument);
  o = good;
  o.n_clusters = 51;  // more clusters than samples
  CHECK_THROWS_WITH(fit_with(o), Catch::Contains("50 samples"));
  o.n_clusters = 50;
  CHECK_NOTHROW(fit_with(o));

  // Explicit centres: wrong shape either way, non-finite values.
  o = explicit_options(pick_rows(X, {0, 1, 2}), 1e-4);
  CHECK_NOTHROW(fit_with(o));
  o.initial_centers = pick_rows(X, {0, 1});  // 2 x 3 for k = 3
  CHECK_THROWS_WITH(fit_with(o), Catch::Contains("initial_centers"));
  o.initial_centers = Eigen::MatrixXd::Zero(3, 2);
  CHECK_THROWS_WITH(fit_with(o), Catch::Contains("initial_centers"));
  o.initial_centers = Eigen::MatrixXd();
  CHECK_THROWS_AS(fit_with(o), std::invalid_argument);
  o.initial_centers = pick_rows(X, {0, 1, 2});
  o.initial_centers(2, 1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(fit_with(o), Catch::Contains("row 2, column 1"));
  o.initial_centers(2, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(fit_with(o), Catch::Contains("initial_centers") && Catch::Contains("NaN"));
}

TEST_CASE(
    "KMeans: a fit stopped by the callback or by initial centres of another width changes nothing",
    "[kmeans][errors]") {
  // The estimator contract covers bad data and weights; these failures come from the options.
  const Eigen::MatrixXd X = blobs(400, 3, 3, 4.0, 47);
  const Eigen::MatrixXd Y = blobs(500, 3, 3, 4.0, 48);  // different data for the failing fits
  bool throw_in_callback = false;
  auto o = explicit_options(pick_rows(X, {0, 1, 2}), 1e-4);
  o.callback = [&](const KMeansIteration& it) {
    if (throw_in_callback && it.iteration == 2) throw std::runtime_error("stop");
  };
  KMeans<> km(o);
  km.fit(X);
  const Eigen::MatrixXd centers = km.cluster_centers();
  const Eigen::VectorXi labels = km.labels();
  const double inertia = km.inertia();
  const int n_iter = km.n_iter();
  auto unchanged = [&]() {
    CHECK(km.cluster_centers() == centers);
    CHECK(km.labels() == labels);
    CHECK(km.inertia() == inertia);
    CHECK(km.n_iter() == n_iter);
    CHECK(km.predict(X) == labels);
  };
  const Eigen::MatrixXd narrow = Y.leftCols(2);
  CHECK_THROWS_WITH(km.fit(narrow), Catch::Contains("initial_centers"));  // they are 3 x 3
  unchanged();
  // A throw in the middle of Lloyd (from the callback) does not leave half a model behind.
  throw_in_callback = true;
  CHECK_THROWS_WITH(km.fit(Y), "stop");
  unchanged();
  throw_in_callback = false;
  km.fit(Y);
  CHECK(km.cluster_centers() != centers);  // and a successful fit does replace it
}

// =============================================================================================
// Reproducibility and precision

TEST_CASE("KMeans: the same seed gives the same bits, other seeds other local minima", "[kmeans]") {
  const Eigen::MatrixXd X = blobs(1500, 4, 10, 2.0, 13);  // many local minima
  KMeans<>::Options o;
  o.n_clusters = 10;
  o.n_init = 2;
  o.seed = 5;
  KMeans<> a(o), b(o);
  a.fit(X);
  b.fit(X);
  CHECK(a.cluster_centers() == b.cluster_centers());
  CHECK(a.labels() == b.labels());
  CHECK(a.inertia() == b.inertia());
  CHECK(a.n_iter() == b.n_iter());
  // A refit of the same model gives the same again.
  const Eigen::MatrixXd first = a.cluster_centers();
  a.fit(X);
  CHECK(a.cluster_centers() == first);

  for (KMeansInit init :
       {KMeansInit::kmeans_plus_plus, KMeansInit::random_samples, KMeansInit::random_box}) {
    o.init = init;
    o.n_init = 1;
    std::set<double> inertias;
    for (std::uint64_t seed = 0; seed < 6; ++seed) {
      o.seed = seed;
      inertias.insert(KMeans<>(o).fit(X).inertia());
    }
    INFO("init " << static_cast<int>(init));
    CHECK(inertias.size() > 1u);
  }
}

TEST_CASE("KMeans: float and double instantiations agree", "[kmeans]") {
  const Eigen::MatrixXd X = blobs(2000, 3, 4, 6.0, 17);
  const Eigen::MatrixXd init = pick_rows(X, {0, 1, 2, 3});
  KMeans<> kd(explicit_options(init, 1e-4));
  kd.fit(X);

  KMeans<float>::Options of;
  of.n_clusters = 4;
  of.init = KMeansInit::explicit_centers;
  of.initial_centers = init.cast<float>();
  KMeans<float> kf(of);
  const Eigen::MatrixXf Xf = X.cast<float>();
  kf.fit(Xf);
  CHECK((kf.cluster_centers().cast<double>() - kd.cluster_centers()).cwiseAbs().maxCoeff() < 1e-4);
  CHECK(kf.inertia() == Approx(kd.inertia()).epsilon(1e-5));
  CHECK((kf.labels().array() != kd.labels().array()).count() <= 2);

  // The default (k-means++, auto restarts) in float: finite, every cluster used.
  KMeans<float>::Options pf;
  pf.n_clusters = 4;
  pf.seed = 3;
  KMeans<float> kpp(pf);
  kpp.fit(Xf, Eigen::VectorXf::Ones(Xf.rows()));
  CHECK(std::isfinite(kpp.inertia()));
  CHECK(kpp.inertia() < 1.05 * kd.inertia());
  CHECK(kpp.transform(Xf).rows() == Xf.rows());
  CHECK(kpp.predict(Xf) == kpp.labels());
}

// =============================================================================================
// Recovery of known clusters

TEST_CASE("KMeans: well separated blobs are recovered exactly", "[kmeans][ari]") {
  for (Eigen::Index d : {2, 5}) {
    const Eigen::Index k = 5;
    // Unit-variance blobs with centres up to 60 apart in each coordinate, at least several
    // standard deviations between any two (checked below, so the premise cannot rot).
    const Eigen::MatrixXd X = blobs(1000, d, k, 30.0, 71 + static_cast<std::uint64_t>(d));
    Eigen::VectorXi truth(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i) truth(i) = static_cast<int>(i % k);
    Eigen::MatrixXd means = Eigen::MatrixXd::Zero(k, d);
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      means.row(truth(i)) += X.row(i) / static_cast<double>(X.rows() / k);
    double closest = std::numeric_limits<double>::infinity();
    for (Eigen::Index a = 0; a < k; ++a) {
      for (Eigen::Index b = a + 1; b < k; ++b)
        closest = std::min(closest, (means.row(a) - means.row(b)).norm());
    }
    INFO("d " << d << ", closest pair of blob means " << closest);
    REQUIRE(closest > 10.0);
    for (KMeansInit init : {KMeansInit::kmeans_plus_plus, KMeansInit::random_samples}) {
      KMeans<>::Options o;
      o.n_clusters = k;
      o.init = init;
      o.n_init = 10;
      o.seed = 73;
      KMeans<> km(o);
      km.fit(X);
      CHECK(emcluster::adjusted_rand_score(truth, km.labels()) == 1.0);
      // The centres are the blob means (same partition, same means).
      double worst = 0;
      for (Eigen::Index j = 0; j < k; ++j)
        worst = std::max(
            worst, (means.rowwise() - km.cluster_centers().row(j)).rowwise().norm().minCoeff());
      CHECK(worst < 1e-9);
    }
  }
}

TEST_CASE("KMeans: the article's experiment, ARI against the truth", "[kmeans][ari][article]") {
  const emcluster::Dataset<> data = emcluster::make_article_data<double>(42);
  REQUIRE(data.X.rows() == 1830);
  emcluster::StandardScaler<> scaler;
  const Eigen::MatrixXd Z = scaler.fit_transform(data.X);
  KMeans<>::Options o;
  o.n_clusters = 3;
  o.n_init = 10;
  o.seed = 42;
  KMeans<> km(o);
  km.fit(Z);
  const double ari = emcluster::adjusted_rand_score(data.labels, km.labels());
  // The same, leaving out the 30 noise points (label -1).
  std::vector<int> keep;
  for (Eigen::Index i = 0; i < data.labels.size(); ++i) {
    if (data.labels(i) >= 0) keep.push_back(static_cast<int>(i));
  }
  Eigen::VectorXi truth_c(static_cast<Eigen::Index>(keep.size())), pred_c(truth_c.size());
  for (std::size_t r = 0; r < keep.size(); ++r) {
    truth_c(static_cast<Eigen::Index>(r)) = data.labels(keep[r]);
    pred_c(static_cast<Eigen::Index>(r)) = km.labels()(keep[r]);
  }
  const double ari_clusters = emcluster::adjusted_rand_score(truth_c, pred_c);
  std::cout << "KMeans on the article's data (seed 42, standardized, k = 3, n_init = 10): ARI = "
            << ari << " (without the noise points: " << ari_clusters
            << "), inertia = " << km.inertia() << ", n_iter = " << km.n_iter() << "\n";
  // Measured 0.8419 (0.8620 without the noise points); bounded 0.02 below. K-means cuts the
  // elongated clusters with straight boundaries, so the ARI stays below 1 (the article's point).
  CHECK(ari >= 0.82);
  CHECK(ari_clusters >= 0.84);
  CHECK(ari < 1.0);
  // The best of 10 restarts is no worse than any single restart.
  o.n_init = 1;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    o.seed = seed;
    CHECK(km.inertia() <= KMeans<>(o).fit(Z).inertia() * (1 + 1e-12));
  }
}
