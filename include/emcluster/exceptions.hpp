/// @file exceptions.hpp
/// @brief The exception types emcluster throws beyond the standard ones.
///
/// Conventions used by every estimator:
/// - `std::invalid_argument`: bad input data or options (NaN/Inf, wrong sizes, k < 1, ...).
///   The message names the function, the argument and, for data, the row and column.
/// - `emcluster::not_fitted_error` (a `std::logic_error`): a method that needs a fitted model
///   was called before `fit`.
/// - `emcluster::numerical_error` (a `std::runtime_error`): the numbers themselves failed, for
///   example a covariance that is not positive definite even after regularisation.
/// - `emcluster::model_file_error` (a `std::runtime_error`): a model file (emcluster/io.hpp)
///   cannot be read or written, is not JSON, or does not hold a valid model; it names the
///   field by its JSON path.
///
/// A `fit` that throws leaves a previously fitted model exactly as it was.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace emcluster {

/// Thrown when a method that needs a fitted model is called before `fit`.
class not_fitted_error : public std::logic_error {
 public:
  explicit not_fitted_error(const std::string& what) : std::logic_error(what) {}
};

/// Thrown when a computation fails numerically (for example a covariance that is not
/// positive definite); the message says which part failed and what to change.
class numerical_error : public std::runtime_error {
 public:
  explicit numerical_error(const std::string& what) : std::runtime_error(what) {}
};

/// Thrown by the model files of emcluster/io.hpp (save_model, load_model, read_model_info)
/// when a file cannot be opened, read or written, is not valid JSON, or does not describe a
/// valid model. The message says what is wrong and where; json_path() is the JSON Pointer
/// (RFC 6901) of the offending field, e.g. "/state/means/1/0" for the second mean's first
/// coordinate, empty when the problem is not in one field (I/O, JSON syntax: the message then
/// gives the line and column, and byte_position() the byte).
///
/// @code
/// try {
///   auto km = emcluster::load_model<emcluster::KMeans<>>("model.json");
/// } catch (const emcluster::model_file_error& e) {
///   std::cerr << e.what() << " (field " << e.json_path() << ")\n";
/// }
/// @endcode
class model_file_error : public std::runtime_error {
 public:
  /// what: the whole message; json_path: the field's JSON Pointer ("" = none); byte: where a
  /// JSON syntax error was found (0 = not a syntax error).
  explicit model_file_error(const std::string& what, std::string json_path = {},
                            std::size_t byte = 0)
      : std::runtime_error(what), json_path_(std::move(json_path)), byte_(byte) {}
  /// JSON Pointer of the offending field ("" for the whole document, I/O or syntax errors).
  const std::string& json_path() const noexcept { return json_path_; }
  /// Bytes read when a JSON syntax error was found (as nlohmann-json counts them); 0 otherwise.
  std::size_t byte_position() const noexcept { return byte_; }

 private:
  std::string json_path_;
  std::size_t byte_;
};

}  // namespace emcluster
