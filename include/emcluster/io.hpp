/// @file io.hpp
/// @brief Model files: save a fitted KMeans, MiniBatchKMeans, GaussianMixture,
/// StandardScaler or Pipeline to JSON and load it back, bit for bit.
///
/// The only emcluster header that needs nlohmann-json (Debian `nlohmann-json3-dev`; in CMake
/// the target `emcluster::io`); nothing else includes it.
///
/// **Format** (version 2; version 1 files are read too): one JSON object,
///
///     {"format": "emcluster-model", "format_version": 2, "library_version": "0.1.0",
///      "estimator": "KMeans", "scalar": "float64",
///      "feature_names": ["x", "y"],            (optional: SaveOptions::feature_names)
///      "options": {...every option but the callback...},
///      "state": {...the fitted state..., or null for a model not fitted}}
///
/// and for a Pipeline, instead of "options" and "state", "scaler" and "model": each an object
/// with "estimator", "options" and "state". README.md ("Model files") lists every field.
/// Version 2 added "feature_names" and made K-means' "labels" optional.
///
/// **Writing** to a path is atomic: the file is written to a temporary beside it, flushed to
/// disk and renamed over the target, so a reader (or the next load) finds the previous model
/// or the whole new one, never a part, whatever happens during the save (a kill, a full disk,
/// another process saving the same path: the last to finish wins, whole).
///
/// **Guarantees.** Numbers are written in the shortest form that reads back to the same
/// double (float values are written as the doubles they are), so a loaded model holds the
/// same bits and gives the same predict, predict_proba, score_samples, transform and score
/// results, bit for bit, as the saved one; a loaded MiniBatchKMeans continues partial_fit
/// exactly as the saved one would (its counts and random state are saved). The callback
/// option is not saved: a load keeps the target model's callback.
///
/// **Loading validates everything** and throws model_file_error naming the field by its
/// JSON path: the format name and version (a newer version is refused), the estimator and
/// scalar type, missing, unknown or wrongly typed fields, every shape against k and d,
/// finite numbers (JSON has no NaN/Inf; a number beyond double's range is refused), weights
/// in (0, 1] summing with the noise weight to 1 within 1e-8, covariances positive definite,
/// precision Cholesky factors upper triangular with a positive diagonal, noise boxes with
/// low < high, labels in [0, k), the options as the estimator's fit checks them, precision
/// Cholesky factors that are those of the covariances (to 1e-6 of their largest entry: one
/// edited without the other is refused), K-means centres whose squared norms are finite,
/// feature names that are distinct, non-empty and one per feature. A file may
/// declare at most 2^28 values per field (k d^2 of a full mixture, say), checked before
/// anything is allocated, and nest at most 32 levels. A load that throws leaves the target
/// model untouched.
///
/// **Scalar types.** A "float32" file loads into a float or a double model (float values are
/// exact in double; its values must all be float values). A "float64" file loads only into a
/// double model: rounding its values to float would silently change the model, so it is
/// refused (load it as double, or refit in float).
///
/// @code
/// #include <emcluster/io.hpp>
///
/// emcluster::GaussianMixture<> gmm(opts);
/// gmm.fit(X);
/// emcluster::save_model(gmm, "gmm.json");
/// // ... in another program:
/// auto loaded = emcluster::load_model<emcluster::GaussianMixture<>>("gmm.json");
/// Eigen::VectorXi labels = loaded.predict(Y);           // the same as gmm.predict(Y)
/// @endcode
#pragma once

#include <nlohmann/json.hpp>

#include <climits>
#include <cstdint>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "detail/io/atomic_file.hpp"
#include "detail/io/file_kind.hpp"
#include "detail/model_file_json.hpp"
#include "detail/model_file_models.hpp"
#include "exceptions.hpp"
#include "gaussian_mixture.hpp"
#include "kmeans.hpp"
#include "minibatch_kmeans.hpp"
#include "pipeline.hpp"
#include "preprocessing.hpp"
#include "version.hpp"

namespace emcluster {

/// The value of "format" in every model file.
inline constexpr const char* model_file_format = "emcluster-model";
/// The format version this library writes and the newest it reads (it reads 1 too).
inline constexpr int model_file_version = 2;

/// What save_model() writes beside the model.
struct SaveOptions {
  /// KMeans, MiniBatchKMeans: keep the labels of the fit's samples (labels()) in the file, n
  /// integers. Without them the file holds everything predict, transform, score and
  /// partial_fit use, and labels() of the loaded model is empty (size 0).
  bool training_labels = true;
  /// The names of the features the model was fitted on, in order (the data's column names),
  /// stored as "feature_names" so that a reader can select those columns by name;
  /// read_model_info() returns them. Empty: none stored. Otherwise one per feature of a fitted
  /// model, each non-empty, all distinct (std::invalid_argument if not).
  std::vector<std::string> feature_names;
};

/// What read_model_info() finds at the top of a model file.
struct ModelFileInfo {
  std::string estimator;        ///< "KMeans", "MiniBatchKMeans", "GaussianMixture", ...
  std::string scalar;           ///< "float32" or "float64"
  int format_version = 0;       ///< the file's format version (this library reads 1 and 2)
  std::string library_version;  ///< the emcluster version that wrote it
  /// For a "Pipeline": its model step's estimator ("KMeans", ...); empty otherwise.
  std::string model_estimator;
  /// The names of the features it was fitted on (SaveOptions::feature_names); empty when the
  /// file has none.
  std::vector<std::string> feature_names;
};

namespace detail {

template <typename Model>
struct ModelScalar {
  using type = typename Model::Matrix::Scalar;
};
template <typename S>
struct ModelScalar<StandardScaler<S>> {
  using type = S;
};

template <typename Model>
constexpr const char* scalar_name() {
  return std::is_same<typename ModelScalar<Model>::type, float>::value ? "float32" : "float64";
}

/// The number of features of a fitted model, -1 for one not fitted.
template <typename Model>
Eigen::Index fitted_features(const Model& m) {
  return m.is_fitted() ? m.n_features() : -1;
}
template <typename Model>
Eigen::Index fitted_features(const Pipeline<Model>& p) {
  return p.is_fitted() ? p.scaler().n_features() : -1;
}

/// Why these feature names cannot describe a model of d features (d < 0: not fitted), or "".
inline std::string feature_names_problem(const std::vector<std::string>& names, Eigen::Index d) {
  if (names.empty()) return "";
  if (d >= 0 && static_cast<Eigen::Index>(names.size()) != d) {
    return message(names.size(), " feature names for a model of ", d, " features");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return message("feature name ", i, " is empty");
    if (!seen.insert(names[i]).second) {
      return message("feature name ", quoted(names[i]), " appears twice");
    }
  }
  return "";
}

/// The "feature_names" of a file: an array of strings.
inline std::vector<std::string> read_feature_names(const Field& f) {
  const std::size_t n = read_array(f);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) names.push_back(read_string(f.item(i)));
  return names;
}

/// What the top of a file says.
struct FileHeader {
  bool f32 = false;  ///< the file is float32
  int version = 0;
};

/// Checks the top of a file: format, version, estimator and scalar type for Model.
template <typename Model>
FileHeader read_header(Fields& top) {
  const Field format = top("format");
  const std::string name = read_string(format);
  if (name != model_file_format) {
    format.fail(message(quoted(name), " is not ", quoted(model_file_format),
                        ": not an emcluster model file"));
  }
  const Field version = top("format_version");
  const std::int64_t v = read_int(version, 1, std::numeric_limits<std::int64_t>::max());
  if (v > model_file_version) {
    version.fail(message("format version ", v, " is newer than this library (emcluster ",
                         version_string, ") reads (", model_file_version,
                         "): use a newer emcluster"));
  }
  read_string(top("library_version"));
  const Field estimator = top("estimator");
  const std::string got = read_string(estimator);
  if (got != EstimatorName<Model>::value) {
    const bool known = got == "KMeans" || got == "MiniBatchKMeans" || got == "GaussianMixture" ||
                       got == "StandardScaler" || got == "Pipeline";
    estimator.fail(message(known ? "the file holds a " : "unknown estimator ", quoted(got),
                           ", not a ", EstimatorName<Model>::value));
  }
  const Field scalar = top("scalar");
  const std::string s = read_string(scalar);
  if (s != "float32" && s != "float64") {
    scalar.fail(message("unknown scalar type ", quoted(s), " (float32 or float64)"));
  }
  if (s == "float64" && std::is_same<typename ModelScalar<Model>::type, float>::value) {
    scalar.fail(
        "a float64 model cannot be loaded into a float model (its values would be rounded): "
        "load it into the double model, or refit in float");
  }
  return FileHeader{s == "float32", static_cast<int>(v)};
}

/// Prefixes a file error with the file's name ("m.json: ...").
template <typename F>
auto with_file_name(const std::string& path, F&& f) {
  try {
    return f();
  } catch (const model_file_error& e) {
    throw model_file_error(path + ": " + e.what(), e.json_path(), e.byte_position());
  }
}

}  // namespace detail

/// Writes a model (fitted or not) to a stream as one line of JSON.
///
/// @tparam Model KMeans<S>, MiniBatchKMeans<S>, GaussianMixture<S>, StandardScaler<S> or
///         Pipeline<Model> (S float or double).
/// Throws model_file_error when the stream fails, std::invalid_argument for feature names that
/// do not fit the model (see SaveOptions).
///
/// @code
/// std::ostringstream out;
/// emcluster::save_model(kmeans, out);
/// @endcode
template <typename Model>
void save_model(const Model& m, std::ostream& out, const SaveOptions& options = {}) {
  const std::string problem =
      detail::feature_names_problem(options.feature_names, detail::fitted_features(m));
  if (!problem.empty()) {
    throw std::invalid_argument("emcluster::save_model: SaveOptions::feature_names: " + problem);
  }
  detail::OrderedJson doc;
  doc["format"] = model_file_format;
  doc["format_version"] = model_file_version;
  doc["library_version"] = version_string;
  doc["estimator"] = detail::EstimatorName<Model>::value;
  doc["scalar"] = detail::scalar_name<Model>();
  if (!options.feature_names.empty()) doc["feature_names"] = options.feature_names;
  detail::ModelAccess::write_body(m, doc, options.training_labels);
  out << doc.dump() << '\n';
  out.flush();
  if (!out) throw model_file_error("emcluster::save_model: writing the model failed");
}

/// Writes a model to a file, created or replaced whole: the JSON goes to a temporary file in
/// the same directory, which is flushed to disk and renamed over `path` (a kill, a full disk
/// or a second writer never leaves a part of a model at `path`; a failed save leaves the
/// previous file). Throws model_file_error when the file cannot be written (the reason, such
/// as "No space left on device", in the message).
///
/// @code
/// emcluster::save_model(gmm, "gmm.json");
/// emcluster::SaveOptions keep;
/// keep.feature_names = {"eruptions", "waiting"};
/// keep.training_labels = false;                     // K-means: centres only
/// emcluster::save_model(kmeans, "kmeans.json", keep);
/// @endcode
template <typename Model>
void save_model(const Model& m, const std::string& path, const SaveOptions& options = {}) {
  try {
    detail::AtomicFile file(path);
    detail::with_file_name(path, [&] { save_model(m, file.stream(), options); });
    file.commit();
  } catch (const data_file_error& e) {
    throw model_file_error("emcluster::save_model: " + std::string(e.what()));
  }
}

/// Reads a model from a stream into m, replacing its options (but not its callback) and
/// fitted state. Throws model_file_error (with the field's JSON path) for anything invalid;
/// m is then untouched.
///
/// @code
/// emcluster::KMeans<> km;
/// std::istringstream in(text);
/// emcluster::load_model(km, in);
/// @endcode
template <typename Model>
void load_model(Model& m, std::istream& in) {
  const detail::Json doc = detail::parse_json(in);
  detail::Fields top(detail::Field(doc, ""));
  const detail::FileHeader header = detail::read_header<Model>(top);
  if (header.version >= 2 && top.has("feature_names")) {
    const detail::Field names = top("feature_names");
    detail::read_feature_names(names);  // checked against the model below
  }
  Model loaded = detail::ModelAccess::read(top, header.f32, m);
  top.finish();
  if (header.version >= 2 && top.has("feature_names")) {
    const detail::Field names = top("feature_names");
    const std::string problem = detail::feature_names_problem(detail::read_feature_names(names),
                                                              detail::fitted_features(loaded));
    if (!problem.empty()) names.fail(problem);
  }
  m = std::move(loaded);  // commit: everything above left m as it was
}

/// Reads a model from a file into m (see the stream overload); messages start with the path.
///
/// @code
/// emcluster::GaussianMixture<float> gmm;
/// emcluster::load_model(gmm, "gmm32.json");   // a float32 file
/// @endcode
template <typename Model>
void load_model(Model& m, const std::string& path) {
  try {
    detail::io::check_not_directory(path);
  } catch (const data_file_error& e) {
    throw model_file_error("emcluster::load_model: " + std::string(e.what()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw model_file_error("emcluster::load_model: cannot open " + path);
  detail::with_file_name(path, [&] { load_model(m, in); });
}

/// Reads a model from a file into a new Model.
///
/// @code
/// auto pipe = emcluster::load_model<emcluster::Pipeline<emcluster::KMeans<>>>("pipe.json");
/// Eigen::VectorXi labels = pipe.predict(X_raw);
/// @endcode
template <typename Model>
Model load_model(const std::string& path) {
  Model m;
  load_model(m, path);
  return m;
}

/// Reads only the top of a model file (after parsing all of it as JSON): what it holds, so
/// a tool can choose the type to load it as. Checks the format name; any format version is
/// reported (load_model refuses versions newer than model_file_version).
///
/// @code
/// emcluster::ModelFileInfo info = emcluster::read_model_info("model.json");
/// if (info.estimator == "GaussianMixture" && info.scalar == "float64") {
///   auto gmm = emcluster::load_model<emcluster::GaussianMixture<double>>("model.json");
/// }
/// @endcode
inline ModelFileInfo read_model_info(std::istream& in) {
  const detail::Json doc = detail::parse_json(in);
  const detail::Field root(doc, "");
  detail::Fields top(root);
  const detail::Field format = top("format");
  if (detail::read_string(format) != model_file_format) {
    format.fail("not an emcluster model file");
  }
  ModelFileInfo info;
  info.format_version = static_cast<int>(detail::read_int(top("format_version"), 1, INT_MAX));
  info.library_version = detail::read_string(top("library_version"));
  info.estimator = detail::read_string(top("estimator"));
  info.scalar = detail::read_string(top("scalar"));
  if (info.estimator == "Pipeline" && top.has("model")) {
    detail::Fields model(top("model"));
    info.model_estimator = detail::read_string(model("estimator"));
  }
  if (top.has("feature_names")) {
    info.feature_names = detail::read_feature_names(top("feature_names"));
  }
  return info;
}

/// read_model_info from a file; messages start with the path.
inline ModelFileInfo read_model_info(const std::string& path) {
  try {
    detail::io::check_not_directory(path);
  } catch (const data_file_error& e) {
    throw model_file_error("emcluster::read_model_info: " + std::string(e.what()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw model_file_error("emcluster::read_model_info: cannot open " + path);
  return detail::with_file_name(path, [&] { return read_model_info(in); });
}

}  // namespace emcluster
