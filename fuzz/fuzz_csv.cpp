// libFuzzer target of the CSV reader (csv.hpp). The first two bytes pick the options
// (delimiter, header, bad values, a column selection; detection of the delimiter and of the
// decimal separator, a decimal comma, infer_columns), the rest is the file; inspect_csv of the
// same bytes must agree with read_csv on the layout. Any input must either read
// or throw data_file_error; a table that reads must hold finite values only, and write_csv of
// it must read back to the same bits.
//
//   clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -I include \
//     -isystem /usr/include/eigen3 fuzz/fuzz_csv.cpp -o fuzz_csv
//   ./fuzz_csv -max_total_time=60 fuzz/corpus/fuzz_csv
#include <emcluster/csv.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

namespace {

template <class Scalar>
void read_and_check(const std::string& text, const emcluster::CsvReadOptions& options) {
  std::istringstream in(text);
  emcluster::CsvTable<Scalar> table;
  try {
    table = emcluster::read_csv<Scalar>(in, "fuzz.csv", options);
  } catch (const emcluster::data_file_error& e) {
    if (e.line() == 0 && e.column() == 0 && e.path() != "fuzz.csv") std::abort();
    return;
  }
  if (!table.values.allFinite()) std::abort();
  if (table.column_names.size() != static_cast<std::size_t>(table.values.cols())) std::abort();
  if (table.column_indices.size() != table.column_names.size()) std::abort();
  if (table.values.rows() == 0) std::abort();  // an empty result is an error, not a table
  if (table.data_rows !=
      static_cast<std::uint64_t>(table.values.rows()) + table.dropped_rows.size()) {
    std::abort();
  }
  std::istringstream again(text);
  const emcluster::CsvLayout layout = emcluster::inspect_csv(again, "fuzz.csv", options);
  if (layout.delimiter != table.layout.delimiter || layout.decimal != table.layout.decimal ||
      layout.has_header != table.has_header || layout.names != table.layout.names) {
    std::abort();
  }
  std::ostringstream out;
  emcluster::write_csv(out, "out.csv", table.values);
  std::istringstream back_in(out.str());
  emcluster::CsvReadOptions plain;
  plain.header = emcluster::CsvHeader::absent;
  const auto back = emcluster::read_csv<Scalar>(back_in, "out.csv", plain);
  if (back.values.rows() != table.values.rows() || back.values.cols() != table.values.cols()) {
    std::abort();
  }
  for (Eigen::Index i = 0; i < back.values.size(); ++i) {
    if (std::memcmp(back.values.data() + i, table.values.data() + i, sizeof(Scalar)) != 0) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  const std::uint8_t more = data[1];
  const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  emcluster::CsvReadOptions options;
  static const char delimiters[4] = {',', ';', '\t', ' '};
  options.delimiter = delimiters[mode & 3];
  options.header = static_cast<emcluster::CsvHeader>(((mode >> 2) & 3) % 3);
  if (mode & 16) options.bad_values = emcluster::CsvBadValues::drop_row;
  if (mode & 32) options.column_indices = {1, 0};
  if (mode & 64) options.columns = {"a"};
  if (more & 1) options.delimiter = '\0';  // detect
  if (more & 2) options.decimal = '\0';    // detect
  if ((more & 4) && options.delimiter != ',') options.decimal = ',';
  if (more & 8) options.infer_columns = true;
  try {
    if (mode & 128) {
      read_and_check<float>(text, options);
    } else {
      read_and_check<double>(text, options);
    }
  } catch (const std::invalid_argument&) {
    // Contradictory options (columns by name and by index).
    if (!(mode & 32) || !(mode & 64)) std::abort();
  }
  return 0;
}
