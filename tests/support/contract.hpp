// The estimator contract: what every estimator of emcluster promises, written once here (the
// checks are in contract.cpp) and run over KMeans, MiniBatchKMeans, GaussianMixture and
// StandardScaler, each in float and double, by one line in the estimator's test file:
//
//   EMCLUSTER_ESTIMATOR_CONTRACT("[kmeans]", emcluster::KMeans<float>, emcluster::KMeans<double>)
//
// Run them all with `emcluster_tests "[contract]"`. The promises, one test case each:
//
//   1. Before fit, every accessor of fitted state and every method on new data throws
//      emcluster::not_fitted_error naming itself ("KMeans::inertia"); the configuration
//      accessors (options(), n_clusters(), is_fitted(), ...) answer.
//   2. fit rejects NaN, Inf, empty data, fewer samples than clusters and bad sample weights
//      with std::invalid_argument naming the position, and the model stays unfitted.
//   3. A call that throws leaves a fitted model exactly as it was, bit for bit; a fit that
//      succeeds replaces it.
//   4. Methods on new data reject a wrong column count, NaN, Inf and empty data with
//      std::invalid_argument naming the counts or the position.
//   5. Column-major data, a Map of a row-major buffer, a block of a wider row-major matrix
//      (rows with an outer stride) and a lazy expression give identical bits, for fit and
//      every method on new data. In float only column-major and the Map: every further layout
//      is a whole instantiation of fit and the kernels, which the double ones already check.
//      Sample weights as a vector of double, of the model's scalar or as a Map: identical too.
//   6. One and two OpenMP threads give identical bits, for fit and every method on new data.
//
// Each estimator E describes itself with a specialisation of Traits<E> beside its tests:
//
//   using Scalar;                                   float or double
//   static constexpr const char* name;              the class name its messages use
//   static constexpr bool weighted;                 whether fit(X, sample_weight) exists
//   static constexpr Eigen::Index parallel_rows;    rows for promise 6 (threads split from 16384)
//   static std::vector<Variant<E>> variants();      configurations every promise runs in
//   static Eigen::Index groups(const E&);           clusters or components (0: none)
//   static void configuration(const E&);            calls every configuration accessor
//   static std::vector<Call<E>> fitted_accessors(); every accessor of fitted state
//   static std::vector<DataCall<E>> new_data_methods();      every method reading new data
//   static std::vector<FitCall<E>> failing_calls(const Matrix<Scalar>& X);  the estimator's
//                                                   own failing calls beyond fit's (partial_fit...)
//   static Record state(const E&);                  every accessor's value after fit
//   template <typename D> static Record outputs(const E&, const Eigen::MatrixBase<D>& X);
//                                                   every method's result on new data X
//
// The contract's data: 3 features, 3 blobs (blobs() in data.hpp), made in double and rounded
// once to the model's scalar type; the clusterers' variants use 3 groups.
#pragma once

#include <catch2/catch.hpp>

#include <Eigen/Core>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace emcluster_test::contract {

template <typename Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Specialised beside each estimator's tests (see the file comment).
template <typename Estimator>
struct Traits;

/// One configuration an estimator is checked in.
template <typename E>
struct Variant {
  std::string name;
  typename E::Options options;
};

/// An accessor (or a method without data) of a model; `name` is the method's own name.
template <typename E>
struct Call {
  std::string name;
  std::function<void(const E&)> call;
};

/// A method that reads new data.
template <typename E>
struct DataCall {
  std::string name;
  std::function<void(const E&, const Matrix<typename Traits<E>::Scalar>&)> call;
};

/// A call that must throw std::invalid_argument whose message contains every needle.
template <typename E>
struct FitCall {
  std::string name;
  std::vector<std::string> needles;
  std::function<void(E&)> call;
  bool needs_fitted = false;  ///< fails only on a fitted model (a refit of another width, say)
};

/// Everything a model exposes (its fitted state, or its results on some data), by name, in
/// double (exact for float and int), to compare bit for bit.
class Record {
 public:
  struct Entry {
    std::string name;
    Eigen::MatrixXd value;
  };
  template <typename Derived>
  Record& add(const std::string& name, const Eigen::DenseBase<Derived>& value) {
    entries_.push_back({name, value.derived().template cast<double>()});
    return *this;
  }
  Record& add(const std::string& name, double value) {
    entries_.push_back({name, Eigen::MatrixXd::Constant(1, 1, value)});
    return *this;
  }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

/// Whether a and b hold the same names, shapes and bits (NaN equal to NaN).
bool identical(const Record& a, const Record& b);

/// A model under test with its type erased: what the promises (contract.cpp) work with. Data
/// come in double and are rounded once to the model's scalar type.
class Model {
 public:
  /// A call bound to this model (and its data).
  struct Action {
    std::string name;
    std::vector<std::string> needles;  ///< words the message must contain, for failing calls
    std::function<void()> run;
    bool needs_fitted = false;
  };
  /// A fit, or a model's outputs, in one layout of the data.
  struct Layout {
    std::string name;
    Record state, outputs;
  };

  virtual ~Model() = default;
  virtual bool is_fitted() const = 0;
  virtual Eigen::Index groups() const = 0;
  virtual Eigen::Index n_features() const = 0;
  virtual void configuration() const = 0;
  virtual void fit(const Eigen::MatrixXd& X) = 0;
  /// fit on a Map of a row-major copy of X.
  virtual void fit_row_major(const Eigen::MatrixXd& X) = 0;
  /// fit(X, w), for estimators that take weights.
  virtual void fit_weighted(const Eigen::MatrixXd& X, const Eigen::VectorXd& w) = 0;
  virtual Record state() const = 0;
  virtual Record outputs(const Eigen::MatrixXd& X) const = 0;
  virtual std::vector<Action> fitted_accessors() const = 0;
  virtual std::vector<Action> new_data_methods(const Eigen::MatrixXd& X) const = 0;
  /// The estimator's own failing calls (Traits::failing_calls) on data like X.
  virtual std::vector<Action> own_failing_calls(const Eigen::MatrixXd& X) = 0;
  /// Fresh models of the same options fitted on X in the layouts of promise 5: their states,
  /// and their outputs on X in the same layout.
  virtual std::vector<Layout> fit_in_layouts(const Eigen::MatrixXd& X) const = 0;
  /// States of fresh models fitted on X with the weights w (rounded to the model's scalar) in
  /// every form: a vector of double first.
  virtual std::vector<Layout> fit_weight_forms(const Eigen::MatrixXd& X,
                                               const Eigen::VectorXd& w) const = 0;
};

/// An estimator type as the promises see it: its traits' constants and a way to make a model
/// in each of its variants.
struct Subject {
  std::string name;
  bool weighted = false;
  Eigen::Index parallel_rows = 0;
  std::vector<std::string> variants;
  std::function<std::unique_ptr<Model>(std::size_t)> make;
};

// ---- The promises (contract.cpp) -------------------------------------------------------------

void not_fitted_before_fit(const Subject& s);
void fit_rejects_bad_data(const Subject& s);
void failed_call_leaves_model_unchanged(const Subject& s);
void new_data_is_checked(const Subject& s);
void layouts_give_identical_bits(const Subject& s);
void threads_give_identical_bits(const Subject& s);

// ---- Traits<E> as a Model --------------------------------------------------------------------

/// Calls fn(name, X in that layout) for the layouts of promise 5 (in float only column-major
/// and the Map).
template <typename Scalar, typename Fn>
void for_each_layout(const Matrix<Scalar>& X, Fn&& fn) {
  const Eigen::Index n = X.rows(), d = X.cols();
  fn("column-major", X);
  std::vector<Scalar> buffer(static_cast<std::size_t>(X.size()));
  Eigen::Map<RowMatrix<Scalar>>(buffer.data(), n, d) = X;
  fn("a Map of a row-major buffer", Eigen::Map<const RowMatrix<Scalar>>(buffer.data(), n, d));
  if constexpr (std::is_same<Scalar, double>::value) {
    RowMatrix<Scalar> wide = RowMatrix<Scalar>::Constant(n + 2, d + 3, Scalar(1e6));
    wide.block(1, 2, n, d) = X;
    fn("a block of a wider row-major matrix", wide.block(1, 2, n, d));
    fn("the expression X * 1", (X.array() * Scalar(1)).matrix());
  }
}

template <typename E>
class Adapter final : public Model {
  using T = Traits<E>;
  using S = typename T::Scalar;

 public:
  explicit Adapter(typename E::Options options) : options_(std::move(options)), e_(options_) {}

  bool is_fitted() const override { return e_.is_fitted(); }
  Eigen::Index groups() const override { return T::groups(e_); }
  Eigen::Index n_features() const override { return e_.n_features(); }
  void configuration() const override { T::configuration(e_); }
  void fit(const Eigen::MatrixXd& X) override {
    const Matrix<S> Xs = X.template cast<S>();
    e_.fit(Xs);
  }
  void fit_row_major(const Eigen::MatrixXd& X) override {
    const RowMatrix<S> Xr = X.template cast<S>();
    e_.fit(Eigen::Map<const RowMatrix<S>>(Xr.data(), Xr.rows(), Xr.cols()));
  }
  void fit_weighted(const Eigen::MatrixXd& X, const Eigen::VectorXd& w) override {
    if constexpr (T::weighted) {
      const Matrix<S> Xs = X.template cast<S>();
      e_.fit(Xs, w);
    }
  }
  Record state() const override { return T::state(e_); }
  Record outputs(const Eigen::MatrixXd& X) const override {
    const Matrix<S> Xs = X.template cast<S>();
    return T::outputs(e_, Xs);
  }
  std::vector<Action> fitted_accessors() const override {
    std::vector<Action> out;
    for (const auto& c : T::fitted_accessors())
      out.push_back({c.name, {}, [this, f = c.call] { f(e_); }});
    return out;
  }
  std::vector<Action> new_data_methods(const Eigen::MatrixXd& X) const override {
    std::vector<Action> out;
    const Matrix<S> Xs = X.template cast<S>();
    for (const auto& c : T::new_data_methods())
      out.push_back({c.name, {}, [this, f = c.call, Xs] { f(e_, Xs); }});
    return out;
  }
  std::vector<Action> own_failing_calls(const Eigen::MatrixXd& X) override {
    std::vector<Action> out;
    for (const auto& c : T::failing_calls(X.template cast<S>())) {
      out.push_back({c.name, c.needles, [this, f = c.call] { f(e_); }, c.needs_fitted});
    }
    return out;
  }
  std::vector<Layout> fit_in_layouts(const Eigen::MatrixXd& X) const override {
    std::vector<Layout> out;
    const Matrix<S> Xs = X.template cast<S>();
    for_each_layout(Xs, [&](const char* name, const auto& L) {
      E e(options_);
      e.fit(L);
      out.push_back({name, T::state(e), T::outputs(e, L)});
    });
    return out;
  }
  std::vector<Layout> fit_weight_forms(const Eigen::MatrixXd& X,
                                       const Eigen::VectorXd& w) const override {
    std::vector<Layout> out;
    if constexpr (T::weighted) {
      const Eigen::Matrix<S, Eigen::Dynamic, 1> ws = w.template cast<S>();
      const Eigen::VectorXd wd = ws.template cast<double>();  // the values every form holds
      const Matrix<S> Xs = X.template cast<S>();
      const RowMatrix<S> Xr = Xs;
      E a(options_), b(options_), c(options_);
      a.fit(Xs, wd);
      b.fit(Eigen::Map<const RowMatrix<S>>(Xr.data(), Xr.rows(), Xr.cols()),
            Eigen::Map<const Eigen::VectorXd>(wd.data(), wd.size()));
      c.fit(Xs, ws);
      out.push_back({"a vector of double", T::state(a), {}});
      out.push_back({"a Map (X a row-major Map)", T::state(b), {}});
      out.push_back({"a vector of the model's scalar type", T::state(c), {}});
    }
    return out;
  }

 private:
  typename E::Options options_;
  E e_;
};

/// The Subject of estimator type E.
template <typename E>
Subject subject() {
  using T = Traits<E>;
  Subject s;
  s.name = T::name;
  s.weighted = T::weighted;
  s.parallel_rows = T::parallel_rows;
  for (const auto& v : T::variants()) s.variants.push_back(v.name);
  s.make = [](std::size_t i) -> std::unique_ptr<Model> {
    return std::make_unique<Adapter<E>>(T::variants().at(i).options);
  };
  return s;
}

}  // namespace emcluster_test::contract

/// Registers the contract's test cases for the estimator types given (see the file comment).
#define EMCLUSTER_ESTIMATOR_CONTRACT(tags, ...)                                                    \
  TEMPLATE_TEST_CASE(                                                                              \
      "Every estimator: before fit, fitted state and methods on new data throw not_fitted_error",  \
      tags "[contract]", __VA_ARGS__) {                                                            \
    emcluster_test::contract::not_fitted_before_fit(                                               \
        emcluster_test::contract::subject<TestType>());                                            \
  }                                                                                                \
  TEMPLATE_TEST_CASE(                                                                              \
      "Every estimator: fit rejects NaN, Inf, empty data, too few samples and bad weights by "     \
      "position",                                                                                  \
      tags "[contract]", __VA_ARGS__) {                                                            \
    emcluster_test::contract::fit_rejects_bad_data(emcluster_test::contract::subject<TestType>()); \
  }                                                                                                \
  TEMPLATE_TEST_CASE(                                                                              \
      "Every estimator: a call that throws leaves the fitted model exactly as it was",             \
      tags "[contract]", __VA_ARGS__) {                                                            \
    emcluster_test::contract::failed_call_leaves_model_unchanged(                                  \
        emcluster_test::contract::subject<TestType>());                                            \
  }                                                                                                \
  TEMPLATE_TEST_CASE(                                                                              \
      "Every estimator: methods on new data reject a wrong column count, NaN, Inf and empty data", \
      tags "[contract]", __VA_ARGS__) {                                                            \
    emcluster_test::contract::new_data_is_checked(emcluster_test::contract::subject<TestType>());  \
  }                                                                                                \
  TEMPLATE_TEST_CASE(                                                                              \
      "Every estimator: column-major, row-major Map, strided block and expression give identical " \
      "bits",                                                                                      \
      tags "[contract]", __VA_ARGS__) {                                                            \
    emcluster_test::contract::layouts_give_identical_bits(                                         \
        emcluster_test::contract::subject<TestType>());                                            \
  }                                                                                                \
  TEMPLATE_TEST_CASE("Every estimator: one and two OpenMP threads give identical bits",            \
                     tags "[contract]", __VA_ARGS__) {                                             \
    emcluster_test::contract::threads_give_identical_bits(                                         \
        emcluster_test::contract::subject<TestType>());                                            \
  }
