// The data options every subcommand that reads DATA shares (--columns, --delimiter, --header,
// --decimal-comma, --drop-bad-rows), reading DATA (CSV or .npy, a file or standard input),
// matching a model's columns by name, what the command says about the file it read, per-row
// outputs that keep one line per input row, and label files.
#pragma once

#include <emcluster/csv.hpp>
#include <emcluster/detail/io/file_kind.hpp>
#include <emcluster/exceptions.hpp>
#include <emcluster/npy.hpp>

#include <CLI/CLI.hpp>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace emcluster_cli {

/// A usage error found after parsing (exit code 2, with a pointer to the subcommand's help).
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& what) : std::runtime_error(what) {}
};

inline std::string format(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, a);
  return buf;
}

inline std::string g(double v) { return format("%.10g", v); }

struct DataOptions {
  std::string path;
  std::string columns;  // "a,b" (names) or "0,2" (0-based indices)
  std::string delimiter = "auto";
  std::string header = "auto";
  bool decimal_comma = false;
  bool drop_bad_rows = false;
};

inline void add_data_options(CLI::App* app, DataOptions& o) {
  app->add_option("--columns", o.columns,
                  "Columns to use, by header name or 0-based index, comma separated (default: "
                  "every numeric column; a first column of R's row names and columns of text "
                  "are left out, with a note)");
  app->add_option("--delimiter", o.delimiter,
                  "CSV field separator: one character, 'tab', or 'auto' (detect ',', ';', tab, "
                  "then space)")
      ->capture_default_str();
  app->add_option("--header", o.header, "Is the CSV's first row a header?")
      ->check(CLI::IsMember({"auto", "yes", "no"}))
      ->capture_default_str();
  app->add_flag("--decimal-comma", o.decimal_comma,
                "Numbers are written with decimal commas (3,14; detected by default in files "
                "separated by ';')");
  app->add_flag("--drop-bad-rows", o.drop_bad_rows,
                "Leave out rows with a missing (empty, NA, NaN), non-numeric or non-finite value "
                "in a used column; per-row outputs then get a 'row' column and an empty value "
                "for each dropped row (default: such a value is an error)");
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

inline emcluster::CsvReadOptions csv_options(const DataOptions& o) {
  emcluster::CsvReadOptions c;
  if (o.delimiter == "auto") {
    c.delimiter = '\0';
  } else if (o.delimiter == "tab" || o.delimiter == "\\t") {
    c.delimiter = '\t';
  } else if (o.delimiter.size() == 1 && o.delimiter[0] != '"' && o.delimiter[0] != '\n' &&
             o.delimiter[0] != '\r') {
    c.delimiter = o.delimiter[0];
  } else {
    throw UsageError(
        "--delimiter: expected one character (not a quote or a line break), 'tab' "
        "or 'auto', got '" +
        o.delimiter + "'");
  }
  if (o.decimal_comma && c.delimiter == ',') {
    throw UsageError(
        "--decimal-comma needs another delimiter than ',' (fields with decimal "
        "commas are separated by ';' or tab)");
  }
  c.decimal = o.decimal_comma ? ',' : '\0';
  c.header = o.header == "yes"  ? emcluster::CsvHeader::present
             : o.header == "no" ? emcluster::CsvHeader::absent
                                : emcluster::CsvHeader::detect;
  if (o.drop_bad_rows) c.bad_values = emcluster::CsvBadValues::drop_row;
  c.infer_columns = o.columns.empty();
  if (!o.columns.empty()) {
    const auto parts = split(o.columns, ',');
    bool all_digits = true;
    for (const auto& p : parts) {
      if (p.empty()) throw UsageError("--columns: an empty name in '" + o.columns + "'");
      all_digits = all_digits && p.find_first_not_of("0123456789") == std::string::npos;
    }
    for (const auto& p : parts) {
      if (all_digits) {
        if (p.size() > 9) throw UsageError("--columns: index " + p + " is too large");
        c.column_indices.push_back(std::stol(p));
      } else {
        c.columns.push_back(p);
      }
    }
  }
  return c;
}

/// Which input rows the values come from: every row, or (--drop-bad-rows) the rows kept of
/// `total`, the others dropped. Aligned outputs have one line per input row.
struct Rows {
  bool aligned = false;                // --drop-bad-rows: outputs carry a "row" column
  std::uint64_t total = 0;             // data rows in the input
  std::vector<std::uint64_t> dropped;  // 0-based, ascending
};

/// What was read: the matrix, its column names, the rows, and notes for stderr.
template <class Scalar>
struct Data {
  emcluster::RowMajorMatrix<Scalar> X;
  std::vector<std::string> names;  // the used columns' names ("" without a header)
  Rows rows;
  std::string source;              // the file, or "standard input"
  std::vector<std::string> notes;  // what the reader decided (printed unless --quiet)
};

/// The model a data file is read for: its feature names (may be empty), its feature count
/// and its file (for messages).
struct ModelColumns {
  std::vector<std::string> names;
  Eigen::Index features = -1;
  std::string path;
};

inline std::string join(const std::vector<std::string>& names, const char* quote = "") {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + std::string(quote) + n + quote;
  return s;
}

inline std::string describe_delimiter(char c) {
  switch (c) {
    case '\t':
      return "tab";
    case ' ':
      return "space";
    default:
      return std::string("'") + c + "'";
  }
}

/// Standard input, read whole (it cannot be read twice or sought in).
inline std::string read_stdin() {
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const std::size_t got = std::fread(buf, 1, sizeof(buf), stdin);
    text.append(buf, got);
    if (got < sizeof(buf)) break;
  }
  if (std::ferror(stdin)) {
    throw emcluster::data_file_error::at_file("standard input", "read error");
  }
  return text;
}

/// An input stream of DATA and its name for messages.
struct Source {
  std::string name;
  std::unique_ptr<std::istream> in;
  bool npy = false;
};

inline Source open_source(const std::string& path) {
  Source s;
  if (path == "-") {
    s.name = "standard input";
    s.in = std::make_unique<std::istringstream>(read_stdin());
  } else {
    s.name = path;
    s.in = std::make_unique<std::ifstream>(emcluster::detail::io::open_for_reading(path));
  }
  unsigned char magic[6] = {};
  s.in->read(reinterpret_cast<char*>(magic), 6);
  const auto got = static_cast<std::size_t>(s.in->gcount());
  s.in->clear();
  s.in->seekg(0);
  std::string ext = path.size() >= 4 ? path.substr(path.size() - 4) : "";
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  s.npy = emcluster::detail::io::is_npy_magic(magic, got) || ext == ".npy";
  return s;
}

/// Reads DATA. With a model: its columns by name from a CSV with a header (an error naming
/// the missing ones), else a check of the column count. `progress` is told of large reads.
template <class Scalar>
Data<Scalar> read_data(const DataOptions& o, const ModelColumns& model = {},
                       const std::function<void(const std::string&)>& progress = {}) {
  Data<Scalar> d;
  emcluster::CsvReadOptions options = csv_options(o);
  if (progress) progress("reading " + (o.path == "-" ? std::string("standard input") : o.path));
  Source src = open_source(o.path);
  d.source = src.name;
  std::uint64_t size = 0;
  if (o.path != "-") {
    std::error_code ec;
    size = std::filesystem::file_size(o.path, ec);
  }
  if (src.npy) {
    if (!options.columns.empty()) throw UsageError("--columns: an .npy file has no column names");
    if (o.drop_bad_rows) {
      d.notes.push_back(d.source +
                        ": --drop-bad-rows applies to CSV files; an .npy file must "
                        "hold finite values");
    }
    d.X = emcluster::read_npy<Scalar>(*src.in, src.name);
    if (!options.column_indices.empty()) {
      emcluster::RowMajorMatrix<Scalar> Y(d.X.rows(),
                                          static_cast<Eigen::Index>(options.column_indices.size()));
      for (std::size_t j = 0; j < options.column_indices.size(); ++j) {
        const auto c = options.column_indices[j];
        if (c >= d.X.cols()) {
          throw emcluster::data_file_error::at_file(
              src.name, "column index " + std::to_string(c) + " is out of range: the array has " +
                            std::to_string(d.X.cols()) + " columns");
        }
        Y.col(static_cast<Eigen::Index>(j)) = d.X.col(c);
      }
      d.X = std::move(Y);
    }
    d.names.assign(static_cast<std::size_t>(d.X.cols()), std::string());
    d.rows.total = static_cast<std::uint64_t>(d.X.rows());
  } else {
    if (!model.names.empty() && o.columns.empty()) {
      // The model's columns, by name, when the file has a header.
      const emcluster::CsvLayout layout = emcluster::inspect_csv(*src.in, src.name, options);
      src.in->clear();
      src.in->seekg(0);
      if (layout.has_header) {
        std::vector<std::string> missing;
        for (const auto& n : model.names) {
          if (std::find(layout.names.begin(), layout.names.end(), n) == layout.names.end()) {
            missing.push_back(n);
          }
        }
        if (!missing.empty()) {
          throw emcluster::data_file_error::at_file(
              src.name, "has no column " + join(missing, "\"") + " of the model (" + model.path +
                            " was fitted on " + join(model.names, "\"") +
                            "); the file's columns: " + join(layout.names, "\""));
        }
        options.columns = model.names;
        options.infer_columns = false;
      }
    }
    if (size > (std::uint64_t{64} << 20) && progress) {
      const std::string name = src.name;
      options.progress = [progress, name, size](std::uint64_t bytes) {
        progress("reading " + name + ": " + format("%.0f", static_cast<double>(bytes) / 1e6) +
                 " of " + format("%.0f MB", static_cast<double>(size) / 1e6));
      };
    }
    auto table = emcluster::read_csv<Scalar>(*src.in, src.name, options);
    d.X = std::move(table.values);
    d.names = std::move(table.column_names);
    d.rows.total = table.data_rows;
    d.rows.dropped = std::move(table.dropped_rows);
    d.rows.aligned = o.drop_bad_rows;
    const emcluster::CsvLayout& l = table.layout;
    std::string note = src.name + ": ";
    note += l.has_header
                ? "header row (" + std::string(o.header == "auto" ? "detected" : "declared") + ")"
                : "no header row" +
                      std::string(o.header == "auto" ? " (the first row holds numbers)" : "");
    note += ", delimiter " + describe_delimiter(l.delimiter) +
            (o.delimiter == "auto" ? " (detected)" : "");
    if (l.decimal == ',')
      note += ", decimal comma" + std::string(o.decimal_comma ? "" : " (detected)");
    note += "; columns used: " + (l.has_header ? join(d.names) : std::to_string(d.X.cols()));
    d.notes.push_back(note);
    for (const auto& c : l.left_out) {
      const std::string which =
          "field " + std::to_string(c.index + 1) + (c.name.empty() ? "" : " (\"" + c.name + "\")");
      d.notes.push_back(src.name + ": left out " + which + ": " +
                        (c.reason == emcluster::CsvLeftOutReason::row_names
                             ? std::string("row names (R's write.csv / write.table layout)")
                             : "text (\"" + c.example + "\" in the first data row)") +
                        "; --columns selects columns explicitly");
    }
    if (!d.rows.dropped.empty()) {
      d.notes.push_back(src.name + ": dropped " + std::to_string(d.rows.dropped.size()) + " of " +
                        std::to_string(d.rows.total) +
                        " rows (a missing or bad value in a used column); per-row outputs keep "
                        "their lines, with an empty value");
    }
  }
  if (model.features >= 0 && d.X.cols() != model.features) {
    std::string what = std::to_string(d.X.cols()) + " column" + (d.X.cols() == 1 ? "" : "s");
    if (!d.names.empty() && !d.names[0].empty()) what += " (" + join(d.names, "\"") + ")";
    throw emcluster::data_file_error::at_file(
        src.name, "has " + what + ", but the model (" + model.path + ") was fitted on " +
                      std::to_string(model.features) +
                      (model.names.empty() ? std::string() : " (" + join(model.names, "\"") + ")") +
                      "; --columns selects the columns to use");
  }
  return d;
}

/// "label" for one column; "p0", "p1", ... (and "noise" last for a mixture with noise).
inline std::vector<std::string> probability_header(Eigen::Index k, bool noise) {
  std::vector<std::string> h;
  for (Eigen::Index j = 0; j < k; ++j) h.push_back("p" + std::to_string(j));
  if (noise) h.push_back("noise");
  return h;
}

/// Per-row values as CSV: the header, then a line per row. With rows.aligned, a first column
/// "row" (the 1-based data row of the input) and a line for every input row, the dropped ones
/// with empty values.
template <class Derived>
void write_rows(std::ostream& out, const std::string& name, const Eigen::DenseBase<Derived>& x,
                const std::vector<std::string>& header, const Rows& rows) {
  if (!rows.aligned) {
    emcluster::write_csv(out, name, x, header);
    return;
  }
  std::vector<std::string> h{"row"};
  h.insert(h.end(), header.begin(), header.end());
  std::string text;
  for (std::size_t j = 0; j < h.size(); ++j) {
    if (j > 0) text += ',';
    emcluster::detail::csv::append_field(text, h[j], ',');
  }
  text += '\n';
  std::size_t next_dropped = 0;
  Eigen::Index kept = 0;
  for (std::uint64_t r = 0; r < rows.total; ++r) {
    emcluster::detail::csv::append_number(text, r + 1);
    if (next_dropped < rows.dropped.size() && rows.dropped[next_dropped] == r) {
      ++next_dropped;
      text.append(static_cast<std::size_t>(x.cols()), ',');
    } else {
      for (Eigen::Index j = 0; j < x.cols(); ++j) {
        text += ',';
        emcluster::detail::csv::append_number(text, x(kept, j));
      }
      ++kept;
    }
    text += '\n';
    if (text.size() > (std::size_t{1} << 20)) {
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      text.clear();
    }
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw emcluster::data_file_error::at_file(name, "write failed");
}

/// The labels of a file for the rows of DATA: one integer per row (a header allowed), as
/// `emcluster kmeans --labels` writes; or the "row,label" file of --drop-bad-rows, matched to
/// DATA's rows by row number (a row of DATA without a label is an error).
inline Eigen::VectorXi read_labels(const std::string& path, const Rows& data_rows,
                                   Eigen::Index kept_rows) {
  const std::string text = [&] {
    if (path == "-") return read_stdin();
    std::ifstream in = emcluster::detail::io::open_for_reading(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }();
  const std::string name = path == "-" ? "standard input" : path;
  const auto read = [&](const emcluster::CsvReadOptions& options) {
    std::istringstream in(text);
    return emcluster::read_csv<double>(in, name, options);
  };
  emcluster::CsvReadOptions o;
  o.delimiter = '\0';
  std::istringstream head(text);
  const emcluster::CsvLayout layout = emcluster::inspect_csv(head, name, o);
  const auto check = [&](double v, std::uint64_t row) {
    if (v != std::floor(v) || v < -1 || v > 1e6) {
      throw emcluster::data_file_error::at_file(
          name, "row " + std::to_string(row) + ": expected an integer label >= -1, found " + g(v));
    }
    return static_cast<int>(v);
  };
  const bool with_rows = layout.has_header && layout.names.size() >= 2 &&
                         layout.names[0] == "row" && layout.names[1] == "label";
  if (!with_rows) {
    o.column_indices = {0};
    const auto table = emcluster::read_csv<double>(path, o);
    if (table.values.rows() != kept_rows) {
      throw emcluster::data_file_error::at_file(name, "has " + std::to_string(table.values.rows()) +
                                                          " labels for " +
                                                          std::to_string(kept_rows) + " data rows");
    }
    Eigen::VectorXi labels(table.values.rows());
    for (Eigen::Index i = 0; i < labels.size(); ++i) {
      labels(i) = check(table.values(i, 0), static_cast<std::uint64_t>(i) + 1);
    }
    return labels;
  }
  // row,label: the labelled rows (empty labels are the rows their fit dropped).
  o.columns = {"row", "label"};
  o.bad_values = emcluster::CsvBadValues::drop_row;
  const auto table = read(o);
  std::vector<int> by_row(data_rows.total, -2);  // -2: no label
  for (Eigen::Index i = 0; i < table.values.rows(); ++i) {
    const double r = table.values(i, 0);
    if (r != std::floor(r) || r < 1 || r > static_cast<double>(data_rows.total)) {
      throw emcluster::data_file_error::at_file(name, "row number " + g(r) +
                                                          " is not a row of the data (1 to " +
                                                          std::to_string(data_rows.total) + ")");
    }
    by_row[static_cast<std::size_t>(r) - 1] =
        check(table.values(i, 1), static_cast<std::uint64_t>(r));
  }
  Eigen::VectorXi labels(kept_rows);
  std::size_t next_dropped = 0;
  Eigen::Index kept = 0;
  for (std::uint64_t r = 0; r < data_rows.total && kept < kept_rows; ++r) {
    if (next_dropped < data_rows.dropped.size() && data_rows.dropped[next_dropped] == r) {
      ++next_dropped;
      continue;
    }
    if (by_row[r] == -2) {
      throw emcluster::data_file_error::at_file(
          name, "row " + std::to_string(r + 1) +
                    " of the data has no label here (its fit dropped it: use --drop-bad-rows "
                    "here too)");
    }
    labels(kept++) = by_row[r];
  }
  return labels;
}

}  // namespace emcluster_cli
