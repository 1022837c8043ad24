// libFuzzer target: the model loader of emcluster/io.hpp on arbitrary bytes. Every input is
// loaded as each estimator type; a model_file_error is the expected outcome of a bad input,
// anything else that escapes (another exception, a crash, a leak, undefined behaviour, an
// allocation beyond libFuzzer's limit) is a bug. A model that loads is used: saved again
// (the same text must load again), asked for predictions, and a MiniBatchKMeans continued.
//
//   clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined \
//     -fno-sanitize-recover=undefined -I include -isystem /usr/include/eigen3 \
//     fuzz/fuzz_model_loader.cpp -o fuzz_model_loader
//   ./fuzz_model_loader -max_total_time=60 fuzz/corpus/fuzz_model_loader
//
// scripts/test --fuzz builds and runs it so; fuzz/corpus/fuzz_model_loader/ holds valid
// models (fuzz/make_model_corpus.cpp writes them) as seeds.
#include <emcluster/io.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

namespace {

template <typename Model>
Eigen::Index features(const Model& m) {
  return m.n_features();
}
template <typename Model>
Eigen::Index features(const emcluster::Pipeline<Model>& p) {
  return p.scaler().is_fitted() ? p.scaler().n_features() : p.model().n_features();
}

template <typename Model>
bool fitted(const Model& m) {
  return m.is_fitted();
}
template <typename Model>
bool fitted(const emcluster::Pipeline<Model>& p) {
  return p.scaler().is_fitted() && p.model().is_fitted();
}

template <typename S>
void use(const emcluster::StandardScaler<S>& m, const Eigen::Matrix<S, -1, -1>& X) {
  (void)m.transform(X);
  (void)m.inverse_transform(X);
}
template <typename S>
void use(const emcluster::KMeans<S>& m, const Eigen::Matrix<S, -1, -1>& X) {
  (void)m.predict(X);
  (void)m.transform(X);
}
template <typename S>
void use(emcluster::MiniBatchKMeans<S> m, const Eigen::Matrix<S, -1, -1>& X) {
  (void)m.predict(X);
  m.partial_fit(X);  // continues the saved stream: counts, reassignment, random state
}
template <typename S>
void use(const emcluster::GaussianMixture<S>& m, const Eigen::Matrix<S, -1, -1>& X) {
  (void)m.predict_proba(X);
  (void)m.score_samples(X);
  (void)m.sample(3, 1);
}
template <typename Model, typename S>
void use(const emcluster::Pipeline<Model>& p, const Eigen::Matrix<S, -1, -1>& X) {
  (void)p.predict(X);
}

template <typename Model>
void try_load(const std::string& text) {
  Model m;
  {
    std::istringstream in(text);
    try {
      emcluster::load_model(m, in);
    } catch (const emcluster::model_file_error&) {
      return;  // the expected outcome for most inputs
    }
  }
  std::ostringstream out;
  emcluster::save_model(m, out);
  Model again;
  std::istringstream in(out.str());
  emcluster::load_model(again, in);  // what was saved must load: throws (a bug) otherwise
  if (!fitted(m)) return;
  using S = typename emcluster::detail::ModelScalar<Model>::type;
  const Eigen::Index d = features(m);
  if (d > 64) return;  // keep each input fast
  Eigen::Matrix<S, -1, -1> X(8, d);
  for (Eigen::Index i = 0; i < X.size(); ++i) X(i) = static_cast<S>((i % 5) - 2);
  try {
    use(m, X);
  } catch (const emcluster::numerical_error&) {
    // documented for extreme models (an inertia or a parameter beyond the scalar's range)
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try_load<emcluster::KMeans<double>>(text);
  try_load<emcluster::KMeans<float>>(text);
  try_load<emcluster::MiniBatchKMeans<double>>(text);
  try_load<emcluster::MiniBatchKMeans<float>>(text);
  try_load<emcluster::GaussianMixture<double>>(text);
  try_load<emcluster::GaussianMixture<float>>(text);
  try_load<emcluster::StandardScaler<double>>(text);
  try_load<emcluster::StandardScaler<float>>(text);
  try_load<emcluster::Pipeline<emcluster::KMeans<double>>>(text);
  try_load<emcluster::Pipeline<emcluster::GaussianMixture<float>>>(text);
  try {
    std::istringstream in(text);
    (void)emcluster::read_model_info(in);
  } catch (const emcluster::model_file_error&) {
  }
  return 0;
}
