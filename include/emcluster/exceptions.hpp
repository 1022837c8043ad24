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
/// - `emcluster::data_file_error` (a `std::runtime_error`): a data file (CSV, NPY) could not be
///   read; the message starts with the file and the position (`file:line:column:` for text,
///   `file: byte N:` for binary files).
/// - `emcluster::model_file_error` (a `std::runtime_error`): a model file (emcluster/io.hpp)
///   cannot be read or written, is not JSON, or does not hold a valid model; it names the
///   field by its JSON path.
///
/// A `fit` that throws leaves a previously fitted model exactly as it was.
#pragma once

#include <cstddef>
#include <cstdint>
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

/// Thrown by the data file readers and writers (csv.hpp, npy.hpp): the file, where in it, and
/// what was expected there.
///
/// what() is `file:line:column: message` for a text file (line and column 1-based; the column
/// counts bytes from the start of the line), `file: byte N: message` for a binary file (N
/// 0-based), and `file: message` when no position applies (a file that cannot be opened).
///
/// @code
/// try {
///   auto data = emcluster::read_csv<double>("data.csv");
/// } catch (const emcluster::data_file_error& e) {
///   std::cerr << e.what() << "\n";  // data.csv:12:7: expected a number in field 2 ...
/// }
/// @endcode
class data_file_error : public std::runtime_error {
 public:
  /// An error at a text position (line and column 1-based; 0 when not known).
  static data_file_error at_text(const std::string& path, std::uint64_t line, std::uint64_t column,
                                 const std::string& message) {
    std::string where = path;
    if (line > 0) {
      where += ":" + std::to_string(line);
      if (column > 0) where += ":" + std::to_string(column);
    }
    return data_file_error(where + ": " + message, path, line, column, no_offset, message);
  }
  /// An error at a byte offset (0-based) of a binary file.
  static data_file_error at_byte(const std::string& path, std::uint64_t byte_offset,
                                 const std::string& message) {
    return data_file_error(path + ": byte " + std::to_string(byte_offset) + ": " + message, path, 0,
                           0, byte_offset, message);
  }
  /// An error about the file as a whole (it cannot be opened, written, ...).
  static data_file_error at_file(const std::string& path, const std::string& message) {
    return data_file_error(path + ": " + message, path, 0, 0, no_offset, message);
  }

  /// The file's name as the caller gave it.
  const std::string& path() const noexcept { return path_; }
  /// 1-based line of a text file; 0 when not applicable.
  std::uint64_t line() const noexcept { return line_; }
  /// 1-based column (bytes from the start of the line) of a text file; 0 when not applicable.
  std::uint64_t column() const noexcept { return column_; }
  /// 0-based byte offset in a binary file; no_offset when not applicable.
  std::uint64_t byte_offset() const noexcept { return byte_offset_; }
  /// What was expected, without the file and the position.
  const std::string& message() const noexcept { return message_; }

  /// byte_offset() of an error that has none.
  static constexpr std::uint64_t no_offset = ~std::uint64_t{0};

 private:
  data_file_error(const std::string& what, std::string path, std::uint64_t line,
                  std::uint64_t column, std::uint64_t byte_offset, std::string message)
      : std::runtime_error(what),
        path_(std::move(path)),
        message_(std::move(message)),
        line_(line),
        column_(column),
        byte_offset_(byte_offset) {}

  std::string path_;
  std::string message_;
  std::uint64_t line_ = 0;
  std::uint64_t column_ = 0;
  std::uint64_t byte_offset_ = no_offset;
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
