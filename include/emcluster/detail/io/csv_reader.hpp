/// @file detail/io/csv_reader.hpp
/// @brief The CSV reader behind emcluster/csv.hpp, and the option and result types it shares
/// with it (documented there).
///
/// One pass over 4 MiB chunks. The first two records are looked at before any value is
/// converted: they decide the delimiter (when asked to detect it), whether the first row is a
/// header, whether the file has R's row-name column, which columns hold text, and the decimal
/// separator. Then every record goes through a one-pass path for plain numeric records or the
/// general path (quotes, spaces, bad values, validated text columns).
///
/// This header is long because reading people's files takes all of it: the record scanner
/// (RFC 4180), the layout decisions above, the two conversion paths and their error messages.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <istream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../exceptions.hpp"
#include "file_kind.hpp"
#include "row_major_matrix.hpp"

namespace emcluster {

/// Whether the first row of a CSV file is a header.
enum class CsvHeader {
  detect,   ///< a header when a field is text (not a number, not empty, not a missing-value
            ///< token) above a number or a missing value in the second row (a column of text
            ///< has text in both), or when the file has one row
  present,  ///< the first row is a header
  absent    ///< the first row is data
};

/// What the CSV reader does with a bad value in a selected column: an empty field, a
/// missing-value token (NA, N/A, #N/A, NaN, null, None, any case), text that is not a number,
/// an infinity, or a number outside the Scalar's range.
enum class CsvBadValues {
  error,    ///< throw data_file_error at the value's line and column
  drop_row  ///< leave the row out (CsvTable::dropped_rows and dropped_lines list it)
};

/// Why CsvReadOptions::infer_columns left a column out.
enum class CsvLeftOutReason {
  row_names,  ///< the first column of R's write.csv (header "") or of write.table's short header
  text        ///< text in the first data row (and never a number in any row)
};

/// A column the reader left out (CsvReadOptions::infer_columns).
struct CsvLeftOut {
  Eigen::Index index = 0;  ///< 0-based field index
  std::string name;        ///< its header name ("" for none)
  CsvLeftOutReason reason = CsvLeftOutReason::text;
  std::string example;  ///< its first data value
};

/// Options of read_csv(); the defaults read every column of a comma-separated file.
struct CsvReadOptions {
  /// Field separator (',', ';', '\t', ' ', ...); '\0' detects it among ',', ';', tab and (only
  /// when none of those occurs) space, from the first records (CsvLayout::delimiter says which).
  char delimiter = ',';
  /// Decimal separator: '.', or ',' (then a '.' in a number is an error); '\0' detects ','
  /// when the delimiter is not ',' and the first data row has a number written with a decimal
  /// comma and none with a decimal point.
  char decimal = '.';
  CsvHeader header = CsvHeader::detect;           ///< is the first row a header?
  std::vector<std::string> columns;               ///< select these columns by header name
  std::vector<Eigen::Index> column_indices;       ///< or these, by 0-based index
  CsvBadValues bad_values = CsvBadValues::error;  ///< error, or drop the row
  /// Without a selection: leave out a first column of row names (R's write.csv header "",
  /// write.table's header one field short) and the columns whose first data value is text
  /// (checked to hold no number in any row); CsvLayout::left_out lists them.
  bool infer_columns = false;
  /// Called with the bytes read so far after every 4 MiB chunk (progress of a large file).
  std::function<void(std::uint64_t)> progress;
};

/// What the first records of a CSV file say about it (inspect_csv(), CsvTable::layout).
struct CsvLayout {
  char delimiter = ',';  ///< the field separator (given or detected)
  char decimal = '.';    ///< the decimal separator (given or detected)
  bool has_header = false;
  bool short_header = false;         ///< a header one field shorter than the rows (write.table)
  std::vector<std::string> names;    ///< every field's header name ("" without a header)
  std::vector<CsvLeftOut> left_out;  ///< what infer_columns leaves out
  Eigen::Index fields = 0;           ///< fields in a data row
};

/// What read_csv() returns.
template <class Scalar>
struct CsvTable {
  RowMajorMatrix<Scalar> values;             ///< one row per kept data row, the selected columns
  std::vector<std::string> column_names;     ///< the selected columns' header names (empty
                                             ///< strings when the file has no header)
  std::vector<Eigen::Index> column_indices;  ///< the selected columns' 0-based field indices
  bool has_header = false;                   ///< whether the first row was a header
  std::vector<std::uint64_t> dropped_lines;  ///< lines of the rows dropped (drop_row only)
  std::vector<std::uint64_t> dropped_rows;   ///< their 0-based indices among the data rows
  std::uint64_t data_rows = 0;               ///< data rows in the file, dropped ones included
  CsvLayout layout;                          ///< delimiter, header, names, left-out columns
};

namespace detail::csv {

/// One field of a record: bytes [begin, end) (inside the quotes for a quoted field), and where
/// it starts in the file.
struct Field {
  const char* begin;
  const char* end;
  bool escaped_quotes;  ///< a quoted field holding "" (to be unescaped)
  std::uint64_t line;
  std::uint64_t column;
};

/// A field copied out of the buffer (the first record, kept while the second is read).
struct FieldCopy {
  std::string text;  ///< unescaped
  std::uint64_t line, column;
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
enum class Parse { ok, empty, missing, not_a_number, non_finite, out_of_range };

/// Whether [b, e) (blanks trimmed) is a missing-value token: NA, N/A, #N/A, NaN, null, None.
inline bool is_missing_token(const char* b, const char* e) {
  const auto n = static_cast<std::size_t>(e - b);
  if (n < 2 || n > 4) return false;
  char low[5] = {};
  for (std::size_t i = 0; i < n; ++i) {
    low[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(b[i])));
  }
  static const char* const tokens[] = {"na", "n/a", "#n/a", "nan", "null", "none"};
  for (const char* t : tokens) {
    if (std::strcmp(low, t) == 0) return true;
  }
  return false;
}

/// Parses [b, e) with decimal separator `decimal` ('.' or ',').
template <class Scalar>
Parse parse_number(const char* b, const char* e, Scalar& value, char decimal = '.') {
  while (b < e && is_blank(*b)) ++b;
  while (e > b && is_blank(e[-1])) --e;
  if (b == e) return Parse::empty;
  if (is_missing_token(b, e)) return Parse::missing;
  if (*b == '+' && e - b > 1 && b[1] != '-' && b[1] != '+') ++b;
  std::string comma;  // the field with ',' -> '.' for decimal commas
  if (decimal == ',') {
    if (std::find(b, e, '.') != e) return Parse::not_a_number;
    comma.assign(b, e);
    std::replace(comma.begin(), comma.end(), ',', '.');
    b = comma.data();
    e = b + comma.size();
  }
  const auto r = std::from_chars(b, e, value);
  if (r.ptr != e) return Parse::not_a_number;
  if (r.ec == std::errc::result_out_of_range) return Parse::out_of_range;
  if (r.ec != std::errc()) return Parse::not_a_number;
  if (!std::isfinite(value)) return Parse::non_finite;
  return Parse::ok;
}

/// A field's kind for the layout decisions: a number (an infinity and a number out of range
/// included), a missing value (empty or a token), or text.
enum class Kind { number, missing, text };

inline Kind classify(const char* b, const char* e, char decimal) {
  double v;
  switch (parse_number(b, e, v, decimal)) {
    case Parse::empty:
    case Parse::missing:
      return Kind::missing;
    case Parse::not_a_number:
      return Kind::text;
    default:
      return Kind::number;
  }
}

/// Whether [b, e) reads as a number written with a decimal comma ("3,6", "-0,25e3").
inline bool looks_like_decimal_comma(const char* b, const char* e) {
  while (b < e && is_blank(*b)) ++b;
  while (e > b && is_blank(e[-1])) --e;
  const char* comma = std::find(b, e, ',');
  if (comma == e || std::find(comma + 1, e, ',') != e || std::find(b, e, '.') != e) return false;
  double v;
  return parse_number(b, e, v, ',') == Parse::ok;
}

inline std::string quoted_excerpt(const char* b, const char* e) {
  constexpr std::ptrdiff_t max = 40;
  std::string s(b, static_cast<std::size_t>(std::min(e - b, max)));
  if (e - b > max) s += "...";
  return "\"" + s + "\"";
}

/// The reader: a chunked buffer, a record scanner, the layout of the first records, and the
/// conversion of selected fields.
template <class Scalar>
class Reader {
 public:
  Reader(std::istream& in, const std::string& name, const CsvReadOptions& options)
      : in_(in), name_(name), options_(options) {
    const char d = options.delimiter;
    if (d == '"' || d == '\n' || d == '\r') {
      throw std::invalid_argument(std::string("read_csv: options.delimiter cannot be ") +
                                  (d == '"' ? "the quote character" : "a line break"));
    }
    if (options.decimal != '.' && options.decimal != ',' && options.decimal != '\0') {
      throw std::invalid_argument("read_csv: options.decimal must be '.', ',' or '\\0' (detect)");
    }
    if (options.decimal == ',' && d == ',') {
      throw std::invalid_argument("read_csv: a decimal comma needs another delimiter than ','");
    }
    if (!options.columns.empty() && !options.column_indices.empty()) {
      throw std::invalid_argument(
          "read_csv: select columns by name (options.columns) or by index "
          "(options.column_indices), not both");
    }
  }

  /// The layout of the first records alone.
  CsvLayout layout() {
    start();
    return layout_;
  }

  CsvTable<Scalar> read() {
    start();
    CsvTable<Scalar> table;
    table.layout = layout_;
    table.has_header = layout_.has_header;
    table.column_indices = selected_;
    for (Eigen::Index j : selected_) {
      table.column_names.push_back(layout_.names[static_cast<std::size_t>(j)]);
    }
    // The records looked at so far: the first (data without a header), the second.
    if (!layout_.has_header) {
      std::vector<Field> fields;
      for (const FieldCopy& c : first_) {
        fields.push_back(
            Field{c.text.data(), c.text.data() + c.text.size(), false, c.line, c.column});
      }
      convert_record(table, fields, first_end_line_, first_end_column_);
    }
    if (have_second_) convert_record(table, fields_, record_end_line_, record_end_column_);
    plan_fast_path();
    for (;;) {
      if (fast_ && fast_record()) continue;
      if (!next_record()) break;
      convert_record(table, fields_, record_end_line_, record_end_column_);
    }
    table.data_rows = row_index_;
    if (row_index_ == 0) {
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

  /// The buffer, the byte order mark, the kind of file, the delimiter, the first two records
  /// and what they say (layout_, selected_).
  void start() {
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
    } else {
      const std::string reason = io::not_csv_reason(io::sniff_file_kind(
          reinterpret_cast<const unsigned char*>(pos_), static_cast<std::size_t>(end_ - pos_)));
      if (!reason.empty()) throw data_file_error::at_file(name_, reason);
    }
    delimiter_ = options_.delimiter != '\0' ? options_.delimiter : detect_delimiter();
    for (int c = 0; c < 256; ++c) special_[c] = false;
    special_[static_cast<unsigned char>(delimiter_)] = true;
    special_[static_cast<unsigned char>('\n')] = true;
    special_[static_cast<unsigned char>('\r')] = true;
    special_[static_cast<unsigned char>('"')] = true;
    layout_.delimiter = delimiter_;

    if (!next_record()) fail(1, 1, "empty file: expected CSV data");
    std::string scratch;
    for (const Field& f : fields_) {
      const auto t = field_text(f, scratch);
      first_.push_back(FieldCopy{std::string(t.first, t.second), f.line, f.column});
    }
    first_end_line_ = record_end_line_;
    first_end_column_ = record_end_column_;
    have_second_ = next_record();
    decide_layout();
  }

  /// The delimiter among ',', ';', tab (then space) that splits the first records alike:
  /// the same count in every data record sampled, the header allowed one fewer.
  char detect_delimiter() const {
    const char candidates[4] = {',', ';', '\t', ' '};
    std::vector<std::vector<std::size_t>> counts(4);
    std::size_t here[4] = {0, 0, 0, 0};
    bool quoted = false, any = false;
    for (const char* p = pos_; p < end_; ++p) {
      const char c = *p;
      if (c == '"') quoted = !quoted;
      if (quoted) continue;
      if (c == '\n' || c == '\r') {
        if (any) {
          for (int k = 0; k < 4; ++k) counts[k].push_back(here[k]);
          if (counts[0].size() >= 6) break;
        }
        for (auto& h : here) h = 0;
        any = false;
        continue;
      }
      any = true;
      for (int k = 0; k < 4; ++k) here[k] += c == candidates[k];
    }
    if (any) {
      for (int k = 0; k < 4; ++k) counts[k].push_back(here[k]);
    }
    if (counts[0].empty()) return ',';
    int best = -1;
    std::size_t best_count = 0;
    for (int k = 0; k < 4; ++k) {
      if (k == 3 && best >= 0) break;  // space only when nothing else separates
      const auto& c = counts[k];
      const std::size_t data = c.size() > 1 ? c[1] : c[0];
      if (data == 0) continue;
      bool same = c[0] == data || c[0] + 1 == data;
      for (std::size_t r = 2; r < c.size(); ++r) same = same && c[r] == data;
      if (same && data > best_count) {
        best = k;
        best_count = data;
      }
    }
    return best >= 0 ? candidates[best] : ',';
  }

  /// Header, row names, decimal separator, text columns and the selection, from the first
  /// record (first_) and the second (fields_ when have_second_).
  void decide_layout() {
    const std::size_t n1 = first_.size();
    const std::size_t n2 = have_second_ ? fields_.size() : n1;
    // A field's kind before the decimal separator is known: with a detected one, a number
    // written with a decimal comma counts as a number (unless ',' separates the fields).
    const bool comma_possible =
        options_.decimal == ',' || (options_.decimal == '\0' && delimiter_ != ',');
    const auto kind = [&](const char* b, const char* e) {
      const Kind k = classify(b, e, options_.decimal == ',' ? ',' : '.');
      return k == Kind::text && comma_possible && looks_like_decimal_comma(b, e) ? Kind::number : k;
    };
    std::string scratch;
    const auto second_kind = [&](std::size_t j) {
      const auto t = field_text(fields_[j], scratch);
      return kind(t.first, t.second);
    };
    bool header = options_.header == CsvHeader::present;
    const bool short_header = have_second_ && n2 == n1 + 1;
    if (options_.header == CsvHeader::detect) {
      if (!options_.columns.empty()) {
        header = true;
      } else {
        // A text field over a number or a missing value (or over nothing) makes a header; a
        // row whose text fields all sit over text starts columns of text, not a header.
        for (std::size_t j = 0; j < n1; ++j) {
          const FieldCopy& f = first_[j];
          if (kind(f.text.data(), f.text.data() + f.text.size()) != Kind::text) continue;
          const std::size_t below = short_header ? j + 1 : j;
          if (!have_second_ || below >= n2 || second_kind(below) != Kind::text) header = true;
        }
      }
    }
    layout_.has_header = header;
    layout_.short_header = header && short_header;
    // Fields per row: the first row's, or the second's below a short header (row names).
    first_fields_ = layout_.short_header ? n2 : n1;
    first_fields_what_ = layout_.short_header ? "the first data row" : "the first row";
    layout_.fields = static_cast<Eigen::Index>(first_fields_);
    layout_.names.assign(first_fields_, std::string());
    if (header) {
      const std::size_t offset = layout_.short_header ? 1 : 0;
      for (std::size_t j = 0; j < n1 && j + offset < first_fields_; ++j) {
        layout_.names[j + offset] = first_[j].text;
      }
    }
    // The first data record: its texts, for the decimal separator and the text columns.
    std::vector<std::string> data;
    std::vector<std::uint64_t> data_lines;
    if (!header) {
      for (const FieldCopy& f : first_) data.push_back(f.text);
      data_lines.assign(first_.size(), first_.empty() ? 1 : first_.front().line);
    } else if (have_second_) {
      for (const Field& f : fields_) {
        const auto t = field_text(f, scratch);
        data.emplace_back(t.first, t.second);
      }
      data_lines.assign(fields_.size(), fields_.front().line);
    }
    decimal_ = options_.decimal == '\0' ? detect_decimal(data) : options_.decimal;
    layout_.decimal = decimal_;
    // Row names and text columns.
    const bool explicit_selection = !options_.columns.empty() || !options_.column_indices.empty();
    if (options_.infer_columns && !explicit_selection) {
      std::vector<bool> out(first_fields_, false);
      if (layout_.short_header || (header && first_fields_ >= 2 && layout_.names[0].empty())) {
        out[0] = true;
        layout_.left_out.push_back(CsvLeftOut{0, layout_.names[0], CsvLeftOutReason::row_names,
                                              data.empty() ? std::string() : data[0]});
      }
      for (std::size_t j = 0; j < data.size() && j < first_fields_; ++j) {
        if (out[j]) continue;
        const std::string& t = data[j];
        if (classify(t.data(), t.data() + t.size(), decimal_) == Kind::text) {
          out[j] = true;
          layout_.left_out.push_back(CsvLeftOut{static_cast<Eigen::Index>(j), layout_.names[j],
                                                CsvLeftOutReason::text, t});
          text_columns_.push_back(static_cast<Eigen::Index>(j));
          text_lines_.push_back(data_lines[j]);
        }
      }
      for (std::size_t j = 0; j < first_fields_; ++j) {
        if (!out[j]) selected_.push_back(static_cast<Eigen::Index>(j));
      }
      if (selected_.empty()) {
        fail(first_.front().line, 1,
             "no numeric column: every column holds text or row names (" + left_out_list() + ")");
      }
    } else {
      select_columns(first_.front().line, header);
    }
  }

  std::string left_out_list() const {
    std::string s;
    for (const CsvLeftOut& c : layout_.left_out) {
      if (!s.empty()) s += ", ";
      s += c.name.empty() ? "field " + std::to_string(c.index + 1) : "\"" + c.name + "\"";
    }
    return s;
  }

  /// ',' when the delimiter is not ',' and the data row has a decimal-comma number and no
  /// number with a decimal point.
  char detect_decimal(const std::vector<std::string>& data) const {
    if (delimiter_ == ',') return '.';
    bool comma = false;
    for (const std::string& t : data) {
      const char* b = t.data();
      const char* e = b + t.size();
      if (looks_like_decimal_comma(b, e)) comma = true;
      double v;
      if (std::find(b, e, '.') != e && parse_number(b, e, v, '.') == Parse::ok) return '.';
    }
    return comma ? ',' : '.';
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
    bytes_read_ += got;
    if (options_.progress && got > 0) options_.progress(bytes_read_);
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
    const char delimiter = delimiter_;
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
  /// A text column's field is skipped there unless it reads as a number (the general path
  /// then reports it).
  void plan_fast_path() {
    out_pos_.assign(first_fields_, -1);
    fast_ = decimal_ == '.';
    for (std::size_t k = 0; k < selected_.size(); ++k) {
      auto& slot = out_pos_[static_cast<std::size_t>(selected_[k])];
      if (slot >= 0) fast_ = false;  // a column selected twice
      slot = static_cast<Eigen::Index>(k);
    }
    for (Eigen::Index j : text_columns_) out_pos_[static_cast<std::size_t>(j)] = -2;
  }

  /// Reads the record at pos_ if it is plain; false (nothing consumed) otherwise.
  bool fast_record() {
    const char* p = pos_;
    const char* const end = end_;
    const std::size_t start = values_.size();
    const std::size_t d = selected_.size();
    const char delimiter = delimiter_;
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
        if (k == -2) {
          Scalar v;
          const auto r = std::from_chars(p, end, v);
          if (r.ptr != p && (r.ptr == end || special_[static_cast<unsigned char>(*r.ptr)])) break;
        }
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
      ++row_index_;
      set_line_start(q);
      return true;
    }
    values_.resize(start);
    return false;
  }

  void select_columns(std::uint64_t line, bool header) {
    const auto n = static_cast<Eigen::Index>(first_fields_);
    const std::vector<std::string>& names = layout_.names;
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
               "column index " + std::to_string(j) + " is out of range: " + first_fields_what_ +
                   " has " + std::to_string(n) + " fields (indices are 0-based)");
        }
        selected_.push_back(j);
      }
    } else {
      for (Eigen::Index j = 0; j < n; ++j) selected_.push_back(j);
    }
  }

  std::string field_name(Eigen::Index j) const {
    std::string s = "field " + std::to_string(j + 1);
    const std::string& name = layout_.names[static_cast<std::size_t>(j)];
    if (!name.empty()) s += " (\"" + name + "\")";
    return s;
  }

  void convert_record(CsvTable<Scalar>& table, const std::vector<Field>& fields,
                      std::uint64_t end_line, std::uint64_t end_column) {
    if (fields.size() != first_fields_) {
      const bool more = fields.size() > first_fields_;
      const Field& f = more ? fields[first_fields_] : fields.back();
      fail(more ? f.line : end_line, more ? f.column : end_column,
           "expected " + std::to_string(first_fields_) + " fields (as " + first_fields_what_ +
               "), found " + std::to_string(fields.size()));
    }
    const std::uint64_t row = row_index_++;
    for (std::size_t t = 0; t < text_columns_.size(); ++t) {
      const Eigen::Index j = text_columns_[t];
      const Field& f = fields[static_cast<std::size_t>(j)];
      const auto text = field_text(f, scratch_);
      if (classify(text.first, text.second, decimal_) == Kind::number) {
        const CsvLeftOut* c = nullptr;
        for (const CsvLeftOut& l : layout_.left_out) {
          if (l.index == j) c = &l;
        }
        fail(f.line, f.column,
             "a number " + quoted_excerpt(text.first, text.second) + " in " + field_name(j) +
                 ", a column left out as text (its value on line " +
                 std::to_string(text_lines_[t]) + " is \"" + (c ? c->example : std::string()) +
                 "\"): select the columns to read explicitly");
      }
    }
    const std::size_t start = values_.size();
    for (Eigen::Index j : selected_) {
      const Field& f = fields[static_cast<std::size_t>(j)];
      const auto t = field_text(f, scratch_);
      Scalar v;
      const Parse p = parse_number(t.first, t.second, v, decimal_);
      if (p == Parse::ok) {
        values_.push_back(v);
        continue;
      }
      if (options_.bad_values == CsvBadValues::drop_row) {
        values_.resize(start);
        table.dropped_lines.push_back(fields.front().line);
        table.dropped_rows.push_back(row);
        return;
      }
      const std::string where = " in " + field_name(j);
      switch (p) {
        case Parse::empty:
          fail(f.line, f.column, "missing value" + where + ": expected a number");
        case Parse::missing: {
          const char* b = t.first;
          const char* e = t.second;
          while (b < e && is_blank(*b)) ++b;
          while (e > b && is_blank(e[-1])) --e;
          fail(f.line, f.column,
               "missing value " + quoted_excerpt(b, e) + where + ": expected a number");
        }
        case Parse::non_finite:
          fail(f.line, f.column,
               "non-finite value " + quoted_excerpt(t.first, t.second) + where +
                   ": values must be finite");
        case Parse::out_of_range:
          fail(f.line, f.column,
               "number " + quoted_excerpt(t.first, t.second) + where + " is outside the range of " +
                   (std::is_same<Scalar, float>::value ? "float" : "double"));
        default: {
          std::string hint;
          if (decimal_ == '.' && looks_like_decimal_comma(t.first, t.second)) {
            hint = " (a decimal comma? this file is read with decimal points)";
          } else if (decimal_ == ',' && std::find(t.first, t.second, '.') != t.second) {
            hint = " (a decimal point, in a file read with decimal commas)";
          }
          fail(f.line, f.column,
               "expected a number" + where + ", found " + quoted_excerpt(t.first, t.second) + hint);
        }
      }
    }
  }

  std::istream& in_;
  const std::string& name_;
  const CsvReadOptions& options_;
  char delimiter_ = ',';
  char decimal_ = '.';
  bool special_[256];
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
  bool eof_ = false;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t line_ = 1;
  std::size_t line_start_ = 0;  // offset in buffer_ of the current line's start
  std::uint64_t record_end_line_ = 0;
  std::uint64_t record_end_column_ = 0;
  std::vector<Field> fields_;
  std::vector<FieldCopy> first_;  // the first record, copied
  std::uint64_t first_end_line_ = 0, first_end_column_ = 0;
  bool have_second_ = false;
  CsvLayout layout_;
  std::size_t first_fields_ = 0;
  const char* first_fields_what_ = "the first row";
  std::vector<Eigen::Index> selected_;
  std::vector<Eigen::Index> text_columns_;  // left out as text: checked to hold no number
  std::vector<std::uint64_t> text_lines_;   // the line of each one's first data value
  std::vector<Eigen::Index> out_pos_;       // field -> position in the output row, -1 skip, -2 text
  bool fast_ = false;
  std::uint64_t row_index_ = 0;  // data rows converted so far
  std::vector<Scalar> values_;
  std::string scratch_;
};

}  // namespace detail::csv
}  // namespace emcluster
