/// @file csv.hpp
/// @brief CSV files (RFC 4180) read into Eigen row-major matrices, labels and probabilities
/// written as CSV, and read_matrix() choosing NPY or CSV by the file's first bytes.
///
/// The reader follows RFC 4180: fields separated by a delimiter (`,` unless chosen, or detected
/// among `,`, `;`, tab and space), records ended by LF, CRLF or CR, fields optionally in double
/// quotes (a quoted field may hold the delimiter, line breaks, and quotes written twice). A
/// UTF-8 byte order mark is skipped. Blank lines are skipped. Numbers are parsed with
/// `std::from_chars` (leading and trailing spaces or tabs, and a leading `+`, are allowed; a
/// decimal comma when CsvReadOptions::decimal says so or detects it); a number in quotes is a
/// number. Empty fields and the tokens NA, N/A, #N/A, NaN, null and None (any case) are missing
/// values.
///
/// The first row is a header when declared so (CsvHeader::present), or, by default, when one
/// of its fields is text above a number or a missing value in the second row: a first row of
/// numbers and missing values is data, and so is a first row whose text sits over text (a
/// file without a header whose columns hold text). A header one field shorter than the data
/// rows (R's `write.table`) names the fields after the first, the row names.
///
/// Columns may be selected by header name or by 0-based index; other columns are not parsed
/// (they may hold text). Without a selection CsvReadOptions::infer_columns leaves out R's row
/// names (a first column with the header `""`, or under a short header) and the columns whose
/// first data value is text, checking that no later value in them is a number (CsvLayout says
/// what was left out; inspect_csv() says it from the first records alone).
///
/// Bad values in the selected columns (a missing value, text that is not a number, an
/// infinity, a number outside the Scalar's range) are errors by default; with
/// CsvBadValues::drop_row their rows are dropped and reported (their lines and their indices
/// among the data rows). A row with a different number of fields than the first is always an
/// error. A file that is not text (gzip, bzip2, xz, zstd, ZIP, UTF-16, UTF-32, NPY, binary) or
/// a directory is refused by name.
///
/// Every error is an emcluster::data_file_error whose message reads `file:line:column: ...`
/// (1-based line, 1-based column counted in bytes from the start of the line).
///
/// Writing goes to a temporary file renamed over the target when complete (write_csv with a
/// path): a reader of the target sees the old file or the whole new one, never a part.
///
/// Speed: the file is read in 4 MiB chunks and parsed in place (no string per field); on one
/// core a numeric CSV reads at a few hundred MB/s (bench/csv_read.cpp).
///
/// @code
/// #include <emcluster/csv.hpp>
///
/// emcluster::CsvReadOptions options;
/// options.columns = {"sepal_length", "petal_length"};     // by header name
/// auto table = emcluster::read_csv<double>("iris.csv", options);
/// const auto& X = table.values;                             // n x 2, row-major
/// Eigen::VectorXi labels = ...;
/// emcluster::write_csv("labels.csv", labels, {"label"});
/// @endcode
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "detail/io/atomic_file.hpp"
#include "detail/io/csv_reader.hpp"
#include "detail/io/file_kind.hpp"
#include "exceptions.hpp"
#include "npy.hpp"

namespace emcluster {

namespace detail::csv {

template <class T>
void append_number(std::string& out, T value) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, r.ptr);
}

inline void append_field(std::string& out, const std::string& s, char delimiter) {
  if (s.find_first_of(std::string("\"\r\n") + delimiter) == std::string::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

inline std::string extension_of(const std::string& path) {
  const auto slash = path.find_last_of("/\\");
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace detail::csv

/// Reads a CSV stream (see the file's description); `name` is used in error messages.
/// @throws data_file_error for a malformed file or a bad value (with its line and column);
///         std::invalid_argument for contradictory options.
template <class Scalar>
CsvTable<Scalar> read_csv(std::istream& in, const std::string& name,
                          const CsvReadOptions& options = {}) {
  detail::npy::check_scalar<Scalar>();
  return detail::csv::Reader<Scalar>(in, name, options).read();
}

/// The layout of a CSV stream from its first two records: the delimiter and decimal separator
/// (as given or detected), whether the first row is a header, the names, and what
/// CsvReadOptions::infer_columns leaves out. Errors as read_csv() gives them for those records.
///
/// @code
/// emcluster::CsvReadOptions o;
/// o.delimiter = '\0';  // detect
/// const emcluster::CsvLayout layout = emcluster::inspect_csv("data.csv", o);
/// if (layout.has_header) { /* select columns by layout.names */ }
/// @endcode
inline CsvLayout inspect_csv(std::istream& in, const std::string& name,
                             const CsvReadOptions& options = {}) {
  return detail::csv::Reader<double>(in, name, options).layout();
}

/// inspect_csv() of the file at `path`.
inline CsvLayout inspect_csv(const std::string& path, const CsvReadOptions& options = {}) {
  std::ifstream in = detail::io::open_for_reading(path);
  return inspect_csv(in, path, options);
}

/// Reads the CSV file at `path`.
///
/// @code
/// emcluster::CsvReadOptions options;
/// options.delimiter = ';';
/// options.bad_values = emcluster::CsvBadValues::drop_row;
/// auto table = emcluster::read_csv<float>("measurements.csv", options);
/// for (auto line : table.dropped_lines) std::cerr << "dropped line " << line << "\n";
/// @endcode
template <class Scalar>
CsvTable<Scalar> read_csv(const std::string& path, const CsvReadOptions& options = {}) {
  std::ifstream in = detail::io::open_for_reading(path);
  return read_csv<Scalar>(in, path, options);
}

/// Whether the file at `path` is an NPY file: its first bytes are NPY's magic string, or (for
/// a file too broken to say) its name ends in `.npy`, any case.
inline bool is_npy_file(const std::string& path) {
  detail::io::check_not_directory(path);
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[6] = {};
  in.read(reinterpret_cast<char*>(magic), 6);
  if (detail::io::is_npy_magic(magic, static_cast<std::size_t>(in.gcount()))) return true;
  return detail::csv::extension_of(path) == "npy";
}

/// Reads a data matrix: NPY when is_npy_file(path) (the CSV options are then ignored), CSV
/// otherwise.
///
/// @code
/// auto X = emcluster::read_matrix<double>(argv[1]);  // data.csv or data.npy
/// @endcode
template <class Scalar>
RowMajorMatrix<Scalar> read_matrix(const std::string& path, const CsvReadOptions& options = {}) {
  if (is_npy_file(path)) return read_npy<Scalar>(path);
  return std::move(read_csv<Scalar>(path, options).values);
}

/// Writes x (floating-point or integer, any Eigen expression) as CSV: an optional header row,
/// then one line per row. Floating-point values are written in the shortest form that reads
/// back to the same bits; header names are quoted when they need it. Lines end in LF.
///
/// @code
/// emcluster::write_csv(std::cout, "stdout", gmm.predict_proba(X), {"p0", "p1", "p2"});
/// @endcode
template <class Derived>
void write_csv(std::ostream& out, const std::string& name, const Eigen::DenseBase<Derived>& x,
               const std::vector<std::string>& header = {}, char delimiter = ',') {
  using Scalar = typename Derived::Scalar;
  static_assert(std::is_arithmetic<Scalar>::value, "write_csv writes numbers");
  if (!header.empty() && static_cast<Eigen::Index>(header.size()) != x.cols()) {
    throw std::invalid_argument("write_csv: header has " + std::to_string(header.size()) +
                                " names for " + std::to_string(x.cols()) + " columns");
  }
  std::string text;
  if (!header.empty()) {
    for (std::size_t j = 0; j < header.size(); ++j) {
      if (j > 0) text += delimiter;
      detail::csv::append_field(text, header[j], delimiter);
    }
    text += '\n';
  }
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      if (j > 0) text += delimiter;
      detail::csv::append_number(text, x(i, j));
    }
    text += '\n';
    if (text.size() > (std::size_t{1} << 20)) {
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      text.clear();
    }
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw data_file_error::at_file(name, "write failed");
}

/// Writes x as CSV to the file at `path` (see the stream overload), whole or not at all: to a
/// temporary file in the same directory, renamed over `path` once complete and on disk (a
/// kill, a full disk or a second writer never leaves a part of a file at `path`).
///
/// @code
/// emcluster::write_csv("labels.csv", km.predict(X), {"label"});
/// @endcode
template <class Derived>
void write_csv(const std::string& path, const Eigen::DenseBase<Derived>& x,
               const std::vector<std::string>& header = {}, char delimiter = ',') {
  detail::write_file_atomically(
      path, [&](std::ostream& out) { write_csv(out, path, x, header, delimiter); });
}

}  // namespace emcluster
