// Data files, specified: NPY files written by numpy 1.24 (tests/make_data_file_fixtures.py)
// read back exactly in every dtype, order and version; rows read alone equal the same rows of
// the whole; write_npy writes the bytes numpy writes; and a corpus of broken files, each
// refused with its documented message at its byte offset. Then CSV (csv.hpp).
#include <catch2/catch.hpp>

#include <emcluster/npy.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>

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
      {"int64.npy", 20, "integer dtype '<i8' is not supported"},
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
