// Model files (emcluster/io.hpp), specified: every estimator x scalar x covariance type x
// noise round-trips bit for bit (state and results); doubles, floats, subnormals and extreme
// exponents survive exactly; a loaded MiniBatchKMeans continues partial_fit exactly; the
// broken files of tests/data/model_files/ and the mutations generated here each give their
// error and JSON path, leave the target untouched and never crash.
#include <catch2/catch.hpp>

#include <emcluster/datasets.hpp>
#include <emcluster/io.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "support/data.hpp"

using emcluster::CovarianceType;
using emcluster::GaussianMixture;
using emcluster::KMeans;
using emcluster::MiniBatchKMeans;
using emcluster::model_file_error;
using emcluster::Pipeline;
using emcluster::StandardScaler;

namespace {

template <typename Derived, typename Other>
bool same_bits(const Eigen::MatrixBase<Derived>& a, const Eigen::MatrixBase<Other>& b) {
  using S = typename Derived::Scalar;
  static_assert(std::is_same<S, typename Other::Scalar>::value, "same scalar");
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  if (a.size() == 0) return true;  // memcmp must not be given the null data of empty matrices
  const auto ea = a.eval();
  const auto eb = b.eval();
  return std::memcmp(ea.data(), eb.data(), sizeof(S) * static_cast<std::size_t>(ea.size())) == 0;
}

template <typename Model>
std::string saved(const Model& m) {
  std::ostringstream out;
  emcluster::save_model(m, out);
  return out.str();
}

template <typename Model>
Model loaded(const std::string& text) {
  Model m;
  std::istringstream in(text);
  emcluster::load_model(m, in);
  return m;
}

/// Saves, loads into a fresh model and checks that saving that gives the same text.
template <typename Model>
Model round_trip(const Model& m) {
  const std::string text = saved(m);
  Model back = loaded<Model>(text);
  CHECK(saved(back) == text);
  return back;
}

template <typename S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

template <typename S>
Mat<S> article(double scale = 1.0) {
  return (emcluster::make_article_data(42).X * scale).template cast<S>();
}

/// Raw data of the article's shape and new points to predict.
template <typename S>
Mat<S> new_points() {
  return (emcluster_test::blobs(300, 2, 3, 8.0, 5) * 2.0).cast<S>();
}

template <typename S>
void check_same_gmm_results(const GaussianMixture<S>& a, const GaussianMixture<S>& b,
                            const Mat<S>& Y) {
  CHECK(a.predict(Y) == b.predict(Y));
  CHECK(same_bits(a.predict_proba(Y), b.predict_proba(Y)));
  CHECK(same_bits(a.score_samples(Y), b.score_samples(Y)));
  CHECK(same_bits(a.uncertainty(Y), b.uncertainty(Y)));
  CHECK(a.score(Y) == b.score(Y));
  CHECK(same_bits(a.weights(), b.weights()));
  CHECK(same_bits(a.means(), b.means()));
  for (Eigen::Index j = 0; j < a.n_components(); ++j) {
    CHECK(same_bits(a.covariance(j), b.covariance(j)));
    CHECK(same_bits(a.precisions_cholesky(j), b.precisions_cholesky(j)));
  }
  CHECK(a.noise_weight() == b.noise_weight());
  CHECK(same_bits(a.noise_low(), b.noise_low()));
  CHECK(same_bits(a.noise_high(), b.noise_high()));
  CHECK(a.lower_bound() == b.lower_bound());
  CHECK(a.n_iter() == b.n_iter());
  CHECK(a.converged() == b.converged());
  CHECK(same_bits(a.sample(50, 3).first, b.sample(50, 3).first));
}

template <typename Model, typename S>
void check_same_centroid_results(const Model& a, const Model& b, const Mat<S>& Y) {
  CHECK(a.predict(Y) == b.predict(Y));
  CHECK(same_bits(a.transform(Y), b.transform(Y)));
  CHECK(a.score(Y) == b.score(Y));
  CHECK(same_bits(a.cluster_centers(), b.cluster_centers()));
  CHECK(a.labels() == b.labels());
  CHECK(a.inertia() == b.inertia());
  CHECK(a.n_iter() == b.n_iter());
}

/// The "scale_exponent" of a saved model's state.
int scale_exponent_of(const std::string& text) {
  return nlohmann::json::parse(text)["state"]["scale_exponent"].get<int>();
}

/// A JSON edit of a saved model: the value at `pointer` replaced (or added).
std::string with(const std::string& text, const std::string& pointer, const nlohmann::json& v) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  j[nlohmann::ordered_json::json_pointer(pointer)] = v;
  return j.dump();
}

/// A JSON edit of a saved model: the field or element at `pointer` removed.
std::string without(const std::string& text, const std::string& pointer) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  const nlohmann::ordered_json::json_pointer p(pointer);
  nlohmann::ordered_json& parent = j[p.parent_pointer()];
  if (parent.is_array()) {
    parent.erase(static_cast<std::size_t>(std::stoul(p.back())));
  } else {
    parent.erase(p.back());
  }
  return j.dump();
}

/// Loading `text` into the fitted `target` throws model_file_error with `path` and a message
/// containing `needle`; the target is unchanged (same file when saved again).
template <typename Model>
void require_load_error(Model target, const std::string& text, const std::string& path,
                        const std::string& needle) {
  const std::string before = saved(target);
  INFO("expected path '" << path << "' and a message with '" << needle << "'");
  std::istringstream in(text);
  try {
    emcluster::load_model(target, in);
    FAIL("no exception");
  } catch (const model_file_error& e) {
    INFO("message: " << e.what());
    CHECK(e.json_path() == path);
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
  }
  CHECK(saved(target) == before);
}

template <typename S>
GaussianMixture<S> fitted_gmm(CovarianceType type, bool noise, double scale = 1.0) {
  typename GaussianMixture<S>::Options o;
  o.n_components = 3;
  o.covariance_type = type;
  o.noise_component = noise;
  o.reg_covar = 1e-6 * scale * scale;  // in the data's units
  o.seed = 7;
  GaussianMixture<S> g(o);
  g.fit(article<S>(scale));
  return g;
}

template <typename S>
KMeans<S> fitted_kmeans(double scale = 1.0) {
  typename KMeans<S>::Options o;
  o.n_clusters = 3;
  o.seed = 3;
  KMeans<S> km(o);
  km.fit(article<S>(scale));
  return km;
}

MiniBatchKMeans<double> streamed_minibatch(int pieces) {
  MiniBatchKMeans<double>::Options o;
  o.n_clusters = 6;
  o.seed = 11;
  o.reassignment_ratio = 0.9;  // reassignments (random draws) in every step
  MiniBatchKMeans<double> m(o);
  for (int p = 0; p < pieces; ++p) m.partial_fit(emcluster_test::blobs(200, 3, 4, 6.0, 100 + p));
  return m;
}

}  // namespace

// =============================================================================================
// Round trips, bit for bit

TEMPLATE_TEST_CASE(
    "Model files: a GaussianMixture round-trips bit for bit, every covariance "
    "type with and without noise",
    "[io]", float, double) {
  using S = TestType;
  const Mat<S> Y = new_points<S>();
  for (CovarianceType type : {CovarianceType::full, CovarianceType::tied, CovarianceType::diagonal,
                              CovarianceType::spherical}) {
    for (bool noise : {false, true}) {
      INFO("covariance " << emcluster::detail::covariance_type_name(type) << ", noise " << noise);
      const GaussianMixture<S> g = fitted_gmm<S>(type, noise);
      const GaussianMixture<S> back = round_trip(g);
      check_same_gmm_results(g, back, Y);
      CHECK(back.options().covariance_type == type);
      CHECK(back.options().noise_component == noise);
      CHECK(back.options().seed == 7);
    }
  }
}

TEMPLATE_TEST_CASE(
    "Model files: KMeans, MiniBatchKMeans and StandardScaler round-trip bit for "
    "bit",
    "[io]", float, double) {
  using S = TestType;
  const Mat<S> X = article<S>();
  const Mat<S> Y = new_points<S>();

  const KMeans<S> km = fitted_kmeans<S>();
  const KMeans<S> km_back = round_trip(km);
  check_same_centroid_results<KMeans<S>, S>(km, km_back, Y);
  CHECK(km_back.converged() == km.converged());

  typename MiniBatchKMeans<S>::Options mo;
  mo.n_clusters = 4;
  mo.batch_size = 256;
  mo.seed = 9;
  MiniBatchKMeans<S> mb(mo);
  mb.fit(X);
  const MiniBatchKMeans<S> mb_back = round_trip(mb);
  check_same_centroid_results<MiniBatchKMeans<S>, S>(mb, mb_back, Y);
  CHECK(same_bits(mb.counts(), mb_back.counts()));
  CHECK(mb.n_steps() == mb_back.n_steps());

  for (bool with_mean : {true, false}) {
    for (bool with_std : {true, false}) {
      typename StandardScaler<S>::Options so;
      so.with_mean = with_mean;
      so.with_std = with_std;
      StandardScaler<S> sc(so);
      Mat<S> Xc = X;
      Xc.col(1).setConstant(S(3));  // a constant feature: scale 1
      sc.fit(Xc);
      const StandardScaler<S> back = round_trip(sc);
      CHECK(same_bits(sc.transform(Y), back.transform(Y)));
      CHECK(same_bits(sc.inverse_transform(Y), back.inverse_transform(Y)));
      CHECK(same_bits(sc.mean(), back.mean()));
      CHECK(same_bits(sc.scale(), back.scale()));
      CHECK(same_bits(sc.var(), back.var()));
      CHECK(back.n_samples_seen() == sc.n_samples_seen());
      CHECK(back.options().with_mean == with_mean);
      CHECK(back.options().with_std == with_std);
    }
  }
}

TEMPLATE_TEST_CASE("Model files: models of extreme data (rescaled fits) round-trip bit for bit",
                   "[io]", float, double) {
  using S = TestType;
  // Data far beyond the unscaled range: the fits run on X 2^-e and keep e.
  const int e = std::is_same<S, float>::value ? 60 : 300;
  const double big = std::ldexp(1.0, e), tiny = std::ldexp(1.0, -e);
  for (double scale : {big, tiny}) {
    INFO("scale " << scale);
    const Mat<S> Y = (new_points<S>().template cast<double>() * scale).template cast<S>();
    const GaussianMixture<S> g = fitted_gmm<S>(CovarianceType::full, true, scale);
    CHECK(scale_exponent_of(saved(g)) != 0);
    check_same_gmm_results(g, round_trip(g), Y);

    const KMeans<S> km = fitted_kmeans<S>(scale);
    CHECK(scale_exponent_of(saved(km)) != 0);
    check_same_centroid_results<KMeans<S>, S>(km, round_trip(km), Y);

    StandardScaler<S> sc;
    sc.fit(article<S>(scale));
    const StandardScaler<S> back = round_trip(sc);
    CHECK(same_bits(sc.transform(Y), back.transform(Y)));
    CHECK(same_bits(sc.var(), back.var()));
  }
}

TEST_CASE("Model files: doubles and floats are written and read back exactly", "[io]") {
  // Options hold arbitrary values the user chose: the hardest to round-trip.
  const double dmin = std::numeric_limits<double>::denorm_min();
  const std::vector<double> doubles = {0.1,
                                       -0.0,
                                       1.0 / 3.0,
                                       std::nextafter(1.0, 2.0),
                                       dmin,
                                       3 * dmin,
                                       std::numeric_limits<double>::min(),
                                       std::nextafter(std::numeric_limits<double>::min(), 0.0),
                                       std::numeric_limits<double>::max(),
                                       -std::numeric_limits<double>::max(),
                                       1e-300,
                                       6.02214076e23,
                                       123456789012345678.0};
  emcluster::detail::Random rng(5);
  Eigen::MatrixXd C(4, 8);
  for (Eigen::Index i = 0; i < C.size(); ++i) {
    C(i) = static_cast<std::size_t>(i) < doubles.size()
               ? doubles[static_cast<std::size_t>(i)]
               : std::ldexp(rng.uniform(-1, 1), static_cast<int>(rng.uniform_index(2000)) - 1000);
  }
  KMeans<double>::Options o;
  o.n_clusters = 4;
  o.init = emcluster::KMeansInit::explicit_centers;
  o.initial_centers = C;
  o.tol = 1e-300;
  o.seed = std::numeric_limits<std::uint64_t>::max();
  const KMeans<double> back = round_trip(KMeans<double>(o));
  CHECK(same_bits(back.options().initial_centers, C));
  CHECK(std::signbit(back.options().initial_centers(1)));  // -0.0 stays negative
  CHECK(back.options().tol == 1e-300);
  CHECK(back.options().seed == std::numeric_limits<std::uint64_t>::max());
  CHECK_FALSE(back.is_fitted());

  const float fmin = std::numeric_limits<float>::denorm_min();
  Eigen::MatrixXf F(2, 8);
  F << 0.1f, -0.0f, fmin, 7 * fmin, std::numeric_limits<float>::min(),
      std::numeric_limits<float>::max(), 1.0f / 3.0f, 16777217.0f, -1e-30f, 3e38f, 2.5f, -7.75f,
      1e-40f, 0.3f, 1234.5678f, -0.001f;
  KMeans<float>::Options fo;
  fo.n_clusters = 2;
  fo.init = emcluster::KMeansInit::explicit_centers;
  fo.initial_centers = F;
  const std::string text = saved(KMeans<float>(fo));
  CHECK(same_bits(loaded<KMeans<float>>(text).options().initial_centers, F));
  // A float32 file loads into a double model too, each value exactly.
  CHECK(same_bits(loaded<KMeans<double>>(text).options().initial_centers,
                  Eigen::MatrixXd(F.cast<double>())));
}

TEST_CASE("Model files: a float32 model loads as double, a float64 one not as float", "[io]") {
  const KMeans<float> kf = fitted_kmeans<float>();
  const KMeans<double> kd = loaded<KMeans<double>>(saved(kf));
  CHECK(same_bits(kd.cluster_centers(), Eigen::MatrixXd(kf.cluster_centers().cast<double>())));
  const Mat<double> Y = new_points<double>();
  CHECK(kd.predict(Y) == kf.predict(Eigen::MatrixXf(Y.cast<float>())));

  const GaussianMixture<float> gf = fitted_gmm<float>(CovarianceType::diagonal, true);
  const GaussianMixture<double> gd = loaded<GaussianMixture<double>>(saved(gf));
  CHECK(same_bits(Eigen::MatrixXf(gd.means().cast<float>()), gf.means()));
  CHECK(gd.predict(new_points<double>()) == gf.predict(new_points<float>()));

  require_load_error(fitted_kmeans<float>(), saved(fitted_kmeans<double>()), "/scalar",
                     "a float64 model cannot be loaded into a float model");
  // A float32 file must hold float values.
  require_load_error(fitted_kmeans<float>(), with(saved(kf), "/state/centers/0/0", 0.1),
                     "/state/centers/0/0", "is not a float32 value");
  require_load_error(fitted_kmeans<float>(), with(saved(kf), "/state/centers/0/0", 1e39),
                     "/state/centers/0/0", "beyond the range of float32");
}

TEST_CASE("Model files: a Pipeline predicts on raw data and round-trips bit for bit", "[io]") {
  const Mat<double> X = article<double>(30.0);
  const Mat<double> Y = new_points<double>() * 30.0;
  GaussianMixture<double>::Options o;
  o.n_components = 3;
  o.noise_component = true;
  o.seed = 1;
  Pipeline<GaussianMixture<double>> pipe{GaussianMixture<double>(o)};
  const Eigen::VectorXi labels = pipe.fit_predict(X);

  // The same as the two steps by hand.
  StandardScaler<double> sc;
  const Eigen::MatrixXd Z = sc.fit_transform(X);
  GaussianMixture<double> g(o);
  CHECK(g.fit_predict(Z) == labels);
  CHECK(same_bits(pipe.predict_proba(Y), g.predict_proba(sc.transform(Y))));

  const auto back = round_trip(pipe);
  CHECK(back.predict(Y) == pipe.predict(Y));
  CHECK(same_bits(back.predict_proba(Y), pipe.predict_proba(Y)));
  CHECK(same_bits(back.score_samples(Y), pipe.score_samples(Y)));
  CHECK(same_bits(back.transform(Y), pipe.transform(Y)));

  Pipeline<KMeans<float>> kp{KMeans<float>(KMeans<float>::Options{})};
  kp.fit(X.cast<float>());
  const Eigen::MatrixXf Yf = Y.cast<float>();
  const auto kback = round_trip(kp);
  CHECK(kback.predict(Yf) == kp.predict(Yf));
  CHECK(kback.score(Yf) == kp.score(Yf));

  // The tool's view of the file.
  const std::string path = "emcluster_test_pipeline.json";
  emcluster::save_model(pipe, path);
  const emcluster::ModelFileInfo info = emcluster::read_model_info(path);
  CHECK(info.estimator == "Pipeline");
  CHECK(info.model_estimator == "GaussianMixture");
  CHECK(info.scalar == "float64");
  CHECK(info.format_version == emcluster::model_file_version);
  CHECK(info.feature_names.empty());
  CHECK(info.library_version == emcluster::version_string);
  const auto from_file = emcluster::load_model<Pipeline<GaussianMixture<double>>>(path);
  CHECK(from_file.predict(Y) == pipe.predict(Y));
  std::remove(path.c_str());

  // The pipeline's fit is all or nothing.
  Mat<double> bad = X;
  bad(4, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(pipe.fit(bad), std::invalid_argument);
  CHECK(saved(pipe) == saved(back));
}

TEST_CASE("Model files: a loaded MiniBatchKMeans continues partial_fit exactly", "[io]") {
  MiniBatchKMeans<double> live = streamed_minibatch(5);
  const std::string text = saved(live);
  MiniBatchKMeans<double> resumed = loaded<MiniBatchKMeans<double>>(text);
  // A copy with another random state: must diverge, or the test could not fail.
  nlohmann::json j = nlohmann::json::parse(text);
  j["state"]["random_state"]["engine"] = emcluster::detail::Random(999).state().engine;
  MiniBatchKMeans<double> perturbed = loaded<MiniBatchKMeans<double>>(j.dump());
  for (int p = 5; p < 15; ++p) {
    const Eigen::MatrixXd piece = emcluster_test::blobs(200, 3, 4, 6.0, 100 + p);
    live.partial_fit(piece);
    resumed.partial_fit(piece);
    perturbed.partial_fit(piece);
  }
  CHECK(same_bits(live.cluster_centers(), resumed.cluster_centers()));
  CHECK(same_bits(live.counts(), resumed.counts()));
  CHECK(live.labels() == resumed.labels());
  CHECK(live.n_steps() == resumed.n_steps());
  CHECK(saved(live) == saved(resumed));
  CHECK_FALSE(same_bits(live.cluster_centers(), perturbed.cluster_centers()));
}

TEST_CASE("Model files: an unfitted model keeps its options, a load keeps the callback", "[io]") {
  GaussianMixture<double>::Options o;
  o.n_components = 2;
  o.covariance_type = CovarianceType::tied;
  o.init = emcluster::GaussianMixtureInit::explicit_parameters;
  o.initial_means = Eigen::MatrixXd::Constant(2, 3, 0.25);
  o.initial_precisions = {Eigen::MatrixXd::Identity(3, 3) * 2.0};
  o.initial_weights = Eigen::Vector2d(0.25, 0.75);
  o.noise_component = true;
  o.noise_low = Eigen::Vector3d(-1, -2, -3);
  o.noise_high = Eigen::Vector3d(1, 2, 3);
  o.reg_covar = 1e-9;
  const GaussianMixture<double> back = round_trip(GaussianMixture<double>(o));
  CHECK_FALSE(back.is_fitted());
  CHECK(back.options().init == emcluster::GaussianMixtureInit::explicit_parameters);
  CHECK(same_bits(back.options().initial_means, o.initial_means));
  CHECK(same_bits(back.options().initial_precisions.at(0), o.initial_precisions[0]));
  CHECK(same_bits(back.options().initial_weights, o.initial_weights));
  CHECK(same_bits(back.options().noise_high, o.noise_high));
  CHECK(back.options().reg_covar == 1e-9);

  int calls = 0;
  GaussianMixture<double>::Options with_callback;
  with_callback.callback = [&calls](const emcluster::GaussianMixtureIteration&) { ++calls; };
  GaussianMixture<double> target(with_callback);
  std::istringstream in(saved(fitted_gmm<double>(CovarianceType::full, false)));
  emcluster::load_model(target, in);
  CHECK(target.options().n_components == 3);
  target.fit(article<double>());
  CHECK(calls > 0);
}

// =============================================================================================
// Broken files

TEST_CASE("Model files: every broken field is refused with its JSON path", "[io][errors]") {
  const GaussianMixture<double> g = fitted_gmm<double>(CovarianceType::full, true);
  const std::string t = saved(g);
  struct Case {
    std::string text, path, needle;
  };
  const std::vector<Case> cases = {
      {without(t, "/format"), "/format", "missing field"},
      {with(t, "/format", "emcluster-modle"), "/format", "not an emcluster model file"},
      {with(t, "/format_version", 3), "/format_version", "newer than this library"},
      {with(t, "/format_version", 0), "/format_version", "below 1"},
      {with(t, "/format_version", "1"), "/format_version", "expected an integer, found string"},
      {with(t, "/estimator", "DBSCAN"), "/estimator", "unknown estimator \"DBSCAN\""},
      {with(t, "/estimator", "KMeans"), "/estimator", "the file holds a \"KMeans\""},
      {with(t, "/scalar", "float16"), "/scalar", "unknown scalar type"},
      {with(t, "/comment", "hello"), "/comment", "unexpected field"},
      {with(t, "/state/extra", 1), "/state/extra", "unexpected field"},
      {with(t, "/options/callback", 1), "/options/callback", "unexpected field"},
      {without(t, "/state/means"), "/state/means", "missing field"},
      {with(t, "/state/means/1/0", nullptr), "/state/means/1/0", "expected a number, found null"},
      {with(t, "/state/means/1/0", "0.5"), "/state/means/1/0", "expected a number, found string"},
      {with(t, "/state/means/1", {1.0}), "/state/means/1", "has 1 entries, expected 2"},
      {without(t, "/state/means/2"), "/state/means", "has 2 entries, expected 3"},
      {with(t, "/state", nlohmann::json::array()), "/state", "expected an object, found array"},
      {with(t, "/state/n_iter", 1.5), "/state/n_iter", "expected an integer"},
      {with(t, "/state/converged", 1), "/state/converged", "expected true or false"},
      {with(t, "/state/scale_exponent", 5000), "/state/scale_exponent", "above 1100"},
      {with(t, "/options/covariance_type", "banana"), "/options/covariance_type",
       "unknown value \"banana\""},
      {with(t, "/options/tol", -1.0), "/options", "tol = -1 must be finite and >= 0"},
      {with(t, "/options/n_components", 1000000000000LL), "/options/n_components", "above"},
      {with(t, "/state/n_features", 1000000), "/state/n_features", "refused before allocating"},
      {with(t, "/state/weights/0", 0.9), "/state/weights", "sum to"},
      {with(t, "/state/weights/0", -0.1), "/state/weights/0", "not in (0, 1]"},
      {with(t, "/state/noise_weight", 0.0), "/state/noise_weight", "not in (0, 1]"},
      {with(t, "/state/precisions_cholesky/1/1/0", 0.5), "/state/precisions_cholesky/1",
       "upper triangular"},
      {with(t, "/state/precisions_cholesky/0/0/0", -2.0), "/state/precisions_cholesky/0",
       "diagonal entry 0"},
      {with(t, "/state/covariances/2", {{1.0, 2.0}, {2.0, 1.0}}), "/state/covariances/2",
       "not positive definite"},
      {with(t, "/state/covariances/2", {{1.0, 0.5}, {0.0, 1.0}}), "/state/covariances/2",
       "not symmetric"},
      {with(t, "/state/noise_low/1", 1e6), "/state/noise_high/1", "noise_low < noise_high"},
      {with(t, "/state/lower_bound", "x"), "/state/lower_bound", "expected a number"},
  };
  for (const Case& c : cases) {
    require_load_error(g, c.text, c.path, c.needle);
  }
  // A mixture without noise has weights summing to 1 and noise weight 0.
  const GaussianMixture<double> plain = fitted_gmm<double>(CovarianceType::spherical, false);
  const std::string p = saved(plain);
  require_load_error(plain, with(p, "/state/noise_weight", 0.01), "/state/noise_weight",
                     "the model has no noise component");
  require_load_error(plain, with(p, "/state/covariances/1", 0.0), "/state/covariances/1",
                     "not > 0");
  require_load_error(plain, with(p, "/state/noise_low", {0.0, 0.0}), "/state/noise_low",
                     "unexpected field");
  // A double mean that float cannot hold, in a float model: refused, not turned into inf.
  const GaussianMixture<float> gf = fitted_gmm<float>(CovarianceType::full, false);
  require_load_error(gf, with(saved(gf), "/state/means/0/0", 1e300), "/state/means",
                     "beyond the range of float");
}

TEST_CASE("Model files: broken K-means, mini-batch and scaler states are refused", "[io][errors]") {
  const KMeans<double> km = fitted_kmeans<double>();
  const std::string k = saved(km);
  require_load_error(km, with(k, "/state/labels/5", 3), "/state/labels/5", "above 2");
  require_load_error(km, with(k, "/state/labels/5", -1), "/state/labels/5", "below 0");
  require_load_error(km, with(k, "/state/n_features", 3), "/state/centers/0",
                     "has 2 entries, expected 3");
  require_load_error(km, with(with(k, "/state/scale_exponent", 1000), "/state/centers/0/0", 1e10),
                     "/state/centers/0/0", "beyond the range of double");
  require_load_error(km, with(k, "/state/inertia", -1.0), "/state/inertia", "negative");
  require_load_error(km, with(k, "/options/n_clusters", 4), "/state/centers",
                     "has 3 entries, expected 4");
  require_load_error(km, with(k, "/options/initial_centers", {{1.0, 2.0, 3.0}}),
                     "/options/initial_centers", "is 1 x 3 but the model has 3 x 2");
  require_load_error(km, with(k, "/options/max_iter", 0), "/options/max_iter", "below 1");
  require_load_error(km, with(k, "/options/seed", -1), "/options/seed", "expected an integer >= 0");
  require_load_error(km, with(k, "/options/n_clusters", 1000000000000LL), "/options/n_clusters",
                     "above 268435456");
  require_load_error(km, with(k, "/state/n_features", 1000000000000LL), "/state/n_features",
                     "refused before allocating");

  const MiniBatchKMeans<double> mb = streamed_minibatch(3);
  const std::string m = saved(mb);
  require_load_error(mb, with(m, "/state/counts/2", -1.0), "/state/counts/2", "negative");
  require_load_error(mb, without(m, "/state/random_state/engine/0"), "/state/random_state/engine",
                     "std::mt19937_64 state has");
  require_load_error(mb, with(m, "/state/random_state/engine/7", -5),
                     "/state/random_state/engine/7", "expected an integer >= 0");
  require_load_error(mb, with(m, "/state/n_steps", 0), "/state/n_steps", "below 1");

  StandardScaler<double> sc;
  sc.fit(article<double>());
  const std::string s = saved(sc);
  require_load_error(sc, with(s, "/state/scaled_std/0", 0.123), "/state/scaled_std/0",
                     "neither the square root");
  require_load_error(sc, with(s, "/state/exponents/1", 2000), "/state/exponents/1", "above 1022");
  require_load_error(sc, with(s, "/state/scaled_var/1", -1.0), "/state/scaled_var/1",
                     "not in [0, 4]");
  require_load_error(sc, with(s, "/state/n_samples_seen", 0), "/state/n_samples_seen", "below 1");

  Pipeline<KMeans<double>> pipe;
  pipe.fit(article<double>());
  const std::string pt = saved(pipe);
  require_load_error(pipe, with(pt, "/model/estimator", "GaussianMixture"), "/model/estimator",
                     "the file's model is \"GaussianMixture\"");
  require_load_error(pipe, with(pt, "/scaler/state/scaled_mean/0", 3.0),
                     "/scaler/state/scaled_mean/0", "not in [-2, 2]");
}

TEST_CASE("Model files: text that is not JSON, or too deep, is refused without a crash",
          "[io][errors]") {
  const KMeans<double> km = fitted_kmeans<double>();
  const std::string k = saved(km);
  const auto syntax = [&](const std::string& text, const std::string& needle) {
    INFO(text.substr(0, 60));
    require_load_error(km, text, "", needle);
  };
  syntax("", "not valid JSON at byte");
  syntax(k.substr(0, k.size() / 2), "not valid JSON at byte");
  syntax(k + "x", "not valid JSON");
  syntax("{\"format\": NaN}", "not valid JSON");
  syntax("{\"format\": 1e400}", "not valid JSON");
  syntax("{\"format\": 1, \"format\": 2}", "appears twice");
  syntax(std::string(1000000, '['), "nests deeper than 32");
  syntax(std::string(1000000, '{'), "not valid JSON");  // a key expected: refused at once
  syntax("[]", "expected an object");
  {
    std::istringstream in(k.substr(0, 100));
    KMeans<double> target;
    try {
      emcluster::load_model(target, in);
      FAIL("no exception");
    } catch (const model_file_error& e) {
      CHECK(e.byte_position() > 0);
      CHECK(e.json_path().empty());
    }
  }
  // Any prefix of a valid file: a model_file_error, never a crash or a partial model.
  for (std::size_t cut = 0; cut < k.size(); cut += 53) {
    KMeans<double> target;
    std::istringstream in(k.substr(0, cut));
    CHECK_THROWS_AS(emcluster::load_model(target, in), model_file_error);
    CHECK_FALSE(target.is_fitted());
  }
}

TEST_CASE("Model files: the corpus of broken files in tests/data/model_files", "[io][errors]") {
  struct Case {
    const char* file;
    const char* path;
    const char* needle;
  };
  // Each file is a saved model of the article's data with one defect (README of the folder).
  const std::vector<Case> gmm_cases = {
      {"gmm_lower_triangular_precision.json", "/state/precisions_cholesky/0", "upper triangular"},
      {"gmm_weights_sum.json", "/state/weights", "sum to 1.1"},
      {"gmm_noise_box_inverted.json", "/state/noise_high/0", "noise_low < noise_high"},
      {"gmm_huge_header.json", "/state/n_features", "refused before allocating"},
      {"gmm_future_version.json", "/format_version", "newer than this library"},
      {"gmm_truncated.json", "", "not valid JSON at byte"},
      {"gmm_nan.json", "", "not valid JSON"},
      {"gmm_null_mean.json", "/state/means/1/0", "expected a number, found null"},
      {"gmm_covariance_edited.json", "/state/precisions_cholesky/2",
       "does not match its covariance"},
  };
  const std::vector<Case> kmeans_cases = {
      {"kmeans_unknown_estimator.json", "/estimator", "unknown estimator"},
      {"kmeans_extra_field.json", "/state/centres", "unexpected field"},
      {"kmeans_missing_centers.json", "/state/centers", "missing field"},
      {"kmeans_wrong_shape.json", "/state/centers/1", "has 3 entries, expected 2"},
      {"kmeans_huge_center.json", "/state/centers/0", "the squared norm of centre 0"},
  };
  const std::string dir = std::string(EMCLUSTER_TEST_DATA_DIR) + "/model_files/";
  const auto read = [&](const char* name) {
    std::ifstream in(dir + name, std::ios::binary);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  for (const Case& c : gmm_cases) {
    INFO(c.file);
    require_load_error(fitted_gmm<double>(CovarianceType::full, true), read(c.file), c.path,
                       c.needle);
    // The path overload names the file first.
    GaussianMixture<double> target;
    try {
      emcluster::load_model(target, dir + c.file);
      FAIL("no exception");
    } catch (const model_file_error& e) {
      CHECK(std::string(e.what()).rfind(dir + c.file + ": ", 0) == 0);
    }
  }
  for (const Case& c : kmeans_cases) {
    INFO(c.file);
    require_load_error(fitted_kmeans<double>(), read(c.file), c.path, c.needle);
  }
  // The valid file the defects were made from loads.
  const auto ok = emcluster::load_model<GaussianMixture<double>>(dir + "gmm_valid.json");
  CHECK(ok.n_components() == 3);
  CHECK(ok.noise_weight() > 0);
}

TEST_CASE("Model files: files that cannot be opened or written", "[io][errors]") {
  KMeans<double> km;
  CHECK_THROWS_WITH(emcluster::load_model(km, std::string("/nonexistent/dir/m.json")),
                    Catch::Contains("cannot open /nonexistent/dir/m.json"));
  CHECK_THROWS_AS(emcluster::save_model(fitted_kmeans<double>(), "/nonexistent/dir/m.json"),
                  model_file_error);
  CHECK_THROWS_AS(emcluster::read_model_info(std::string("/nonexistent/m.json")), model_file_error);
}

// =============================================================================================
// Format version 2: feature names, K-means files without the training labels, redundant
// fields that must agree, and saving whole files

TEST_CASE("Model files: feature names are saved, read back and checked", "[io]") {
  const GaussianMixture<double> g = fitted_gmm<double>(CovarianceType::full, true);
  emcluster::SaveOptions o;
  o.feature_names = {"x", "y"};
  std::ostringstream out;
  emcluster::save_model(g, out, o);
  const std::string t = out.str();
  CHECK(nlohmann::json::parse(t)["feature_names"] == nlohmann::json({"x", "y"}));
  std::istringstream in(t);
  CHECK(emcluster::read_model_info(in).feature_names == std::vector<std::string>{"x", "y"});
  const auto back = loaded<GaussianMixture<double>>(t);
  check_same_gmm_results(g, back, new_points<double>());
  // Names that cannot describe the model are refused when saving...
  for (const auto& names : std::vector<std::vector<std::string>>{{"x"}, {"x", ""}, {"x", "x"}}) {
    o.feature_names = names;
    std::ostringstream bad;
    CHECK_THROWS_AS(emcluster::save_model(g, bad, o), std::invalid_argument);
  }
  // ... and when loading.
  require_load_error(g, with(t, "/feature_names", {"x", "y", "z"}), "/feature_names",
                     "3 feature names for a model of 2 features");
  require_load_error(g, with(t, "/feature_names", {"x", "x"}), "/feature_names", "appears twice");
  require_load_error(g, with(t, "/feature_names", {"x", 1}), "/feature_names/1",
                     "expected a string");
  // A version 1 file has no such field.
  require_load_error(g, with(with(t, "/format_version", 1), "/feature_names", {"x", "y"}),
                     "/feature_names", "unexpected field");
  // A Pipeline's names are the raw data's.
  Pipeline<KMeans<double>> pipe;
  pipe.fit(article<double>());
  o.feature_names = {"a", "b"};
  std::ostringstream p;
  emcluster::save_model(pipe, p, o);
  std::istringstream pin(p.str());
  CHECK(emcluster::read_model_info(pin).feature_names == o.feature_names);
}

TEST_CASE("Model files: K-means files without the training labels predict the same", "[io]") {
  const KMeans<double> km = fitted_kmeans<double>();
  emcluster::SaveOptions o;
  o.training_labels = false;
  std::ostringstream out;
  emcluster::save_model(km, out, o);
  CHECK_FALSE(nlohmann::json::parse(out.str())["state"].contains("labels"));
  CHECK(saved(km).size() - out.str().size() >= 2 * 1830);  // a label and a comma per row
  const auto back = loaded<KMeans<double>>(out.str());
  CHECK(back.labels().size() == 0);
  const auto Y = new_points<double>();
  CHECK(back.predict(Y) == km.predict(Y));
  CHECK(same_bits(back.transform(Y), km.transform(Y)));
  CHECK(back.inertia() == km.inertia());
  // A mini-batch model continues partial_fit exactly without them.
  MiniBatchKMeans<double> mb = streamed_minibatch(2);
  std::ostringstream m;
  emcluster::save_model(mb, m, o);
  auto mb_back = loaded<MiniBatchKMeans<double>>(m.str());
  const auto more = emcluster_test::blobs(200, 3, 4, 6.0, 900);
  mb.partial_fit(more);
  mb_back.partial_fit(more);
  CHECK(same_bits(mb.cluster_centers(), mb_back.cluster_centers()));
}

TEST_CASE("Model files: redundant fields must agree", "[io][errors]") {
  // A covariance edited without its precision factor (or the reverse) is refused.
  const struct {
    CovarianceType type;
    const char* covariance;
    const char* precision;
    const char* path;
  } cases[] = {
      {CovarianceType::full, "/state/covariances/1/0/0", "/state/precisions_cholesky/1/1/1",
       "/state/precisions_cholesky/1"},
      {CovarianceType::tied, "/state/covariances/0/0", "/state/precisions_cholesky/0/1",
       "/state/precisions_cholesky"},
      {CovarianceType::diagonal, "/state/covariances/2/1", "/state/precisions_cholesky/2/1",
       "/state/precisions_cholesky/2"},
      {CovarianceType::spherical, "/state/covariances/0", "/state/precisions_cholesky/0",
       "/state/precisions_cholesky/0"},
  };
  for (const auto& c : cases) {
    INFO(static_cast<int>(c.type));
    const GaussianMixture<double> g = fitted_gmm<double>(c.type, false);
    const std::string t = saved(g);
    const auto j = nlohmann::json::parse(t);
    const nlohmann::json::json_pointer cov(c.covariance), prec(c.precision);
    require_load_error(g, with(t, c.covariance, j[cov].get<double>() * 1.5), c.path,
                       "does not match its covariance");
    require_load_error(g, with(t, c.precision, j[prec].get<double>() * 1.001), c.path,
                       "does not match its covariance");
    // Within the stated tolerance (1e-6 of the largest entry) is accepted.
    CHECK_NOTHROW(
        loaded<GaussianMixture<double>>(with(t, c.precision, j[prec].get<double>() * (1 + 1e-12))));
  }
  // K-means centres whose squared norms overflow the model's type.
  const KMeans<double> km = fitted_kmeans<double>();
  require_load_error(km, with(saved(km), "/state/centers/1", {1e308, -1e308}), "/state/centers/1",
                     "the squared norm of centre 1 is beyond the range of double");
  const KMeans<float> kf = fitted_kmeans<float>();
  require_load_error(kf, with(saved(kf), "/state/centers/0", {static_cast<double>(1e20f), 0.0}),
                     "/state/centers/0", "beyond the range of float");
}

TEST_CASE("Model files: save_model replaces a file whole, or leaves it", "[io]") {
  namespace fs = std::filesystem;
  const std::string dir = "emcluster_test_save";
  fs::remove_all(dir);
  fs::create_directory(dir);
  const std::string path = dir + "/m.json";
  const KMeans<double> a = fitted_kmeans<double>();
  emcluster::save_model(a, path);
  const KMeans<double> b = fitted_kmeans<double>(2.0);
  emcluster::save_model(b, path);
  CHECK(emcluster::load_model<KMeans<double>>(path).cluster_centers() == b.cluster_centers());
  // A save that fails (names that do not fit) leaves the previous file and no temporary.
  emcluster::SaveOptions bad;
  bad.feature_names = {"only one"};
  CHECK_THROWS_AS(emcluster::save_model(a, path, bad), std::invalid_argument);
  CHECK(emcluster::load_model<KMeans<double>>(path).cluster_centers() == b.cluster_centers());
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);
  // A directory is not a model file, to read or to write.
  CHECK_THROWS_WITH(emcluster::save_model(a, dir), Catch::Contains("is a directory"));
  CHECK_THROWS_WITH(emcluster::load_model<KMeans<double>>(dir), Catch::Contains("is a directory"));
  fs::remove_all(dir);
}
