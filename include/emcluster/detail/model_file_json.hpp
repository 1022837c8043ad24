/// @file detail/model_file_json.hpp
/// @brief The JSON layer of model files (io.hpp): parsing with a nesting and duplicate-key
/// guard, reading typed fields with their JSON path for messages, and writing Eigen matrices.
/// Needs nlohmann-json; only io.hpp includes it.
#pragma once

#include <nlohmann/json.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../exceptions.hpp"
#include "validation.hpp"

namespace emcluster::detail {

using Json = nlohmann::json;                 ///< what a file is parsed into (map objects)
using OrderedJson = nlohmann::ordered_json;  ///< what is written: fields in documented order

/// Deepest nesting of arrays and objects a model file may have (version 1 needs 6).
inline constexpr int kMaxJsonDepth = 32;
/// Most numbers one field of a model file may hold (k d^2 covariance entries, say): a file
/// that declares more is refused before anything is allocated for it.
inline constexpr std::int64_t kMaxModelValues = std::int64_t(1) << 28;

/// A string from a file, quoted and cut to 40 bytes for a message.
inline std::string quoted(const std::string& s) {
  return "\"" + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + "\"";
}

/// key as one reference token of a JSON Pointer (RFC 6901: ~ is ~0, / is ~1).
inline std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key.size() > 40 ? key.substr(0, 40) : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

/// Throws model_file_error for the field at `path`.
[[noreturn]] inline void file_fail(const std::string& path, const std::string& what) {
  throw model_file_error(
      message("emcluster::load_model: ", path.empty() ? "the document" : path, ": ", what), path);
}

/// Parses a whole stream as one JSON document. Refuses nesting deeper than kMaxJsonDepth
/// and an object with a key twice (before the parser builds anything more); wraps the
/// parser's errors (syntax, a number beyond double's range, bad UTF-8, trailing bytes) into
/// model_file_error with the byte position.
inline Json parse_json(std::istream& in) {
  std::vector<std::set<std::string>> keys;  // the keys seen in each open object
  const Json::parser_callback_t guard = [&keys](int depth, Json::parse_event_t event,
                                                Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) {
          throw model_file_error(message("emcluster::load_model: the JSON nests deeper than ",
                                         kMaxJsonDepth,
                                         " levels; a model file needs at most 6: not a model"));
        }
        if (event == Json::parse_event_t::object_start) keys.emplace_back();
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
          throw model_file_error(message("emcluster::load_model: the key ",
                                         quoted(parsed.get<std::string>()),
                                         " appears twice in one object"));
        }
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return Json::parse(in, guard, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::parse_error& e) {
    throw model_file_error(
        message("emcluster::load_model: not valid JSON at byte ", e.byte, ": ", e.what()), "",
        e.byte);
  } catch (const Json::exception& e) {
    throw model_file_error(message("emcluster::load_model: not valid JSON: ", e.what()));
  }
}

/// A value of a parsed file and its JSON path.
class Field {
 public:
  Field(const Json& value, std::string path) : value_(&value), path_(std::move(path)) {}
  const Json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const { file_fail(path_, what); }
  /// Element i of an array (the caller checked the size).
  Field item(std::size_t i) const { return Field((*value_)[i], path_ + "/" + std::to_string(i)); }
  /// "expected X, found <type>".
  [[noreturn]] void wrong_type(const char* expected) const {
    fail(message("expected ", expected, ", found ",
                 value_->is_number() ? "a number" : std::string(value_->type_name())));
  }

 private:
  const Json* value_;
  std::string path_;
};

/// The fields of a JSON object, read by name; finish() refuses any field nobody read.
class Fields {
 public:
  explicit Fields(const Field& object) : object_(object) {
    if (!object.json().is_object()) object.wrong_type("an object");
  }
  /// Whether the object has `key`.
  bool has(const char* key) const { return object_.json().contains(key); }
  /// The required field `key`.
  Field operator()(const char* key) {
    known_.emplace_back(key);
    const auto it = object_.json().find(key);
    if (it == object_.json().end()) {
      file_fail(object_.path() + "/" + key, "missing field");
    }
    return Field(*it, object_.path() + "/" + key);
  }
  /// Throws for the first field that was not read (unknown to this version).
  void finish() const {
    for (auto it = object_.json().begin(); it != object_.json().end(); ++it) {
      if (std::find(known_.begin(), known_.end(), it.key()) == known_.end()) {
        std::string expected;
        for (const auto& k : known_) expected += (expected.empty() ? "" : ", ") + k;
        file_fail(object_.path() + "/" + pointer_token(it.key()),
                  "unexpected field (this object has: " + expected + ")");
      }
    }
  }
  const Field& field() const { return object_; }

 private:
  Field object_;
  std::vector<std::string> known_;
};

/// A finite number. With exact_float, also a value float represents exactly (what a
/// float32 file holds for a model's float values).
inline double read_double(const Field& f, bool exact_float = false) {
  if (!f.json().is_number()) f.wrong_type("a number");
  const double v = f.json().get<double>();
  if (!std::isfinite(v)) f.fail("not a finite number");
  if (exact_float) {
    if (std::abs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
      f.fail(message(v, " is beyond the range of float32 (the file says scalar float32)"));
    }
    if (static_cast<double>(static_cast<float>(v)) != v) {
      f.fail(message(v, " is not a float32 value (the file says scalar float32)"));
    }
  }
  return v;
}

/// An integer in [lo, hi].
inline std::int64_t read_int(const Field& f, std::int64_t lo, std::int64_t hi) {
  const Json& j = f.json();
  if (j.is_number_unsigned()) {
    const std::uint64_t v = j.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(hi)) f.fail(message(v, " is above ", hi));
    if (static_cast<std::int64_t>(v) < lo) f.fail(message(v, " is below ", lo));
    return static_cast<std::int64_t>(v);
  }
  if (!j.is_number_integer()) f.wrong_type("an integer");
  const std::int64_t v = j.get<std::int64_t>();
  if (v < lo) f.fail(message(v, " is below ", lo));
  if (v > hi) f.fail(message(v, " is above ", hi));
  return v;
}

/// An int in [lo, hi].
inline int read_int32(const Field& f, int lo, int hi) {
  return static_cast<int>(read_int(f, lo, hi));
}

/// An unsigned 64-bit integer (a seed, a random engine's word).
inline std::uint64_t read_uint64(const Field& f) {
  if (!f.json().is_number_unsigned()) f.wrong_type("an integer >= 0");
  return f.json().get<std::uint64_t>();
}

inline bool read_bool(const Field& f) {
  if (!f.json().is_boolean()) f.wrong_type("true or false");
  return f.json().get<bool>();
}

inline std::string read_string(const Field& f) {
  if (!f.json().is_string()) f.wrong_type("a string");
  return f.json().get<std::string>();
}

/// An array of exactly `size` elements (size < 0: any size up to kMaxModelValues).
inline std::size_t read_array(const Field& f, std::int64_t size = -1) {
  if (!f.json().is_array()) f.wrong_type("an array");
  const auto n = static_cast<std::int64_t>(f.json().size());
  if (size >= 0 && n != size) f.fail(message("has ", n, " entries, expected ", size));
  if (n > kMaxModelValues) f.fail(message("has ", n, " entries, more than ", kMaxModelValues));
  return static_cast<std::size_t>(n);
}

/// One of the names, as its enumerator.
template <typename Enum>
Enum read_enum(const Field& f, const std::vector<std::pair<const char*, Enum>>& names) {
  const std::string s = read_string(f);
  std::string all;
  for (const auto& [name, value] : names) {
    if (s == name) return value;
    all += (all.empty() ? "" : ", ") + std::string(name);
  }
  f.fail(message("unknown value ", quoted(s), " (one of: ", all, ")"));
}

/// The name of an enumerator.
template <typename Enum>
const char* enum_name(Enum value, const std::vector<std::pair<const char*, Enum>>& names) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "?";
}

/// n finite numbers.
inline Eigen::VectorXd read_vector(const Field& f, Eigen::Index n, bool exact_float) {
  read_array(f, n);
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i)
    v(i) = read_double(f.item(static_cast<std::size_t>(i)), exact_float);
  return v;
}

/// A vector of any length ([] = empty).
inline Eigen::VectorXd read_any_vector(const Field& f, bool exact_float) {
  const std::size_t n = read_array(f);
  return read_vector(f, static_cast<Eigen::Index>(n), exact_float);
}

/// A rows x cols matrix written as `rows` arrays of `cols` numbers.
inline Eigen::MatrixXd read_matrix(const Field& f, Eigen::Index rows, Eigen::Index cols,
                                   bool exact_float) {
  read_array(f, rows);
  for (Eigen::Index i = 0; i < rows; ++i) read_array(f.item(static_cast<std::size_t>(i)), cols);
  Eigen::MatrixXd M(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    const Field row = f.item(static_cast<std::size_t>(i));
    for (Eigen::Index j = 0; j < cols; ++j) {
      M(i, j) = read_double(row.item(static_cast<std::size_t>(j)), exact_float);
    }
  }
  return M;
}

/// A matrix of any shape, rows of equal length ([] = 0 x 0).
inline Eigen::MatrixXd read_any_matrix(const Field& f, bool exact_float) {
  const auto rows = static_cast<std::int64_t>(read_array(f));
  if (rows == 0) return Eigen::MatrixXd();
  const auto cols = static_cast<std::int64_t>(read_array(f.item(0)));
  if (cols == 0 || rows * cols > kMaxModelValues) {
    f.fail(message("is ", rows, " x ", cols, ": not a matrix a model holds"));
  }
  return read_matrix(f, rows, cols, exact_float);
}

/// v in a file: non-finite values are refused (a fitted model never holds one).
inline double finite_for_file(double v, const char* what) {
  if (!std::isfinite(v)) {
    throw model_file_error(message("emcluster::save_model: ", what, " holds ", v,
                                   ", which a model file cannot hold (JSON has no NaN/Inf)"));
  }
  return v;
}

/// A matrix as an array of rows of numbers (in double: float values are written exactly).
template <typename Derived>
OrderedJson write_matrix(const Eigen::MatrixBase<Derived>& M, const char* what) {
  OrderedJson rows = OrderedJson::array();
  for (Eigen::Index i = 0; i < M.rows(); ++i) {
    OrderedJson row = OrderedJson::array();
    for (Eigen::Index j = 0; j < M.cols(); ++j) {
      row.push_back(finite_for_file(static_cast<double>(M(i, j)), what));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

/// A vector (or the entries of any matrix, column by column) as an array of numbers.
template <typename Derived>
OrderedJson write_vector(const Eigen::MatrixBase<Derived>& v, const char* what) {
  OrderedJson out = OrderedJson::array();
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    out.push_back(finite_for_file(static_cast<double>(v(i)), what));
  }
  return out;
}

/// a * b * c, or -1 when it exceeds kMaxModelValues (no overflow: every factor is checked).
inline std::int64_t checked_values(std::int64_t a, std::int64_t b, std::int64_t c = 1) {
  if (a < 0 || b < 0 || c < 0) return -1;
  if (a > kMaxModelValues || b > kMaxModelValues || c > kMaxModelValues) return -1;
  const std::int64_t ab = a * b;  // < 2^56
  if (ab > kMaxModelValues) return -1;
  const std::int64_t abc = ab * c;
  return abc > kMaxModelValues ? -1 : abc;
}

}  // namespace emcluster::detail
