// Data files, specified: NPY files written by numpy 1.24 (tests/make_data_file_fixtures.py)
// read back exactly in every dtype, order and version; rows read alone equal the same rows of
// the whole; write_npy writes the bytes numpy writes; and a corpus of broken files, each
// refused with its documented message at its byte offset. Then CSV (csv.hpp).
#include <catch2/catch.hpp>

#include <emcluster/csv.hpp>
#include <emcluster/detail/io/atomic_file.hpp>
#include <emcluster/npy.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/fixtures.hpp"

namespace {

using emcluster::data_file_error;
using emcluster::NpyDType;

std::string npy_path(const std::string& name) { return emcluster_test::data_path("npy/" + name); }

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The values of the good fixtures: v(i, j) = (i * cols + j) / 3 - 1.25.
Eigen::MatrixXd fixture_values(Eigen::Index rows, Eigen::Index cols) {
  Eigen::MatrixXd x(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      x(i, j) = static_cast<double>(i * cols + j) / 3.0 - 1.25;
    }
  }
  return x;
}

// The data_file_error a call throws (fails the test when it throws nothing or another type).
template <class F>
data_file_error error_of(F&& f) {
  try {
    f();
  } catch (const data_file_error& e) {
    return e;
  }
  FAIL("no data_file_error thrown");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("NPY: numpy's float64 and float32 files, C and Fortran order, read exactly",
          "[data_files][npy]") {
  const Eigen::MatrixXd x = fixture_values(5, 3);
  for (const char* name : {"c_f8.npy", "f_f8.npy", "v2_f8.npy", "v3_f8.npy"}) {
    INFO(name);
    const auto h = emcluster::read_npy_header(npy_path(name));
    CHECK(h.dtype == NpyDType::float64);
    CHECK(h.rows == 5);
    CHECK(h.cols == 3);
    CHECK(h.fortran_order == (name[0] == 'f'));
    CHECK(emcluster::read_npy<double>(npy_path(name)) == x);
    CHECK(emcluster::read_npy<float>(npy_path(name)) == x.cast<float>());
  }
  for (const char* name : {"c_f4.npy", "f_f4.npy"}) {
    INFO(name);
    CHECK(emcluster::read_npy_header(npy_path(name)).dtype == NpyDType::float32);
    CHECK(emcluster::read_npy<float>(npy_path(name)) == x.cast<float>());
    CHECK(emcluster::read_npy<double>(npy_path(name)) == x.cast<float>().cast<double>());
  }
  const auto v = emcluster::read_npy<double>(npy_path("vector_f8.npy"));
  CHECK(emcluster::read_npy_header(npy_path("vector_f8.npy")).ndim == 1);
  CHECK(v.rows() == 7);
  CHECK(v.cols() == 1);
  CHECK(v == fixture_values(1, 7).transpose());
  const auto none = emcluster::read_npy<double>(npy_path("empty_rows_f8.npy"));
  CHECK(none.rows() == 0);
  CHECK(none.cols() == 3);
  // Values beyond float's range are fine as double and an error as float.
  CHECK(emcluster::read_npy<double>(npy_path("float_overflow_f8.npy"))(1, 0) == 1e300);
  const auto e = error_of([] { emcluster::read_npy<float>(npy_path("float_overflow_f8.npy")); });
  CHECK(e.byte_offset() == 128 + 2 * 8);
  CHECK_THAT(e.message(), Catch::Contains("row 1, column 0") && Catch::Contains("overflows float"));
}

TEST_CASE("NPY: integer arrays of every width read exactly, or not at all", "[data_files][npy]") {
  Eigen::MatrixXd ints(3, 2);
  ints << 0, 1, 2, 3, 4, 5;
  const std::pair<const char*, NpyDType> signed_files[] = {{"int_i1.npy", NpyDType::int8},
                                                           {"int_i2.npy", NpyDType::int16},
                                                           {"int_i4.npy", NpyDType::int32},
                                                           {"int_i8.npy", NpyDType::int64},
                                                           {"int_f_i4.npy", NpyDType::int32}};
  for (const auto& [name, dtype] : signed_files) {
    INFO(name);
    CHECK(emcluster::read_npy_header(npy_path(name)).dtype == dtype);
    CHECK(emcluster::read_npy<double>(npy_path(name)) == (ints.array() - 2).matrix());
    CHECK(emcluster::read_npy<float>(npy_path(name)) == (ints.array() - 2).matrix().cast<float>());
  }
  const std::pair<const char*, NpyDType> unsigned_files[] = {{"int_u1.npy", NpyDType::uint8},
                                                             {"int_u2.npy", NpyDType::uint16},
                                                             {"int_u4.npy", NpyDType::uint32},
                                                             {"int_u8.npy", NpyDType::uint64}};
  for (const auto& [name, dtype] : unsigned_files) {
    INFO(name);
    CHECK(emcluster::read_npy_header(npy_path(name)).dtype == dtype);
    CHECK(emcluster::read_npy<double>(npy_path(name)) == (ints.array() + 3).matrix());
  }
  CHECK(emcluster::npy_item_size(NpyDType::int16) == 2);
  CHECK(std::string(emcluster::npy_dtype_name(NpyDType::uint8)) == "|u1");
  // 2^24 + 1 is a double, not a float; 2^53 + 1 and 2^64 - 1 are neither (refused at their
  // byte, never rounded).
  CHECK(emcluster::read_npy<double>(npy_path("int_float_inexact.npy"))(0, 1) == 16777217.0);
  const auto f = error_of([] { emcluster::read_npy<float>(npy_path("int_float_inexact.npy")); });
  CHECK(f.byte_offset() == 128 + 4);
  CHECK_THAT(f.message(), Catch::Contains("integer 16777217 at row 0, column 1 (0-based) is not "
                                          "exactly representable in float"));
  const auto d = error_of([] { emcluster::read_npy<double>(npy_path("int_double_inexact.npy")); });
  CHECK(d.byte_offset() == 128 + 8);
  CHECK_THAT(d.message(), Catch::Contains("integer 9007199254740993 at row 1") &&
                              Catch::Contains("not exactly representable in double"));
  const auto u = error_of([] { emcluster::read_npy<double>(npy_path("uint_max.npy")); });
  CHECK_THAT(u.message(), Catch::Contains("integer 18446744073709551615"));
}

TEST_CASE("NPY: rows read alone equal those rows of the whole file", "[data_files][npy]") {
  for (const char* name : {"c_f8.npy", "f_f8.npy", "c_f4.npy", "f_f4.npy"}) {
    INFO(name);
    const auto all = emcluster::read_npy<double>(npy_path(name));
    for (Eigen::Index first = 0; first <= 5; ++first) {
      for (Eigen::Index n = 0; first + n <= 5; ++n) {
        const auto part = emcluster::read_npy_rows<double>(npy_path(name), first, n);
        REQUIRE(part.rows() == n);
        CHECK(part == all.middleRows(first, n));
      }
    }
    CHECK_THROWS_AS(emcluster::read_npy_rows<double>(npy_path(name), 3, 3), std::invalid_argument);
    CHECK_THROWS_AS(emcluster::read_npy_rows<double>(npy_path(name), -1, 1), std::invalid_argument);
  }
  const Eigen::MatrixXd x = fixture_values(5, 3);
  CHECK(emcluster::read_raw_rows<double>(npy_path("raw_f8.bin"), NpyDType::float64, 3, 1, 3) ==
        x.middleRows(1, 3));
  CHECK(emcluster::read_raw_rows<float>(npy_path("raw_f4.bin"), NpyDType::float32, 3, 0, 5) ==
        x.cast<float>());
  const auto e = error_of(
      [] { emcluster::read_raw_rows<double>(npy_path("raw_f8.bin"), NpyDType::float64, 4, 0, 1); });
  CHECK_THAT(e.message(), Catch::Contains("not a whole number of rows of 4 values"));
  CHECK(e.byte_offset() == 96);
}

TEST_CASE("NPY: write_npy writes the bytes numpy writes, from any expression",
          "[data_files][npy]") {
  const Eigen::MatrixXd x = fixture_values(5, 3);
  std::ostringstream c_order, from_col_major, from_block;
  emcluster::write_npy(c_order, "s", Eigen::Matrix<double, 5, 3, Eigen::RowMajor>(x));
  emcluster::write_npy(from_col_major, "s", x);
  emcluster::write_npy(from_block, "s", fixture_values(7, 3).topRows(5).array() * 1.0);
  const std::string numpy = file_bytes(npy_path("c_f8.npy"));
  CHECK(c_order.str() == numpy);
  CHECK(from_col_major.str() == numpy);
  CHECK(fixture_values(7, 3).topRows(5) == x);
  CHECK(from_block.str() == numpy);
  std::ostringstream as_float;
  emcluster::write_npy(as_float, "s", x.cast<float>());
  CHECK(as_float.str() == file_bytes(npy_path("c_f4.npy")));
  std::istringstream back(as_float.str());
  CHECK(emcluster::read_npy<float>(back, "s") == x.cast<float>());
}

TEST_CASE("NPY: an empty array of any declared shape writes and reads as a header alone",
          "[data_files][npy]") {
  // numpy accepts (0, c) and (r, 0) for any c and r; neither may cost time or memory in c or
  // r (a fuzzer found write_npy allocating a row of 2^40 values and looping over 2^40 rows).
  const Eigen::Index huge = Eigen::Index(1) << 40;
  for (const auto& shape :
       {std::make_pair(Eigen::Index(0), huge), std::make_pair(huge, Eigen::Index(0))}) {
    const Eigen::MatrixXd empty(shape.first, shape.second);
    std::ostringstream out;
    emcluster::write_npy(out, "s", empty);
    CHECK(out.str().size() == 128);
    std::istringstream back(out.str());
    const auto h = emcluster::read_npy_header(back, "s");
    CHECK(h.rows == shape.first);
    CHECK(h.cols == shape.second);
    CHECK(h.data_offset == 128);
    const auto x = emcluster::read_npy<float>(back, "s");
    CHECK(x.rows() == shape.first);
    CHECK(x.cols() == shape.second);
  }
}

TEST_CASE("NPY: broken files give their documented error at their byte offset",
          "[data_files][npy]") {
  struct Case {
    const char* file;
    std::uint64_t offset;
    const char* message;
  };
  // Offsets: 0-based bytes; the fixtures' header is 118 bytes after a 10-byte prefix, so the
  // data starts at 128 and (1, 2) of a 5 x 3 float64 array is at 128 + 5 * 8 = 168.
  const Case cases[] = {
      {"empty.npy", 0, "empty file: expected an NPY header"},
      {"bad_magic.npy", 0, "not an NPY file"},
      {"version_4.npy", 6, "unsupported NPY format version 4.0"},
      {"big_endian.npy", 20, "big-endian dtype '>f8' is not supported"},
      {"big_endian_int.npy", 20, "big-endian dtype '>i4' is not supported"},
      {"bool.npy", 20, "boolean dtype '|b1' is not supported"},
      {"object.npy", 20, "object (pickled Python objects) dtype '|O' is not supported"},
      {"complex.npy", 20, "complex dtype '<c16' is not supported"},
      {"float16.npy", 20, "floating-point of this size dtype '<f2' is not supported"},
      {"structured.npy", 20, "structured arrays"},
      {"three_d.npy", 60, "3-d arrays are not supported"},
      {"zero_d.npy", 60, "0-d arrays"},
      {"header_garbage.npy", 44, "'fortran_order' must be True or False"},
      {"missing_key.npy", 10, "the header has no 'fortran_order' key"},
      {"header_len_lies.npy", 248, "truncated NPY header: 65535 bytes announced, 238 in the file"},
      {"truncated.npy", 243,
       "truncated data: shape (5, 3) of '<f8' needs 120 bytes, the file "
       "has 115 after the header"},
      {"header_only.npy", 128, "needs 120 bytes, the file has 0 after the header"},
      {"huge_shape.npy", 248,
       "shape (1000000000000, 1000000) of '<f8' needs 8000000000000000000 bytes, the file has 120"},
      {"trailing_bytes.npy", 248, "8 bytes after the data of shape (5, 3)"},
      {"nan.npy", 168, "NaN at row 1, column 2 (0-based): values must be finite"},
      {"inf_f4.npy", 164, "infinity at row 3, column 0"},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const auto e = error_of([&] { emcluster::read_npy<double>(npy_path(c.file)); });
    CHECK(e.path() == npy_path(c.file));
    CHECK(e.byte_offset() == c.offset);
    CHECK_THAT(e.message(), Catch::Contains(c.message));
    CHECK_THAT(std::string(e.what()),
               Catch::StartsWith(npy_path(c.file) + ": byte " + std::to_string(c.offset) + ": "));
    CHECK(e.line() == 0);
    // The same from a stream, and the header alone refuses the same header errors.
    std::istringstream in(file_bytes(npy_path(c.file)));
    const auto s = error_of([&] { emcluster::read_npy<float>(in, "memory"); });
    CHECK(s.message() == e.message());
  }
  const auto missing = error_of([] { emcluster::read_npy<double>(npy_path("no_such.npy")); });
  CHECK_THAT(missing.what(), Catch::Contains("no_such.npy: cannot open for reading"));
}

// =============================================================================================
// CSV

namespace {

emcluster::CsvTable<double> csv(const std::string& text, const emcluster::CsvReadOptions& o = {}) {
  std::istringstream in(text);
  return emcluster::read_csv<double>(in, "t.csv", o);
}

data_file_error csv_error(const std::string& text, const emcluster::CsvReadOptions& o = {}) {
  return error_of([&] { csv(text, o); });
}

Eigen::MatrixXd matrix(std::initializer_list<std::initializer_list<double>> rows) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()),
                    static_cast<Eigen::Index>(rows.begin()->size()));
  Eigen::Index i = 0;
  for (const auto& r : rows) {
    Eigen::Index j = 0;
    for (double v : r) m(i, j++) = v;
    ++i;
  }
  return m;
}

}  // namespace

TEST_CASE("CSV: RFC 4180 fields, header detection, BOM, CRLF, blank lines", "[data_files][csv]") {
  const auto plain = csv("1,2.5\n-3,4e2\n");
  CHECK_FALSE(plain.has_header);
  CHECK(plain.column_names == std::vector<std::string>{"", ""});
  CHECK(plain.values == matrix({{1, 2.5}, {-3, 400}}));

  const auto quoted = csv("\xEF\xBB\xBFx,\"y \"\"q\"\", z\"\r\n 1 ,\"2\"\r\n+3,\t4\t\r\n");
  CHECK(quoted.has_header);
  CHECK(quoted.column_names == std::vector<std::string>{"x", "y \"q\", z"});
  CHECK(quoted.values == matrix({{1, 2}, {3, 4}}));

  // A line break inside quotes is part of the field; CR alone ends a record; blank lines are
  // skipped; the last record needs no line break.
  const auto breaks = csv("\"a\nb\",c\r1,2\n\n\r\n3,4");
  CHECK(breaks.column_names == std::vector<std::string>{"a\nb", "c"});
  CHECK(breaks.values == matrix({{1, 2}, {3, 4}}));

  // A declared header is a header even when numeric; a declared absence makes text an error.
  emcluster::CsvReadOptions present;
  present.header = emcluster::CsvHeader::present;
  CHECK(csv("1,2\n3,4\n", present).values == matrix({{3, 4}}));
  emcluster::CsvReadOptions absent;
  absent.header = emcluster::CsvHeader::absent;
  CHECK(csv_error("a,b\n3,4\n", absent).message() == "expected a number in field 1, found \"a\"");

  // Other delimiters.
  emcluster::CsvReadOptions semicolon;
  semicolon.delimiter = ';';
  const auto comma = csv_error("a;b\n1,5;2\n", semicolon);  // "1,5" is not a number
  CHECK(comma.line() == 2);
  CHECK(comma.column() == 1);
  emcluster::CsvReadOptions tab;
  tab.delimiter = '\t';
  CHECK(csv("1\t2\n3\t4\n", tab).values == matrix({{1, 2}, {3, 4}}));
}

TEST_CASE("CSV: the delimiter and the decimal separator, detected or given", "[data_files][csv]") {
  emcluster::CsvReadOptions detect;
  detect.delimiter = '\0';
  detect.decimal = '\0';
  const struct {
    const char* what;
    std::string text;
    char delimiter, decimal;
  } cases[] = {
      {"comma", "a,b\n1.5,2\n3,4\n", ',', '.'},
      {"semicolon with decimal commas (R's write.csv2)",
       "\"\";\"a\";\"b\"\n\"1\";1,5;2\n\"2\";3;4\n", ';', ','},
      {"semicolon with decimal points", "a;b\n1.5;2\n3;4\n", ';', '.'},
      {"tab", "a\tb\n1.5\t2\n3\t4\n", '\t', '.'},
      {"tab, header one field short, decimal commas", "a\tb\nr1\t1,5\t2\nr2\t3\t4\n", '\t', ','},
      {"space (R's write.table)", "\"a\" \"b\"\n\"1\" 1.5 2\n\"2\" 3 4\n", ' ', '.'},
      {"quoted delimiters do not count", "\"x;y\",b\n1.5,2\n3,4\n", ',', '.'},
      {"one column", "a\n1.5\n3\n", ',', '.'},
      {"commas in text, semicolons between fields", "a;note\n1;\"x, y\"\n2;z\n", ';', '.'},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    std::istringstream in(c.text);
    const emcluster::CsvLayout layout = emcluster::inspect_csv(in, "t.csv", detect);
    CHECK(layout.delimiter == c.delimiter);
    CHECK(layout.decimal == c.decimal);
  }
  // A semicolon file's decimal commas read as the numbers they are (detected or declared).
  detect.infer_columns = true;
  const auto t = csv("\"\";\"eruptions\";\"waiting\"\n\"1\";3,6;79\n\"2\";1,8;54\n", detect);
  CHECK(t.values == matrix({{3.6, 79}, {1.8, 54}}));
  CHECK(t.column_names == std::vector<std::string>{"eruptions", "waiting"});
  emcluster::CsvReadOptions comma;
  comma.delimiter = ';';
  comma.decimal = ',';
  CHECK(csv("a;b\n-0,25;1e3\n", comma).values == matrix({{-0.25, 1000}}));
  CHECK_THAT(csv_error("a;b\n0.25;1\n", comma).message(),
             Catch::Contains("a decimal point, in a file read with decimal commas"));
  // Read with decimal points, a decimal comma gets a hint.
  emcluster::CsvReadOptions semicolon;
  semicolon.delimiter = ';';
  CHECK_THAT(csv_error("a;b\n1;2,5\n", semicolon).message(),
             Catch::Contains("found \"2,5\" (a decimal comma?"));
  comma.delimiter = ',';
  CHECK_THROWS_AS(csv("1\n", comma), std::invalid_argument);
}

TEST_CASE("CSV: headers, row names and text columns as R and pandas write them",
          "[data_files][csv]") {
  // A first row of numbers and missing values is data, not a header.
  std::istringstream na("NA,3\n1,2\n");
  CHECK_FALSE(emcluster::inspect_csv(na, "t.csv").has_header);
  emcluster::CsvReadOptions drop;
  drop.bad_values = emcluster::CsvBadValues::drop_row;
  const auto na_dropped = csv("NA,3\n1,2\n", drop);
  CHECK_FALSE(na_dropped.has_header);
  CHECK(na_dropped.values == matrix({{1, 2}}));
  CHECK(na_dropped.dropped_rows == std::vector<std::uint64_t>{0});
  CHECK(na_dropped.data_rows == 2);
  // Text over text is a column of text, not a header (no header: the text is an error).
  std::istringstream text_over_text("a,1\nb,2\n");
  CHECK_FALSE(emcluster::inspect_csv(text_over_text, "t.csv").has_header);
  // Text over a number or a missing value is a header.
  CHECK(csv("x,y\nNA,2\n1,2\n", drop).has_header);

  emcluster::CsvReadOptions infer;
  infer.infer_columns = true;
  // R's write.csv: an unnamed first column of row names.
  const auto r = csv("\"\",\"eruptions\",\"waiting\"\n\"1\",3.6,79\n\"2\",1.8,54\n", infer);
  CHECK(r.values == matrix({{3.6, 79}, {1.8, 54}}));
  CHECK(r.column_names == std::vector<std::string>{"eruptions", "waiting"});
  CHECK(r.column_indices == std::vector<Eigen::Index>{1, 2});
  REQUIRE(r.layout.left_out.size() == 1);
  CHECK(r.layout.left_out[0].index == 0);
  CHECK(r.layout.left_out[0].reason == emcluster::CsvLeftOutReason::row_names);
  // Without infer_columns the row names are read (numbers here), as before.
  CHECK(csv("\"\",\"a\"\n\"1\",3.5\n").values == matrix({{1, 3.5}}));
  // R's write.table: the header one field short; the first field of every row is its name.
  emcluster::CsvReadOptions space = infer;
  space.delimiter = ' ';
  const auto w = csv("\"a\" \"b\"\n\"Mazda RX4\" 21 6\n\"Datsun 710\" 22.8 4\n", space);
  CHECK(w.layout.short_header);
  CHECK(w.layout.names == std::vector<std::string>{"", "a", "b"});
  CHECK(w.values == matrix({{21, 6}, {22.8, 4}}));
  // ... and rows then need the data row's field count.
  CHECK_THAT(csv_error("a,b\nr1,1,2\nr2,3\n", infer).message(),
             Catch::Contains("expected 3 fields (as the first data row), found 2"));
  // A text column (iris's Species) is left out and checked: a number in it is an error.
  const std::string iris =
      "\"\",\"x\",\"Species\",\"y\"\n\"1\",5.1,\"setosa\",3\n\"2\",4.9,\"setosa\",NA\n";
  drop.infer_columns = true;
  const auto i = csv(iris, drop);
  CHECK(i.values == matrix({{5.1, 3}}));
  CHECK(i.column_names == std::vector<std::string>{"x", "y"});
  REQUIRE(i.layout.left_out.size() == 2);
  CHECK(i.layout.left_out[1].name == "Species");
  CHECK(i.layout.left_out[1].reason == emcluster::CsvLeftOutReason::text);
  CHECK(i.layout.left_out[1].example == "setosa");
  CHECK(i.dropped_rows == std::vector<std::uint64_t>{1});
  const auto mixed = csv_error("x,kind\n1,a\n2,b\n3,7.5\n4,c\n", infer);
  CHECK(mixed.line() == 4);
  CHECK(mixed.column() == 3);
  CHECK_THAT(mixed.message(), Catch::Contains("a number \"7.5\" in field 2 (\"kind\"), a column "
                                              "left out as text (its value on line 2 is \"a\")"));
  // The one-pass path checks text columns too (plain records, the number far into the file).
  std::string plain = "x,kind\n";
  for (int k = 0; k < 1000; ++k) plain += std::to_string(k) + ",t" + std::to_string(k) + "\n";
  CHECK(csv(plain, infer).values.rows() == 1000);
  CHECK(csv_error(plain + "5,6\n", infer).line() == 1002);
  CHECK_THAT(csv_error("a,b\nx,y\nz,w\n", infer).message(), Catch::Contains("no numeric column"));
  // An explicit selection reads what it names, text columns included (as an error).
  emcluster::CsvReadOptions by_index = infer;
  by_index.column_indices = {0, 1};
  CHECK(csv("\"\",\"a\"\n\"1\",3.5\n", by_index).values == matrix({{1, 3.5}}));
}

TEST_CASE("CSV: files that are not CSV text are named for what they are", "[data_files][csv]") {
  const struct {
    const char* what;
    std::string bytes;
    const char* message;
  } cases[] = {
      {"gzip", std::string("\x1f\x8b\x08\x00\x00\x00", 6), "is gzip-compressed"},
      {"bzip2", "BZh91AY&SY", "is bzip2-compressed"},
      {"zip", std::string("PK\x03\x04\x14\x00", 6), "is a ZIP archive"},
      {"UTF-16 with a BOM", std::string("\xff\xfex\x00,\x00y\x00", 8), "is UTF-16 text"},
      {"UTF-16 without a BOM", std::string("x\0,\0y\0\n\0001\0,\0002\0\n\0", 16), "is UTF-16 text"},
      {"binary", std::string("1,2\n\x00\x01\x02\x03", 8), "is a binary file"},
      {"NPY", std::string("\x93NUMPY\x01\x00", 8), "is an NPY file"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const auto e = csv_error(c.bytes);
    CHECK(e.line() == 0);
    CHECK_THAT(e.message(), Catch::StartsWith(c.message));
  }
  const auto dir = error_of([] { emcluster::read_csv<double>(emcluster_test::data_path("npy")); });
  CHECK_THAT(dir.message(), Catch::Contains("is a directory"));
  const auto npy_dir =
      error_of([] { emcluster::read_npy<double>(emcluster_test::data_path("npy")); });
  CHECK_THAT(npy_dir.message(), Catch::Contains("is a directory"));
}

TEST_CASE("CSV: the reader reports its progress on large files", "[data_files][csv]") {
  std::string text;
  for (int i = 0; i < 1000000; ++i) text += std::to_string(i) + ",1.5\n";  // ~10 MB
  emcluster::CsvReadOptions o;
  std::vector<std::uint64_t> seen;
  o.progress = [&](std::uint64_t bytes) { seen.push_back(bytes); };
  CHECK(csv(text, o).values.rows() == 1000000);
  REQUIRE(seen.size() >= 3);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(seen.back() == text.size());
}

TEST_CASE("CSV: columns selected by name or index, the others are not parsed",
          "[data_files][csv]") {
  const std::string text = "id,x,name,y\n7,1.5,\"a, b\",2\n8,-1,c,3\n";
  emcluster::CsvReadOptions by_name;
  by_name.columns = {"y", "x"};
  const auto t = csv(text, by_name);
  CHECK(t.column_names == std::vector<std::string>{"y", "x"});
  CHECK(t.values == matrix({{2, 1.5}, {3, -1}}));
  emcluster::CsvReadOptions by_index;
  by_index.column_indices = {0, 3};
  CHECK(csv(text, by_index).values == matrix({{7, 2}, {8, 3}}));
  CHECK(csv(text, by_index).column_names == std::vector<std::string>{"id", "y"});

  by_name.columns = {"z"};
  const auto unknown = csv_error(text, by_name);
  CHECK(unknown.line() == 1);
  CHECK(unknown.message() == "no column named \"z\" (the header has: id, x, name, y)");
  by_index.column_indices = {4};
  CHECK_THAT(csv_error(text, by_index).message(),
             Catch::Contains("column index 4 is out of range: the first row has 4 fields"));
  by_name.columns = {"x"};
  by_name.header = emcluster::CsvHeader::absent;
  CHECK_THAT(csv_error("1,2\n", by_name).message(), Catch::Contains("not a header"));
  emcluster::CsvReadOptions both;
  both.columns = {"x"};
  both.column_indices = {1};
  CHECK_THROWS_AS(csv(text, both), std::invalid_argument);
  emcluster::CsvReadOptions quote;
  quote.delimiter = '"';
  CHECK_THROWS_AS(csv(text, quote), std::invalid_argument);
}

TEST_CASE("CSV: bad values are errors at their line and column, or drop their row",
          "[data_files][csv]") {
  const std::string text = "a,b\n1,2\n3,\n4,x\n5,nan\n6,1e999\n7,8\n";
  const auto e = csv_error(text);
  CHECK(e.line() == 3);
  CHECK(e.column() == 3);
  CHECK(e.message() == "missing value in field 2 (\"b\"): expected a number");
  CHECK(std::string(e.what()) == "t.csv:3:3: missing value in field 2 (\"b\"): expected a number");

  emcluster::CsvReadOptions drop;
  drop.bad_values = emcluster::CsvBadValues::drop_row;
  const auto t = csv(text, drop);
  CHECK(t.values == matrix({{1, 2}, {7, 8}}));
  CHECK(t.dropped_lines == std::vector<std::uint64_t>{3, 4, 5, 6});
  // Only the selected columns count.
  drop.column_indices = {0};
  CHECK(csv(text, drop).values.rows() == 6);
  CHECK(csv(text, drop).dropped_lines.empty());
  // Every row dropped is an error, not an empty matrix.
  drop.column_indices = {};
  CHECK_THAT(csv_error("a,b\n1,\n,2\n", drop).message(),
             Catch::Contains("every one of the 2 data rows has a bad value"));
  // A float reader refuses numbers beyond float's range.
  std::istringstream big("1e39\n");
  const auto f = error_of([&] { emcluster::read_csv<float>(big, "f.csv"); });
  CHECK(f.message() == "number \"1e39\" in field 1 is outside the range of float");
}

TEST_CASE("CSV: the broken-file corpus gives each its documented error and position",
          "[data_files][csv]") {
  struct Case {
    const char* what;
    std::string text;
    std::uint64_t line, column;
    const char* message;
  };
  const Case cases[] = {
      {"empty", "", 1, 1, "empty file: expected CSV data"},
      {"only a BOM and blank lines", "\xEF\xBB\xBF\r\n\n", 1, 1, "empty file"},
      {"header only", "a,b\r\n", 2, 0, "no data rows after the header"},
      {"ragged: too few", "1,2,3\n4,5\n", 2, 4, "expected 3 fields (as the first row), found 2"},
      {"ragged: too many", "1,2\r\n3,4,5\r\n", 2, 5,
       "expected 2 fields (as the first row), found 3"},
      {"text in data", "x,y\n1,2\n3,abc\n", 3, 3,
       "expected a number in field 2 (\"y\"), found \"abc\""},
      {"NaN", "1,2\n3,NaN\n", 2, 3, "missing value \"NaN\" in field 2: expected a number"},
      {"NA", "1,2\n3, NA \n", 2, 3, "missing value \"NA\" in field 2: expected a number"},
      {"infinity", "1,-inf\n", 1, 3, "non-finite value \"-inf\""},
      {"huge number", "1,2\n3,1e400\n", 2, 3, "number \"1e400\" in field 2 is outside the range"},
      {"unterminated quote", "1,2\n3,\"4\n5,6\n", 2, 3, "unterminated quoted field"},
      {"quote in a field", "1,2\n3,4\"\n", 2, 4, "quote inside an unquoted field"},
      {"text after a quote", "1,2\n\"3\" ,4\n", 2, 4,
       "expected a delimiter or the end of the line after a closing quote"},
      {"line numbers past a quoted line break", "\"a\nb\",c\n1,\n", 3, 3, "missing value"},
      {"column after a BOM", "\xEF\xBB\xBFx\n", 2, 0, "no data rows"},
      {"hexadecimal", "1\n0x1F\n", 2, 1, "expected a number in field 1, found \"0x1F\""},
  };
  emcluster::CsvReadOptions absent;
  for (const Case& c : cases) {
    INFO(c.what);
    const auto e = csv_error(c.text);
    CHECK(e.path() == "t.csv");
    CHECK(e.line() == c.line);
    CHECK(e.column() == c.column);
    CHECK_THAT(e.message(), Catch::Contains(c.message));
  }
}

TEST_CASE("CSV: records across the reader's 4 MiB chunks read exactly", "[data_files][csv]") {
  // ~12 MiB of rows in varied forms (quotes, CRLF, spaces, long quoted text columns with line
  // breaks) so that records and fields straddle chunk boundaries at every kind of byte.
  const Eigen::Index n = 260000;
  std::string text = "v,\"note\",w\n";
  Eigen::MatrixXd expected(n, 2);
  for (Eigen::Index i = 0; i < n; ++i) {
    expected(i, 0) = static_cast<double>(i) / 7.0;
    expected(i, 1) = -static_cast<double>(i % 1000) * 1e-3;
    char v[64], w[64];
    *std::to_chars(v, v + 64, expected(i, 0)).ptr = '\0';
    *std::to_chars(w, w + 64, expected(i, 1)).ptr = '\0';
    const std::string note = std::string(static_cast<std::size_t>(i % 37), 'q') +
                             (i % 5 == 0 ? "\"\"\n\"\"" : "") + (i % 3 == 0 ? "\r\n" : ",");
    text += (i % 2 ? std::string("\"") + v + "\"" : std::string(" ") + v) + ",\"" + note + "\"," +
            w + (i % 4 == 0 ? "\r\n" : "\n");
  }
  REQUIRE(text.size() > 3 * (std::size_t{1} << 22));
  emcluster::CsvReadOptions o;
  o.columns = {"v", "w"};
  const auto t = csv(text, o);
  REQUIRE(t.values.rows() == n);
  CHECK(t.values == expected);
  // An error's line number counts the line breaks inside quotes.
  const std::string bad = text + "1,\"\",x\n";
  const auto e = csv_error(bad, o);
  std::uint64_t lines = 1;
  for (char ch : text) lines += ch == '\n' ? 1 : 0;
  for (std::size_t k = 0; k + 1 < text.size(); ++k) lines += text[k] == '\r' && text[k + 1] != '\n';
  CHECK(e.line() == lines);
  CHECK(e.column() == 6);
}

TEST_CASE("CSV: plain numeric rows (the one-pass path) across chunks, any selection",
          "[data_files][csv]") {
  const Eigen::Index n = 300000;
  std::string text;
  Eigen::MatrixXd expected(n, 3);
  for (Eigen::Index i = 0; i < n; ++i) {
    char buf[64];
    for (Eigen::Index j = 0; j < 3; ++j) {
      expected(i, j) = (static_cast<double>(i) - 1000.5 * static_cast<double>(j)) / 3.0;
      text.append(buf, std::to_chars(buf, buf + 64, expected(i, j)).ptr);
      text += j < 2 ? "," : (i % 3 == 0 ? "\r\n" : "\n");
    }
  }
  REQUIRE(text.size() > 2 * (std::size_t{1} << 22));
  CHECK(csv(text).values == expected);
  emcluster::CsvReadOptions o;
  o.column_indices = {2, 0};
  const auto t = csv(text, o);
  CHECK(t.values.col(0) == expected.col(2));
  CHECK(t.values.col(1) == expected.col(0));
  o.column_indices = {1, 1};
  CHECK(csv(text, o).values.col(1) == expected.col(1));
  // A bad value far into the file: its line and column.
  std::string bad = text;
  const std::size_t at = bad.find('\n', bad.size() / 2) + 1;  // the start of some line
  std::uint64_t line = 1;
  for (std::size_t k = 0; k < at; ++k) line += bad[k] == '\n';
  const std::size_t comma = bad.find(',', at);
  bad.insert(comma + 1, "x");
  const auto e = csv_error(bad);
  CHECK(e.line() == line);
  CHECK(e.column() == comma + 2 - at);
  CHECK_THAT(e.message(), Catch::StartsWith("expected a number in field 2, found \"x"));
}

TEST_CASE("CSV: a record longer than the reader's buffer grows it", "[data_files][csv]") {
  // A 9 MiB quoted text field (with a line break) in an unselected column: the reader's
  // 4 MiB buffer must grow to hold the record, and the line numbers after it stay right.
  const std::string big(std::size_t{9} << 20, 'x');
  const std::string text = "a,b\n1,\"" + big + "\n" + big + "\"\n2,y\n3,\n";
  emcluster::CsvReadOptions o;
  o.columns = {"a"};
  CHECK(csv(text, o).values == matrix({{1}, {2}, {3}}));
  const auto late = csv_error(text + "z,1\n", o);
  CHECK(late.line() == 6);
  CHECK(late.column() == 1);
  o.columns = {"a", "b"};
  const auto e = csv_error(text, o);
  CHECK(e.line() == 2);
  CHECK(e.column() == 3);
  CHECK_THAT(e.message(), Catch::StartsWith("expected a number in field 2 (\"b\"), found \"xxx"));
}

TEST_CASE("CSV: write_csv writes what read_csv reads back bit for bit", "[data_files][csv]") {
  Eigen::MatrixXd x(3, 2);
  x << 0.1, -1.0 / 3.0, 1e-300, 6.02214076e23, 5e-324, -0.0;
  std::ostringstream out;
  emcluster::write_csv(out, "o.csv", x, {"a", "b,\"c\""});
  CHECK(out.str().substr(0, 12) == "a,\"b,\"\"c\"\"\"\n");
  const auto t = csv(out.str());
  CHECK(t.column_names == std::vector<std::string>{"a", "b,\"c\""});
  CHECK(t.values == x);
  CHECK(std::signbit(t.values(2, 1)));
  Eigen::VectorXi labels(3);
  labels << 2, 0, -1;
  std::ostringstream l;
  emcluster::write_csv(l, "l.csv", labels, {"label"});
  CHECK(l.str() == "label\n2\n0\n-1\n");
  CHECK_THROWS_AS(emcluster::write_csv(l, "l.csv", labels, {"a", "b"}), std::invalid_argument);
  std::ostringstream f;
  emcluster::write_csv(f, "f.csv", x.cast<float>().row(0));
  CHECK(f.str() == "0.1,-0.33333334\n");
}

TEST_CASE("read_matrix: NPY by its magic bytes or its extension, CSV otherwise",
          "[data_files][csv][npy]") {
  const Eigen::MatrixXd x = fixture_values(5, 3);
  CHECK(emcluster::read_matrix<double>(npy_path("c_f8.npy")) == x);
  // The magic string decides, whatever the name says ('.NPY', no extension).
  for (const char* name : {"emcluster_test_upper.NPY", "emcluster_test_noext"}) {
    {
      std::ofstream out(name, std::ios::binary);
      out << file_bytes(npy_path("c_f8.npy"));
    }
    CHECK(emcluster::is_npy_file(name));
    CHECK(emcluster::read_matrix<double>(name) == x);
    std::remove(name);
  }
  // A broken file named .npy is read as NPY (and refused as one).
  CHECK(emcluster::is_npy_file(npy_path("bad_magic.npy")));
  const std::string path = emcluster_test::data_path("npy/../metrics_article.csv");
  const auto m = emcluster::read_matrix<double>(path);
  CHECK(m.rows() > 0);
  CHECK(m == emcluster::read_csv<double>(path).values);
}

// =============================================================================================
// Writing: whole files or nothing

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The names in a directory.
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("Writers: a file is replaced whole or left as it was, never a part",
          "[data_files][atomic]") {
  namespace fs = std::filesystem;
  const std::string dir = "emcluster_test_atomic";
  fs::remove_all(dir);
  fs::create_directory(dir);
  const std::string target = dir + "/x.csv";
  {
    std::ofstream out(target);
    out << "old\n";
  }
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  Eigen::MatrixXd x(2, 2);
  x << 1, 2, 3, 4;
  emcluster::write_csv(target, x, {"a", "b"});
  CHECK(read_text(target) == "a,b\n1,2\n3,4\n");
  // The replaced file's permissions, and no temporary left behind.
  CHECK((fs::status(target).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  CHECK(listing(dir) == std::vector<std::string>{"x.csv"});

  // A writer that fails half-way leaves the old file and no temporary.
  CHECK_THROWS_AS(emcluster::detail::write_file_atomically(target,
                                                           [](std::ostream& out) {
                                                             out << "partial";
                                                             throw std::runtime_error("stop");
                                                           }),
                  std::runtime_error);
  CHECK(read_text(target) == "a,b\n1,2\n3,4\n");
  CHECK(listing(dir) == std::vector<std::string>{"x.csv"});

  // A symbolic link: the file it points to is replaced, the link kept.
  fs::create_symlink("x.csv", dir + "/link.csv");
  emcluster::write_npy(dir + "/link.csv", x);
  CHECK(fs::is_symlink(dir + "/link.csv"));
  CHECK(emcluster::read_npy<double>(target) == x);
  CHECK(listing(dir) == std::vector<std::string>{"link.csv", "x.csv"});
  fs::create_symlink("nowhere.csv", dir + "/dangling.csv");
  CHECK_THAT(error_of([&] { emcluster::write_csv(dir + "/dangling.csv", x); }).message(),
             Catch::Contains("a symbolic link to a file or directory that does not exist"));

  // A directory, a missing directory, an empty name: errors, nothing written.
  CHECK_THAT(error_of([&] { emcluster::write_csv(dir, x); }).message(),
             Catch::Contains("is a directory"));
  CHECK_THAT(error_of([&] { emcluster::write_csv(dir + "/no/such/x.csv", x); }).message(),
             Catch::Contains("does not exist"));
  CHECK_THAT(error_of([&] { emcluster::write_csv(std::string(), x); }).message(),
             Catch::Contains("an empty file name"));
  // A device is written as it is (nothing to replace).
  emcluster::write_csv("/dev/null", x);
  CHECK(fs::is_character_file("/dev/null"));
  // Two writers of one path: each renames a whole file, the last wins.
  for (int round = 0; round < 20; ++round) {
    emcluster::detail::AtomicFile a(target), b(target);
    a.stream() << "first\n";
    b.stream() << "second\n";
    a.commit();
    CHECK(read_text(target) == "first\n");
    b.commit();
    CHECK(read_text(target) == "second\n");
  }
  CHECK(listing(dir) == std::vector<std::string>{"dangling.csv", "link.csv", "x.csv"});
  fs::remove_all(dir);
}
