/// @file csv.hpp
/// @brief CSV files (RFC 4180) read into Eigen row-major matrices, labels and probabilities
/// written as CSV, and read_matrix() choosing CSV or NPY by the file's extension.
///
/// The reader follows RFC 4180: fields separated by a delimiter (`,` unless chosen), records
/// ended by LF, CRLF or CR, fields optionally in double quotes (a quoted field may hold the
/// delimiter, line breaks, and quotes written twice). A UTF-8 byte order mark is skipped.
/// Blank lines are skipped. Numbers are parsed with `std::from_chars` (leading and trailing
/// spaces or tabs, and a leading `+`, are allowed); a number in quotes is a number.
///
/// The first row is a header when declared so (CsvHeader::present), or, by default, when one
/// of its fields is neither empty nor a number. Columns may be selected by header name or by
/// 0-based index; other columns are not parsed (they may hold text).
///
/// Bad values in the selected columns (an empty field, text that is not a number, NaN or an
/// infinity, a number outside the Scalar's range) are errors by default; with
/// CsvBadValues::drop_row their rows are dropped and their lines reported. A row with a
/// different number of fields than the first is always an error.
///
/// Every error is an emcluster::data_file_error whose message reads `file:line:column: ...`
/// (1-based line, 1-based column counted in bytes from the start of the line).
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
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <istream>
#include <limits>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "exceptions.hpp"
#include "npy.hpp"

namespace emcluster {

/// Whether the first row of a CSV file is a header.
enum class CsvHeader {
  detect,   ///< a header when one of its fields is neither empty nor a number
  present,  ///< the first row is a header
  absent    ///< the first row is data
};

/// What the CSV reader does with a bad value in a selected column: an empty field, text that
/// is not a number, NaN, an infinity, or a number outside the Scalar's range.
enum class CsvBadValues {
  error,    ///< throw data_file_error at the value's line and column
  drop_row  ///< leave the row out (CsvTable::dropped_lines lists it)
};

/// Options of read_csv(); the defaults read every column of a comma-separated file.
struct CsvReadOptions {
  char delimiter = ',';                           ///< field separator (',', ';', '\t', ' ', ...)
  CsvHeader header = CsvHeader::detect;           ///< is the first row a header?
  std::vector<std::string> columns;               ///< select these columns by header name
  std::vector<Eigen::Index> column_indices;       ///< or these, by 0-based index
  CsvBadValues bad_values = CsvBadValues::error;  ///< error, or drop the row
};

/// What read_csv() returns.
template <class Scalar>
struct CsvTable {
  RowMajorMatrix<Scalar> values;             ///< one row per data row, the selected columns
  std::vector<std::string> column_names;     ///< the selected columns' header names (empty
                                             ///< strings when the file has no header)
  bool has_header = false;                   ///< whether the first row was a header
  std::vector<std::uint64_t> dropped_lines;  ///< lines of the rows dropped (drop_row only)
};

namespace detail::csv {

/// One field of the current record: bytes [begin, end) of the buffer (inside the quotes for a
/// quoted field), and where it starts in the file.
struct Field {
  const char* begin;
  const char* end;
  bool escaped_quotes;  ///< a quoted field holding "" (to be unescaped)
  std::uint64_t line;
  std::uint64_t column;
};

inline bool is_blank(char c) { return c == ' ' || c == '\t'; }

/// The field's text, quotes unescaped (into scratch when needed).
inline std::pair<const char*, const char*> field_text(const Field& f, std::string& scratch) {
  if (!f.escaped_quotes) return {f.begin, f.end};
  scratch.clear();
  for (const char* p = f.begin; p < f.end; ++p) {
    scratch.push_back(*p);
    if (*p == '"') ++p;  // "" -> "
  }
  return {scratch.data(), scratch.data() + scratch.size()};
}

/// How a field parses as a number.
enum class Parse { ok, empty, not_a_number, non_finite, out_of_range };

template <class Scalar>
Parse parse_number(const char* b, const char* e, Scalar& value) {
  while (b < e && is_blank(*b)) ++b;
  while (e > b && is_blank(e[-1])) --e;
  if (b == e) return Parse::empty;
  if (*b == '+' && e - b > 1 && b[1] != '-' && b[1] != '+') ++b;
  const auto r = std::from_chars(b, e, value);
  if (r.ptr != e) return Parse::not_a_number;
  if (r.ec == std::errc::result_out_of_range) return Parse::out_of_range;
  if (r.ec != std::errc()) return Parse::not_a_number;
  if (!std::isfinite(value)) return Parse::non_finite;
  return Parse::ok;
}

inline std::string quoted_excerpt(const char* b, const char* e) {
  constexpr std::ptrdiff_t max = 40;
  std::string s(b, static_cast<std::size_t>(std::min(e - b, max)));
  if (e - b > max) s += "...";
  return "\"" + s + "\"";
}

/// The reader: a chunked buffer, a record scanner, and the conversion of selected fields.
template <class Scalar>
class Reader {
 public:
  Reader(std::istream& in, const std::string& name, const CsvReadOptions& options)
      : in_(in), name_(name), options_(options) {
    const char d = options.delimiter;
    if (d == '"' || d == '\n' || d == '\r' || d == '\0') {
      throw std::invalid_argument(std::string("read_csv: options.delimiter cannot be ") +
                                  (d == '"' ? "the quote character" : "a line break or NUL"));
    }
    if (!options.columns.empty() && !options.column_indices.empty()) {
      throw std::invalid_argument(
          "read_csv: select columns by name (options.columns) or by index "
          "(options.column_indices), not both");
    }
    for (int c = 0; c < 256; ++c) special_[c] = false;
    special_[static_cast<unsigned char>(d)] = true;
    special_[static_cast<unsigned char>('\n')] = true;
    special_[static_cast<unsigned char>('\r')] = true;
    special_[static_cast<unsigned char>('"')] = true;
  }

  CsvTable<Scalar> read() {
    CsvTable<Scalar> table;
    // The buffer: the chunk size, or less for a smaller stream whose size is known.
    capacity_ = chunk;
    const std::streampos here = in_.tellg();
    if (here != std::streampos(-1)) {
      in_.seekg(0, std::ios::end);
      const std::streampos there = in_.tellg();
      in_.clear();
      in_.seekg(here);
      if (there != std::streampos(-1) && there >= here) {
        const auto rest = static_cast<std::uint64_t>(there - here);
        capacity_ = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, rest + 4096));
      }
    }
    in_.clear();
    buffer_.reset(new char[capacity_]);
    fill();
    // A UTF-8 byte order mark.
    if (end_ - pos_ >= 3 && static_cast<unsigned char>(pos_[0]) == 0xEF &&
        static_cast<unsigned char>(pos_[1]) == 0xBB &&
        static_cast<unsigned char>(pos_[2]) == 0xBF) {
      pos_ += 3;
      set_line_start(pos_);  // columns count from after the mark, as editors show them
    }
    if (!next_record()) {
      throw data_file_error::at_text(name_, 1, 1, "empty file: expected CSV data");
    }
    first_fields_ = fields_.size();
    const std::uint64_t first_line = fields_.front().line;
    bool header = options_.header == CsvHeader::present;
    if (options_.header == CsvHeader::detect) {
      if (!options_.columns.empty()) {
        header = true;
      } else {
        for (const Field& f : fields_) {
          const auto t = field_text(f, scratch_);
          Scalar v;
          const Parse p = parse_number(t.first, t.second, v);
          if (p == Parse::not_a_number) header = true;
        }
      }
    }
    std::vector<std::string> names;
    if (header) {
      for (const Field& f : fields_) {
        const auto t = field_text(f, scratch_);
        names.emplace_back(t.first, t.second);
      }
    }
    select_columns(names, first_line, header);
    table.has_header = header;
    for (Eigen::Index j : selected_) {
      table.column_names.push_back(header ? names[static_cast<std::size_t>(j)] : std::string());
    }
    if (!header) convert_record(table);
    std::uint64_t data_rows = header ? 0 : 1;
    plan_fast_path();
    for (;;) {
      if (fast_ && fast_record()) {
        ++data_rows;
        continue;
      }
      if (!next_record()) break;
      convert_record(table);
      ++data_rows;
    }
    if (data_rows == 0) {
      throw data_file_error::at_text(name_, line_, 0, "no data rows after the header");
    }
    const auto d = static_cast<Eigen::Index>(selected_.size());
    const auto n = static_cast<Eigen::Index>(values_.size() / selected_.size());
    if (n == 0) {
      throw data_file_error::at_text(
          name_, table.dropped_lines.front(), 0,
          "every one of the " + std::to_string(table.dropped_lines.size()) +
              " data rows has a bad value and was dropped (this is the first)");
    }
    table.values = Eigen::Map<const RowMajorMatrix<Scalar>>(values_.data(), n, d);
    return table;
  }

 private:
  static constexpr std::size_t chunk = std::size_t{1} << 22;

  [[noreturn]] void fail(std::uint64_t line, std::uint64_t column, const std::string& what) {
    throw data_file_error::at_text(name_, line, column, what);
  }

  /// Moves the unparsed bytes to the front and reads more; false at the end of the stream.
  bool fill() {
    const std::size_t keep = static_cast<std::size_t>(end_ - pos_);
    const std::size_t shift = static_cast<std::size_t>(pos_ - buffer_.get());
    if (keep > capacity_ / 2) {
      // Less than half free: a record longer than half the buffer. Twice the room.
      std::unique_ptr<char[]> bigger(new char[2 * capacity_]);
      if (keep > 0) std::memcpy(bigger.get(), pos_, keep);
      buffer_ = std::move(bigger);
      capacity_ *= 2;
    } else if (keep > 0 && shift > 0) {
      std::memmove(buffer_.get(), pos_, keep);
    }
    in_.read(buffer_.get() + keep, static_cast<std::streamsize>(capacity_ - keep));
    const auto got = static_cast<std::size_t>(in_.gcount());
    if (in_.bad()) throw data_file_error::at_file(name_, "read error");
    pos_ = buffer_.get();
    end_ = pos_ + keep + got;
    line_start_ = line_start_ >= shift ? line_start_ - shift : 0;
    eof_ = got == 0;
    return got > 0;
  }

  /// Scans the next non-blank record into fields_; false at the end of the file.
  bool next_record() {
    for (;;) {
      const Status s = scan_record();
      if (s == Status::complete) return true;
      if (s == Status::end) return false;
      // Incomplete: the record runs past the buffer; read more and scan it again.
      fill();
    }
  }

  enum class Status { complete, incomplete, end };

  Status scan_record() {
    for (;;) {
      const char* p = pos_;
      if (p == end_) return eof_ ? Status::end : Status::incomplete;
      // Blank lines are skipped.
      if (*p == '\n' || *p == '\r') {
        if (*p == '\r' && p + 1 == end_ && !eof_) return Status::incomplete;
        p += (*p == '\r' && p + 1 < end_ && p[1] == '\n') ? 2 : 1;
        pos_ = p;
        ++line_;
        set_line_start(p);
        continue;
      }
      return scan_fields();
    }
  }

  void set_line_start(const char* p) { line_start_ = static_cast<std::size_t>(p - buffer_.get()); }
  std::uint64_t column_of(const char* p, std::size_t line_start) const {
    return static_cast<std::uint64_t>(p - (buffer_.get() + line_start)) + 1;
  }

  /// Scans the fields of the record at pos_; on success consumes it.
  Status scan_fields() {
    fields_.clear();
    const char* p = pos_;
    std::uint64_t line = line_;
    std::size_t line_start = line_start_;
    const char delimiter = options_.delimiter;
    for (;;) {
      Field f;
      f.line = line;
      f.column = column_of(p, line_start);
      f.escaped_quotes = false;
      if (p < end_ && *p == '"') {
        const char* q = p + 1;
        for (;;) {
          const char* hit =
              static_cast<const char*>(std::memchr(q, '"', static_cast<std::size_t>(end_ - q)));
          const char* stop = hit ? hit : end_;
          for (const char* r = q; r < stop; ++r) {
            if (*r == '\n' || (*r == '\r' && (r + 1 == end_ || r[1] != '\n'))) {
              ++line;
              line_start = static_cast<std::size_t>(r + 1 - buffer_.get());
            }
          }
          if (!hit || hit + 1 == end_) {
            if (!eof_) return Status::incomplete;
            if (!hit) fail(f.line, f.column, "unterminated quoted field (no closing quote)");
          }
          if (hit + 1 < end_ && hit[1] == '"') {
            f.escaped_quotes = true;
            q = hit + 2;
            continue;
          }
          f.begin = p + 1;
          f.end = hit;
          p = hit + 1;
          break;
        }
        if (p < end_ && *p != delimiter && *p != '\n' && *p != '\r') {
          fail(line, column_of(p, line_start),
               "expected a delimiter or the end of the line after a closing quote");
        }
      } else {
        f.begin = p;
        while (p < end_ && !special_[static_cast<unsigned char>(*p)]) ++p;
        if (p < end_ && *p == '"') {
          fail(line, column_of(p, line_start),
               "quote inside an unquoted field (quote the whole field, and double the quote)");
        }
        f.end = p;
      }
      fields_.push_back(f);
      if (p == end_) {
        if (!eof_) return Status::incomplete;
        break;
      }
      if (*p == delimiter) {
        ++p;
        continue;
      }
      // A line break ends the record.
      record_end_line_ = line;
      record_end_column_ = column_of(p, line_start);
      if (*p == '\r') {
        if (p + 1 == end_ && !eof_) return Status::incomplete;
        p += (p + 1 < end_ && p[1] == '\n') ? 2 : 1;
      } else {
        ++p;
      }
      pos_ = p;
      line_ = line + 1;
      set_line_start(p);
      return Status::complete;
    }
    record_end_line_ = line;
    record_end_column_ = column_of(p, line_start);
    pos_ = p;
    line_ = line + 1;
    set_line_start(p);
    return Status::complete;
  }

  /// The fast path reads plain numeric records (no quotes, no spaces, no bad values) in one
  /// pass, std::from_chars finding each field's end; anything else goes to the general path.
  void plan_fast_path() {
    out_pos_.assign(first_fields_, -1);
    fast_ = true;
    for (std::size_t k = 0; k < selected_.size(); ++k) {
      auto& slot = out_pos_[static_cast<std::size_t>(selected_[k])];
      if (slot >= 0) fast_ = false;  // a column selected twice
      slot = static_cast<Eigen::Index>(k);
    }
  }

  /// Reads the record at pos_ if it is plain; false (nothing consumed) otherwise.
  bool fast_record() {
    const char* p = pos_;
    const char* const end = end_;
    const std::size_t start = values_.size();
    const std::size_t d = selected_.size();
    const char delimiter = options_.delimiter;
    values_.resize(start + d);
    Scalar* out = values_.data() + start;
    const std::size_t n = first_fields_;
    for (std::size_t j = 0; j < n; ++j) {
      const Eigen::Index k = out_pos_[j];
      const char* q;
      if (k >= 0) {
        Scalar v;
        const auto r = std::from_chars(p, end, v);
        if (r.ec != std::errc() || !std::isfinite(v)) break;
        out[k] = v;
        q = r.ptr;
      } else {
        q = p;
        while (q < end && !special_[static_cast<unsigned char>(*q)]) ++q;
      }
      if (q == end) break;  // incomplete, or the last record: the general path decides
      if (j + 1 < n) {
        if (*q != delimiter) break;
        p = q + 1;
        continue;
      }
      if (*q == '\n') {
        ++q;
      } else if (*q == '\r') {
        if (q + 1 == end) break;
        q += q[1] == '\n' ? 2 : 1;
      } else {
        break;
      }
      pos_ = q;
      ++line_;
      set_line_start(q);
      return true;
    }
    values_.resize(start);
    return false;
  }

  void select_columns(const std::vector<std::string>& names, std::uint64_t line, bool header) {
    const auto n = static_cast<Eigen::Index>(first_fields_);
    if (!options_.columns.empty()) {
      if (!header) {
        fail(line, 1, "columns are selected by name but the first row is not a header");
      }
      for (const std::string& want : options_.columns) {
        const auto it = std::find(names.begin(), names.end(), want);
        if (it == names.end()) {
          std::string all;
          for (const std::string& s : names) all += (all.empty() ? "" : ", ") + s;
          fail(line, 1, "no column named \"" + want + "\" (the header has: " + all + ")");
        }
        selected_.push_back(static_cast<Eigen::Index>(it - names.begin()));
      }
    } else if (!options_.column_indices.empty()) {
      for (Eigen::Index j : options_.column_indices) {
        if (j < 0 || j >= n) {
          fail(line, 1,
               "column index " + std::to_string(j) + " is out of range: the first row has " +
                   std::to_string(n) + " fields (indices are 0-based)");
        }
        selected_.push_back(j);
      }
    } else {
      for (Eigen::Index j = 0; j < n; ++j) selected_.push_back(j);
    }
    for (std::size_t j = 0; j < names.size(); ++j) header_names_.push_back(names[j]);
  }

  std::string field_name(Eigen::Index j) const {
    std::string s = "field " + std::to_string(j + 1);
    if (static_cast<std::size_t>(j) < header_names_.size()) {
      s += " (\"" + header_names_[static_cast<std::size_t>(j)] + "\")";
    }
    return s;
  }

  void convert_record(CsvTable<Scalar>& table) {
    if (fields_.size() != first_fields_) {
      const Field& f = fields_.size() > first_fields_ ? fields_[first_fields_] : fields_.back();
      const std::uint64_t column = fields_.size() > first_fields_ ? f.column : record_end_column_;
      const std::uint64_t line = fields_.size() > first_fields_ ? f.line : record_end_line_;
      fail(line, column,
           "expected " + std::to_string(first_fields_) + " fields (as the first row), found " +
               std::to_string(fields_.size()));
    }
    const std::size_t start = values_.size();
    for (Eigen::Index j : selected_) {
      const Field& f = fields_[static_cast<std::size_t>(j)];
      const auto t = field_text(f, scratch_);
      Scalar v;
      const Parse p = parse_number(t.first, t.second, v);
      if (p == Parse::ok) {
        values_.push_back(v);
        continue;
      }
      if (options_.bad_values == CsvBadValues::drop_row) {
        values_.resize(start);
        table.dropped_lines.push_back(fields_.front().line);
        return;
      }
      const std::string where = " in " + field_name(j);
      switch (p) {
        case Parse::empty:
          fail(f.line, f.column, "missing value" + where + ": expected a number");
        case Parse::non_finite:
          fail(f.line, f.column,
               "non-finite value " + quoted_excerpt(t.first, t.second) + where +
                   ": values must be finite");
        case Parse::out_of_range:
          fail(f.line, f.column,
               "number " + quoted_excerpt(t.first, t.second) + where + " is outside the range of " +
                   (std::is_same<Scalar, float>::value ? "float" : "double"));
        default:
          fail(f.line, f.column,
               "expected a number" + where + ", found " + quoted_excerpt(t.first, t.second));
      }
    }
  }

  std::istream& in_;
  const std::string& name_;
  const CsvReadOptions& options_;
  bool special_[256];
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
  bool eof_ = false;
  std::uint64_t line_ = 1;
  std::size_t line_start_ = 0;  // offset in buffer_ of the current line's start
  std::uint64_t record_end_line_ = 0;
  std::uint64_t record_end_column_ = 0;
  std::vector<Field> fields_;
  std::size_t first_fields_ = 0;
  std::vector<Eigen::Index> selected_;
  std::vector<Eigen::Index> out_pos_;  // field -> position in the output row, or -1
  bool fast_ = false;
  std::vector<std::string> header_names_;
  std::vector<Scalar> values_;
  std::string scratch_;
};

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
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw data_file_error::at_file(path,
                                   "cannot open for reading: " + std::string(std::strerror(errno)));
  }
  return read_csv<Scalar>(in, path, options);
}

/// Reads a data matrix: NPY when the name ends in `.npy` (the CSV options are then ignored),
/// CSV otherwise.
///
/// @code
/// auto X = emcluster::read_matrix<double>(argv[1]);  // data.csv or data.npy
/// @endcode
template <class Scalar>
RowMajorMatrix<Scalar> read_matrix(const std::string& path, const CsvReadOptions& options = {}) {
  if (detail::csv::extension_of(path) == "npy") return read_npy<Scalar>(path);
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

/// Writes x as CSV to the file at `path` (see the stream overload).
///
/// @code
/// emcluster::write_csv("labels.csv", km.predict(X), {"label"});
/// @endcode
template <class Derived>
void write_csv(const std::string& path, const Eigen::DenseBase<Derived>& x,
               const std::vector<std::string>& header = {}, char delimiter = ',') {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw data_file_error::at_file(path,
                                   "cannot open for writing: " + std::string(std::strerror(errno)));
  }
  write_csv(out, path, x, header, delimiter);
  out.close();
  if (!out) throw data_file_error::at_file(path, "write failed");
}

}  // namespace emcluster
