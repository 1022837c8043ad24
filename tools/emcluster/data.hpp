// The data options every subcommand that reads DATA shares (--columns, --delimiter,
// --header, --drop-bad-rows), reading DATA (CSV or .npy), label files, and writing results
// to a file or to stdout ("-").
#pragma once

#include <emcluster/csv.hpp>
#include <emcluster/exceptions.hpp>
#include <emcluster/npy.hpp>

#include <CLI/CLI.hpp>
#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace emcluster_cli {

/// A usage error found after parsing (exit code 2, with the subcommand's help).
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& what) : std::runtime_error(what) {}
};

struct DataOptions {
  std::string path;
  std::string columns;  // "a,b" (names) or "0,2" (0-based indices)
  std::string delimiter = ",";
  std::string header = "auto";
  bool drop_bad_rows = false;
};

inline void add_data_options(CLI::App* app, DataOptions& o) {
  app->add_option("--columns", o.columns,
                  "CSV columns to use, by header name or 0-based index, comma separated "
                  "(default: all)");
  app->add_option("--delimiter", o.delimiter, "CSV field separator: one character, or 'tab'")
      ->capture_default_str();
  app->add_option("--header", o.header, "Is the CSV's first row a header?")
      ->check(CLI::IsMember({"auto", "yes", "no"}))
      ->capture_default_str();
  app->add_flag("--drop-bad-rows", o.drop_bad_rows,
                "Leave out CSV rows with an empty, non-numeric or non-finite value in a used "
                "column (default: such a value is an error)");
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
  if (o.delimiter == "tab" || o.delimiter == "\\t") {
    c.delimiter = '\t';
  } else if (o.delimiter.size() == 1 && o.delimiter[0] != '"' && o.delimiter[0] != '\n' &&
             o.delimiter[0] != '\r') {
    c.delimiter = o.delimiter[0];
  } else {
    throw UsageError(
        "--delimiter: expected one character (not a quote or a line break) or "
        "'tab', got '" +
        o.delimiter + "'");
  }
  c.header = o.header == "yes"  ? emcluster::CsvHeader::present
             : o.header == "no" ? emcluster::CsvHeader::absent
                                : emcluster::CsvHeader::detect;
  if (o.drop_bad_rows) c.bad_values = emcluster::CsvBadValues::drop_row;
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

/// What was read: the matrix and, for the summary, where it came from.
template <class Scalar>
struct Data {
  emcluster::RowMajorMatrix<Scalar> X;
  std::vector<std::string> names;
  std::size_t dropped = 0;
};

template <class Scalar>
Data<Scalar> read_data(const DataOptions& o) {
  Data<Scalar> d;
  const auto options = csv_options(o);
  const std::string& p = o.path;
  if (p.size() >= 4 && p.compare(p.size() - 4, 4, ".npy") == 0) {
    if (!o.columns.empty()) {
      const auto h = emcluster::read_npy_header(p);
      d.X = emcluster::read_npy<Scalar>(p);
      if (!options.columns.empty()) throw UsageError("--columns: an .npy file has no names");
      emcluster::RowMajorMatrix<Scalar> Y(d.X.rows(),
                                          static_cast<Eigen::Index>(options.column_indices.size()));
      for (std::size_t j = 0; j < options.column_indices.size(); ++j) {
        const auto c = options.column_indices[j];
        if (c >= h.cols) {
          throw emcluster::data_file_error::at_file(p, "column index " + std::to_string(c) +
                                                           " is out of range: the array has " +
                                                           std::to_string(h.cols) + " columns");
        }
        Y.col(static_cast<Eigen::Index>(j)) = d.X.col(c);
      }
      d.X = std::move(Y);
    } else {
      d.X = emcluster::read_npy<Scalar>(p);
    }
    d.names.assign(static_cast<std::size_t>(d.X.cols()), std::string());
    return d;
  }
  auto table = emcluster::read_csv<Scalar>(p, options);
  d.X = std::move(table.values);
  d.names = std::move(table.column_names);
  d.dropped = table.dropped_lines.size();
  return d;
}

/// A label file: one integer per row (a header allowed), as `emcluster kmeans --labels` writes.
inline Eigen::VectorXi read_labels(const std::string& path, Eigen::Index expected_rows) {
  emcluster::CsvReadOptions o;
  o.column_indices = {0};
  const auto table = emcluster::read_csv<double>(path, o);
  if (table.values.rows() != expected_rows) {
    throw emcluster::data_file_error::at_file(
        path, "has " + std::to_string(table.values.rows()) + " labels for " +
                  std::to_string(expected_rows) + " data rows");
  }
  Eigen::VectorXi labels(table.values.rows());
  for (Eigen::Index i = 0; i < labels.size(); ++i) {
    const double v = table.values(i, 0);
    if (v != std::floor(v) || v < -1 || v > 1e6) {
      throw emcluster::data_file_error::at_text(
          path, static_cast<std::uint64_t>(i) + (table.has_header ? 2 : 1), 1,
          "expected an integer label >= -1, found " + std::to_string(v));
    }
    labels(i) = static_cast<int>(v);
  }
  return labels;
}

/// Writes a matrix as CSV to `path`, or to stdout for "-".
template <class Derived>
void write_output(const std::string& path, const Eigen::DenseBase<Derived>& x,
                  const std::vector<std::string>& header) {
  if (path == "-") {
    emcluster::write_csv(std::cout, "stdout", x, header);
    std::cout.flush();
  } else {
    emcluster::write_csv(path, x, header);
  }
}

/// "label" for one column; "p0", "p1", ... (and "noise" last for a mixture with noise).
inline std::vector<std::string> probability_header(Eigen::Index k, bool noise) {
  std::vector<std::string> h;
  for (Eigen::Index j = 0; j < k; ++j) h.push_back("p" + std::to_string(j));
  if (noise) h.push_back("noise");
  return h;
}

}  // namespace emcluster_cli
