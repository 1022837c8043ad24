// The promises of the estimator contract (contract.hpp), checked on type-erased models.
#include "contract.hpp"

#include <emcluster/exceptions.hpp>

#include <limits>
#include <stdexcept>

#include "check.hpp"
#include "data.hpp"

namespace emcluster_test::contract {

namespace {

bool same_bits(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  return (a.array() == b.array() || (a.array().isNaN() && b.array().isNaN())).all();
}

/// CHECKs that actual and expected hold the same entries, naming those that differ.
void check_identical(const Record& actual, const Record& expected) {
  REQUIRE(actual.entries().size() == expected.entries().size());
  for (std::size_t i = 0; i < actual.entries().size(); ++i) {
    const auto &x = actual.entries()[i], &y = expected.entries()[i];
    const bool comparable =
        x.value.rows() == y.value.rows() && x.value.cols() == y.value.cols() && x.value.size();
    INFO(y.name << ": " << x.value.rows() << " x " << x.value.cols() << " (expected "
                << y.value.rows() << " x " << y.value.cols() << "), largest difference "
                << (comparable ? (x.value - y.value).cwiseAbs().maxCoeff() : 0.0));
    CHECK(x.name == y.name);
    CHECK(same_bits(x.value, y.value));
  }
}

/// CHECKs that f throws emcluster::not_fitted_error whose message names cls::method.
void check_not_fitted(const std::string& cls, const std::string& method,
                      const std::function<void()>& f) {
  const std::string where = cls + "::" + method;
  INFO(where << " before fit");
  try {
    f();
    FAIL_CHECK("no exception thrown");
  } catch (const emcluster::not_fitted_error& e) {
    CHECK_THAT(e.what(), Catch::Contains(where));
  }
}

/// CHECKs that f throws std::invalid_argument whose message contains every needle.
void check_invalid(const std::vector<std::string>& needles, const std::function<void()>& f) {
  try {
    f();
    FAIL_CHECK("no exception thrown");
  } catch (const std::invalid_argument& e) {
    INFO("message: " << e.what());
    for (const auto& needle : needles) CHECK_THAT(e.what(), Catch::Contains(needle));
  }
}

/// The contract's data: n samples, 3 features, 3 blobs.
Eigen::MatrixXd data(Eigen::Index n, std::uint64_t seed) { return blobs(n, 3, 3, 4.0, seed); }

/// The calls that must fail on data like X, with the words their messages must contain:
/// fit's, then the estimator's own.
std::vector<Model::Action> failing_calls(const Subject& s, Model& m, const Eigen::MatrixXd& X) {
  const double nan = std::numeric_limits<double>::quiet_NaN(),
               inf = std::numeric_limits<double>::infinity();
  const Eigen::Index n = X.rows(), d = X.cols();
  std::vector<Model::Action> calls;
  auto fit = [&](std::string name, std::vector<std::string> needles, Eigen::MatrixXd data) {
    calls.push_back({std::move(name), std::move(needles), [&m, data] { m.fit(data); }});
  };
  Eigen::MatrixXd bad = X;
  bad(7, 1) = nan;
  fit("fit: NaN", {"row 7, column 1", "NaN"}, bad);
  bad = X;
  bad(n - 1, 2) = -inf;
  fit("fit: -Inf in the last row", {"row " + std::to_string(n - 1) + ", column 2", "Inf"}, bad);
  bad = X;
  bad(12, 0) = inf;
  calls.push_back({"fit: Inf in a row-major Map", {"row 12, column 0", "Inf"}, [&m, bad] {
                     m.fit_row_major(bad);
                   }});
  Eigen::MatrixXd other_width = Eigen::MatrixXd::Ones(3, d + 4);
  other_width(1, d + 3) = nan;
  fit("fit: NaN in data of another width", {"row 1, column " + std::to_string(d + 3)}, other_width);
  fit("fit: no rows", {"empty"}, Eigen::MatrixXd(0, d));
  fit("fit: no columns", {"empty"}, Eigen::MatrixXd(5, 0));
  if (m.groups() > 1)
    fit("fit: fewer samples than clusters", {"fewer than"}, X.topRows(m.groups() - 1));
  if (s.weighted) {
    auto weighted = [&](std::string name, std::vector<std::string> needles, Eigen::VectorXd w) {
      calls.push_back({std::move(name), std::move(needles), [&m, X, w] { m.fit_weighted(X, w); }});
    };
    weighted("fit: one sample weight too few", {std::to_string(n - 1) + " entries"},
             Eigen::VectorXd::Ones(n - 1));
    weighted("fit: one sample weight too many", {std::to_string(n + 1) + " entries"},
             Eigen::VectorXd::Ones(n + 1));
    Eigen::VectorXd w = Eigen::VectorXd::Ones(n);
    w(4) = -0.5;
    weighted("fit: a negative sample weight", {"sample_weight[4]", "negative"}, w);
    w(4) = nan;
    weighted("fit: a NaN sample weight", {"sample_weight[4]"}, w);
    w(4) = inf;
    weighted("fit: an infinite sample weight", {"sample_weight[4]"}, w);
    weighted("fit: sample weights that sum to zero", {"zero"}, Eigen::VectorXd::Zero(n));
  }
  for (auto& c : m.own_failing_calls(X)) calls.push_back(std::move(c));
  return calls;
}

}  // namespace

bool identical(const Record& a, const Record& b) {
  if (a.entries().size() != b.entries().size()) return false;
  for (std::size_t i = 0; i < a.entries().size(); ++i) {
    const auto &x = a.entries()[i], &y = b.entries()[i];
    if (x.name != y.name || !same_bits(x.value, y.value)) return false;
  }
  return true;
}

void not_fitted_before_fit(const Subject& s) {
  const Eigen::MatrixXd X = data(50, 1);
  for (std::size_t v = 0; v < s.variants.size(); ++v) {
    INFO(s.name << ", " << s.variants[v]);
    const auto m = s.make(v);
    CHECK_FALSE(m->is_fitted());
    CHECK_NOTHROW(m->configuration());
    for (const auto& a : m->fitted_accessors()) check_not_fitted(s.name, a.name, a.run);
    for (const auto& a : m->new_data_methods(X)) check_not_fitted(s.name, a.name, a.run);
  }
}

void fit_rejects_bad_data(const Subject& s) {
  const Eigen::MatrixXd X = data(60, 2);
  for (std::size_t v = 0; v < s.variants.size(); ++v) {
    INFO(s.name << ", " << s.variants[v]);
    const auto m = s.make(v);
    for (const auto& c : failing_calls(s, *m, X)) {
      if (c.needs_fitted) continue;
      INFO(c.name);
      check_invalid(c.needles, c.run);
      CHECK_FALSE(m->is_fitted());
    }
    CHECK_NOTHROW(m->fit(X));  // the data itself was fine
  }
}

void failed_call_leaves_model_unchanged(const Subject& s) {
  const Eigen::MatrixXd X = data(400, 3);
  const Eigen::MatrixXd Y = data(500, 4);  // other data for the failing calls
  for (std::size_t v = 0; v < s.variants.size(); ++v) {
    INFO(s.name << ", " << s.variants[v]);
    const auto m = s.make(v);
    m->fit(X);
    const Record state = m->state(), outputs = m->outputs(X);
    for (const auto& c : failing_calls(s, *m, Y)) {
      INFO("after the failed call " << c.name);
      check_invalid(c.needles, c.run);
      CHECK(m->is_fitted());
      check_identical(m->state(), state);
      check_identical(m->outputs(X), outputs);
    }
    m->fit(Y);
    CHECK_FALSE(identical(m->state(), state));
  }
}

void new_data_is_checked(const Subject& s) {
  const Eigen::MatrixXd X = data(200, 5);
  Eigen::MatrixXd with_nan = X.topRows(20), with_inf = X.topRows(20);
  with_nan(3, 1) = std::numeric_limits<double>::quiet_NaN();
  with_inf(19, 2) = std::numeric_limits<double>::infinity();
  struct Case {
    const char* name;
    Eigen::MatrixXd data;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {"2 columns", X.leftCols(2), {"2 columns", "fitted on 3"}},
      {"4 columns", Eigen::MatrixXd::Zero(5, 4), {"4 columns", "fitted on 3"}},
      {"a NaN", with_nan, {"row 3, column 1", "NaN"}},
      {"an Inf", with_inf, {"row 19, column 2", "Inf"}},
      {"no rows", Eigen::MatrixXd(0, 3), {"empty"}}};
  for (std::size_t v = 0; v < s.variants.size(); ++v) {
    INFO(s.name << ", " << s.variants[v]);
    const auto m = s.make(v);
    m->fit(X);
    CHECK(m->n_features() == 3);
    for (const auto& c : cases) {
      for (const auto& a : m->new_data_methods(c.data)) {
        INFO(a.name << " on data with " << c.name);
        check_invalid(c.needles, a.run);
      }
    }
    for (const auto& a : m->new_data_methods(X)) {
      INFO(a.name << " on good data");
      CHECK_NOTHROW(a.run());
    }
  }
}

void layouts_give_identical_bits(const Subject& s) {
  const Eigen::MatrixXd X = data(1300, 6);  // several blocks of rows
  for (std::size_t v = 0; v < s.variants.size(); ++v) {
    INFO(s.name << ", " << s.variants[v]);
    const auto m = s.make(v);
    m->fit(X);
    const Record state = m->state(), outputs = m->outputs(X);
    for (const auto& l : m->fit_in_layouts(X)) {
      INFO("fitted on X as " << l.name);
      check_identical(l.state, state);
      check_identical(l.outputs, outputs);
    }
    if (!s.weighted) continue;
    const auto forms = m->fit_weight_forms(X, positive_weights(X.rows(), 7));
    REQUIRE(forms.size() == 3);
    CHECK_FALSE(identical(forms[0].state, state));  // the weights matter
    for (std::size_t f = 1; f < forms.size(); ++f) {
      INFO("sample weights as " << forms[f].name);
      check_identical(forms[f].state, forms[0].state);
    }
  }
}

void threads_give_identical_bits(const Subject& s) {
  if (!built_with_openmp()) {
    WARN("built without OpenMP: thread-count invariance not tested");
    return;
  }
  const Eigen::MatrixXd X = data(s.parallel_rows, 23);
  for (std::size_t v = 0; v < s.variants.size(); ++v) {
    INFO(s.name << ", " << s.variants[v] << ", " << X.rows() << " rows");
    auto run = [&](int threads) {
      ThreadCount scope(threads);
      const auto m = s.make(v);
      m->fit(X);
      return std::make_pair(m->state(), m->outputs(X));
    };
    const auto one = run(1), two = run(2);
    check_identical(two.first, one.first);
    check_identical(two.second, one.second);
  }
}

}  // namespace emcluster_test::contract
