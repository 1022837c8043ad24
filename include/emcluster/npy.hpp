/// @file npy.hpp
/// @brief NumPy `.npy` files (float32/float64 and integer arrays, C or Fortran order, 1-D or
/// 2-D) read into Eigen row-major matrices and written from any Eigen expression; raw
/// little-endian row files too.
///
/// The reader validates everything before it allocates: the magic string, the format version
/// (1.0, 2.0 or 3.0), the header dictionary (exactly `descr`, `fortran_order` and `shape`),
/// the dtype (little-endian `<f4` or `<f8`, or a little-endian signed or unsigned integer of 1
/// to 8 bytes, read exactly: an integer the Scalar cannot hold exactly, beyond 2^53 for double
/// or 2^24 for float, is refused at its position; big-endian, boolean, complex, object and
/// structured arrays are refused by name), the shape (1-D arrays are read as one column; 0-D and
/// 3-D or more are refused) and that the file holds exactly the bytes the shape needs. So a file
/// whose header lies about its shape is an error, never an allocation the file cannot fill.
/// Values must be finite (NaN and infinities are refused at their position: no estimator
/// accepts them), and a float64 value converted to float must fit in float.
///
/// Every error is an emcluster::data_file_error whose message reads `file: byte N: ...`.
///
/// write_npy() to a path writes a temporary file renamed over the target when complete: a
/// reader sees the old file or the whole new one, never a part.
///
/// Only the standard library and Eigen are needed.
///
/// @code
/// #include <emcluster/npy.hpp>
///
/// // Python: np.save("X.npy", X)   with X of shape (n, d) and dtype float64 or float32
/// auto X = emcluster::read_npy<double>("X.npy");            // n x d, row-major
/// auto part = emcluster::read_npy_rows<float>("X.npy", 1000, 500);  // rows 1000..1499
/// emcluster::write_npy("labels.npy", X.col(0));             // shape (n, 1), '<f8'
/// @endcode
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/io/atomic_file.hpp"
#include "detail/io/file_kind.hpp"
#include "detail/io/row_major_matrix.hpp"
#include "exceptions.hpp"

namespace emcluster {

/// The element types the NPY reader accepts: little-endian IEEE float32 (`<f4`) and float64
/// (`<f8`), and little-endian integers (`|i1`, `<i2`, `<i4`, `<i8`, `|u1`, `<u2`, `<u4`, `<u8`).
/// write_npy() writes the floating-point ones.
enum class NpyDType { float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64 };

/// Bytes per value of a dtype (1 to 8).
inline std::uint64_t npy_item_size(NpyDType dtype) {
  switch (dtype) {
    case NpyDType::int8:
    case NpyDType::uint8:
      return 1;
    case NpyDType::int16:
    case NpyDType::uint16:
      return 2;
    case NpyDType::float32:
    case NpyDType::int32:
    case NpyDType::uint32:
      return 4;
    default:
      return 8;
  }
}

/// The dtype as numpy writes it in a header ("<f8", "|u1", ...).
inline const char* npy_dtype_name(NpyDType dtype) {
  switch (dtype) {
    case NpyDType::float32:
      return "<f4";
    case NpyDType::float64:
      return "<f8";
    case NpyDType::int8:
      return "|i1";
    case NpyDType::int16:
      return "<i2";
    case NpyDType::int32:
      return "<i4";
    case NpyDType::int64:
      return "<i8";
    case NpyDType::uint8:
      return "|u1";
    case NpyDType::uint16:
      return "<u2";
    case NpyDType::uint32:
      return "<u4";
    case NpyDType::uint64:
      return "<u8";
  }
  return "?";
}

/// What an NPY header says, validated against the file's size by read_npy_header().
struct NpyHeader {
  NpyDType dtype = NpyDType::float64;  ///< `<f4` or `<f8`
  bool fortran_order = false;          ///< column-major data when true
  Eigen::Index rows = 0;               ///< shape[0]
  Eigen::Index cols = 0;               ///< shape[1], or 1 for a 1-D array
  std::uint64_t data_offset = 0;       ///< where the data starts, in bytes from the file's start
  int ndim = 2;                        ///< 1 or 2, as the shape was written
};

namespace detail::npy {

inline bool host_is_little_endian() {
  const std::uint32_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

/// The value of `size` little-endian bytes at p, as T (float, double or an unsigned integer).
template <class T>
T load_little_endian(const unsigned char* p) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, p, sizeof(T));
  if (!host_is_little_endian()) {
    for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(bytes[i], bytes[sizeof(T) - 1 - i]);
  }
  T value;
  std::memcpy(&value, bytes, sizeof(T));
  return value;
}

template <class T>
void store_little_endian(const T& value, unsigned char* p) {
  std::memcpy(p, &value, sizeof(T));
  if (!host_is_little_endian()) {
    for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(p[i], p[sizeof(T) - 1 - i]);
  }
}

/// The number of bytes in the stream from its start (the stream is left at its start).
inline std::uint64_t stream_size(std::istream& in, const std::string& name) {
  in.clear();
  in.seekg(0, std::ios::end);
  const std::streamoff end = static_cast<std::streamoff>(in.tellg());
  in.seekg(0, std::ios::beg);
  if (end < 0 || !in) throw data_file_error::at_file(name, "cannot determine the file's size");
  return static_cast<std::uint64_t>(end);
}

/// Reads exactly n bytes at offset into out, or throws (the size was checked before).
inline void read_exact(std::istream& in, const std::string& name, std::uint64_t offset,
                       unsigned char* out, std::uint64_t n) {
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset), std::ios::beg);
  in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
  if (static_cast<std::uint64_t>(in.gcount()) != n) {
    throw data_file_error::at_byte(
        name, offset + static_cast<std::uint64_t>(in.gcount()),
        "unexpected end of file (" + std::to_string(n) + " bytes expected)");
  }
}

inline std::string shape_text(Eigen::Index rows, Eigen::Index cols, int ndim) {
  return ndim == 1 ? "(" + std::to_string(rows) + ",)"
                   : "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

/// A parser of the header's Python dict literal; offsets in errors are file offsets.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, std::uint64_t base, const std::string& name)
      : s_(text), base_(base), name_(name) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_space();
    expect('{', "'{' (the header is a Python dict)");
    for (;;) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      const std::size_t key_pos = pos_;
      const std::string key = parse_string("a quoted key");
      skip_space();
      expect(':', "':' after the key '" + key + "'");
      skip_space();
      if (key == "descr") {
        if (have_descr) fail_at(key_pos, "key 'descr' appears twice");
        have_descr = true;
        h.dtype = parse_descr();
      } else if (key == "fortran_order") {
        if (have_order) fail_at(key_pos, "key 'fortran_order' appears twice");
        have_order = true;
        h.fortran_order = parse_bool();
      } else if (key == "shape") {
        if (have_shape) fail_at(key_pos, "key 'shape' appears twice");
        have_shape = true;
        parse_shape(h);
      } else {
        fail_at(key_pos, "unexpected key '" + key + "' (expected descr, fortran_order, shape)");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        fail("expected ',' or '}' in the header dict");
      }
    }
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' ||
                                s_[pos_] == '\r' || s_[pos_] == '\0')) {
      ++pos_;
    }
    if (pos_ != s_.size()) fail("unexpected text after the header dict");
    if (!have_descr) fail_at(0, "the header has no 'descr' key");
    if (!have_order) fail_at(0, "the header has no 'fortran_order' key");
    if (!have_shape) fail_at(0, "the header has no 'shape' key");
    return h;
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  [[noreturn]] void fail_at(std::size_t pos, const std::string& message) const {
    throw data_file_error::at_byte(name_, base_ + pos, "NPY header: " + message);
  }
  [[noreturn]] void fail(const std::string& message) const { fail_at(pos_, message); }
  void expect(char c, const std::string& what) {
    if (peek() != c) fail("expected " + what);
    ++pos_;
  }
  std::string parse_string(const std::string& what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected " + what);
    ++pos_;
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' || s_[pos_] == '\n') fail("unsupported character in a string");
      ++pos_;
    }
    if (pos_ >= s_.size()) fail_at(start - 1, "unterminated string");
    std::string out = s_.substr(start, pos_ - start);
    ++pos_;
    return out;
  }
  bool parse_bool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False");
  }
  NpyDType parse_descr() {
    const std::size_t at = pos_;
    if (peek() == '[') fail("structured arrays (a list 'descr') are not supported");
    const std::string d = parse_string("a dtype string for 'descr'");
    if (d == "<f8") return NpyDType::float64;
    if (d == "<f4") return NpyDType::float32;
    // Integers: one byte has no byte order ('|'; '<' is accepted too), the others little-endian.
    if (d == "|i1" || d == "<i1") return NpyDType::int8;
    if (d == "|u1" || d == "<u1") return NpyDType::uint8;
    if (d == "<i2") return NpyDType::int16;
    if (d == "<i4") return NpyDType::int32;
    if (d == "<i8") return NpyDType::int64;
    if (d == "<u2") return NpyDType::uint16;
    if (d == "<u4") return NpyDType::uint32;
    if (d == "<u8") return NpyDType::uint64;
    const std::string supported =
        " (supported: '<f4' float32, '<f8' float64, little-endian integers)";
    if (d.size() >= 2 && d[0] == '>' && (d[1] == 'f' || d[1] == 'i' || d[1] == 'u')) {
      fail_at(at, "big-endian dtype '" + d + "' is not supported; convert with " +
                      "X.astype('<f8')" + supported);
    }
    const char kind = d.size() >= 2 ? d[1] : (d.empty() ? '\0' : d[0]);
    std::string what;
    switch (kind) {
      case 'i':
      case 'u':
        what = "integer of this size";
        break;
      case 'b':
      case '?':
        what = "boolean";
        break;
      case 'c':
        what = "complex";
        break;
      case 'O':
        what = "object (pickled Python objects)";
        break;
      case 'U':
      case 'S':
        what = "string";
        break;
      case 'f':
        what = "floating-point of this size";
        break;
      default:
        what = "this";
    }
    fail_at(at, what + " dtype '" + d + "' is not supported" + supported);
  }
  std::uint64_t parse_dim() {
    const std::size_t start = pos_;
    std::uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const std::uint64_t digit = static_cast<std::uint64_t>(s_[pos_] - '0');
      if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
        fail_at(start, "a dimension of the shape is too large");
      }
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer in 'shape'");
    if (peek() == 'L') ++pos_;  // Python 2's long literals
    return v;
  }
  void parse_shape(NpyHeader& h) {
    const std::size_t at = pos_;
    expect('(', "a tuple for 'shape'");
    std::vector<std::uint64_t> dims;
    for (;;) {
      skip_space();
      if (peek() == ')') {
        ++pos_;
        break;
      }
      dims.push_back(parse_dim());
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in 'shape'");
      }
      if (dims.size() > 32) fail_at(at, "'shape' has too many dimensions");
    }
    if (dims.empty()) fail_at(at, "0-d arrays (shape ()) are not supported: need 1-D or 2-D");
    if (dims.size() > 2) {
      fail_at(at, std::to_string(dims.size()) +
                      "-d arrays are not supported: need 1-D (n,) or 2-D (n, d); reshape first");
    }
    const auto max_index = static_cast<std::uint64_t>(std::numeric_limits<Eigen::Index>::max());
    for (std::uint64_t d : dims) {
      if (d > max_index) fail_at(at, "a dimension of the shape is too large");
    }
    h.ndim = static_cast<int>(dims.size());
    h.rows = static_cast<Eigen::Index>(dims[0]);
    h.cols = dims.size() == 2 ? static_cast<Eigen::Index>(dims[1]) : 1;
  }

  const std::string& s_;
  std::uint64_t base_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

/// Converts and checks one value; throws at its byte offset.
template <class Scalar, class Source>
Scalar convert_value(Source v, const std::string& name, std::uint64_t offset, Eigen::Index row,
                     Eigen::Index col) {
  const auto where = [&] {
    return " at row " + std::to_string(row) + ", column " + std::to_string(col) +
           " (0-based): values must be finite";
  };
  if (std::isnan(v)) throw data_file_error::at_byte(name, offset, "NaN" + where());
  if (std::isinf(v)) throw data_file_error::at_byte(name, offset, "infinity" + where());
  if (sizeof(Source) > sizeof(Scalar) &&
      std::fabs(v) > static_cast<Source>(std::numeric_limits<Scalar>::max())) {
    throw data_file_error::at_byte(name, offset,
                                   "value " + std::to_string(v) + " at row " + std::to_string(row) +
                                       ", column " + std::to_string(col) +
                                       " (0-based) overflows float; read the file as double");
  }
  return static_cast<Scalar>(v);
}

/// Converts and checks one integer: exact in Scalar, or refused (double holds every integer up
/// to 2^53 in magnitude and some beyond, float up to 2^24).
template <class Scalar, class Source>
Scalar convert_integer(Source v, const std::string& name, std::uint64_t offset, Eigen::Index row,
                       Eigen::Index col) {
  const auto s = static_cast<Scalar>(v);
  // Exact when converting back gives v. Values near the top of the integer type's range may
  // round up to 2^digits, beyond it: compared first, so that the conversion back is defined.
  const Scalar limit = std::ldexp(Scalar(1), std::numeric_limits<Source>::digits);
  const bool exact = s < limit && static_cast<Source>(s) == v;
  if (!exact) {
    throw data_file_error::at_byte(
        name, offset,
        "integer " + std::to_string(v) + " at row " + std::to_string(row) + ", column " +
            std::to_string(col) + " (0-based) is not exactly representable in " +
            (std::is_same<Scalar, float>::value ? "float (read the file as double)"
                                                : "double (convert the array first if rounding "
                                                  "it is acceptable: X.astype('<f8'))"));
  }
  return s;
}

/// The value of one item of `dtype` at p, converted to Scalar and checked.
template <class Scalar>
Scalar load_value(NpyDType dtype, const unsigned char* p, const std::string& name, std::uint64_t at,
                  Eigen::Index row, Eigen::Index col) {
  switch (dtype) {
    case NpyDType::float64:
      return convert_value<Scalar>(load_little_endian<double>(p), name, at, row, col);
    case NpyDType::float32:
      return convert_value<Scalar>(load_little_endian<float>(p), name, at, row, col);
    case NpyDType::int8:
      return convert_integer<Scalar>(load_little_endian<std::int8_t>(p), name, at, row, col);
    case NpyDType::int16:
      return convert_integer<Scalar>(load_little_endian<std::int16_t>(p), name, at, row, col);
    case NpyDType::int32:
      return convert_integer<Scalar>(load_little_endian<std::int32_t>(p), name, at, row, col);
    case NpyDType::int64:
      return convert_integer<Scalar>(load_little_endian<std::int64_t>(p), name, at, row, col);
    case NpyDType::uint8:
      return convert_integer<Scalar>(load_little_endian<std::uint8_t>(p), name, at, row, col);
    case NpyDType::uint16:
      return convert_integer<Scalar>(load_little_endian<std::uint16_t>(p), name, at, row, col);
    case NpyDType::uint32:
      return convert_integer<Scalar>(load_little_endian<std::uint32_t>(p), name, at, row, col);
    case NpyDType::uint64:
      return convert_integer<Scalar>(load_little_endian<std::uint64_t>(p), name, at, row, col);
  }
  return Scalar(0);
}

/// Reads `count` values of `dtype` starting at byte `offset` into out[0], out[stride], ...;
/// value v is at (first_row + v / per_row, first_col + v % per_row) for error messages when
/// the run is row-wise (per_row = cols), or at (first_row + v, first_col) when per_row = 0.
template <class Scalar>
void read_values(std::istream& in, const std::string& name, NpyDType dtype, std::uint64_t offset,
                 std::uint64_t count, Scalar* out, Eigen::Index stride, Eigen::Index first_row,
                 Eigen::Index first_col, Eigen::Index per_row) {
  const std::uint64_t item = npy_item_size(dtype);
  const std::uint64_t chunk_values = (std::uint64_t{1} << 20) / item;
  std::vector<unsigned char> buffer(static_cast<std::size_t>(std::min(count, chunk_values) * item));
  std::uint64_t done = 0;
  while (done < count) {
    const std::uint64_t n = std::min(count - done, chunk_values);
    read_exact(in, name, offset + done * item, buffer.data(), n * item);
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t v = done + i;
      const unsigned char* p = buffer.data() + i * item;
      const Eigen::Index row =
          per_row > 0
              ? first_row + static_cast<Eigen::Index>(v / static_cast<std::uint64_t>(per_row))
              : first_row + static_cast<Eigen::Index>(v);
      const Eigen::Index col =
          per_row > 0
              ? first_col + static_cast<Eigen::Index>(v % static_cast<std::uint64_t>(per_row))
              : first_col;
      const std::uint64_t at = offset + v * item;
      out[static_cast<Eigen::Index>(v) * stride] = load_value<Scalar>(dtype, p, name, at, row, col);
    }
    done += n;
  }
}

template <class Scalar>
void check_scalar() {
  static_assert(std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value,
                "emcluster's data file readers produce float or double");
}

inline void check_row_range(const char* function, Eigen::Index rows, Eigen::Index first_row,
                            Eigen::Index n_rows) {
  if (first_row < 0 || n_rows < 0 || first_row > rows || n_rows > rows - first_row) {
    throw std::invalid_argument(std::string(function) + ": rows [" + std::to_string(first_row) +
                                ", " + std::to_string(first_row) + " + " + std::to_string(n_rows) +
                                ") are outside the file's " + std::to_string(rows) + " rows");
  }
}

}  // namespace detail::npy

/// Reads and validates the header of an NPY stream (positioned anywhere; it is read from its
/// start). `name` is used in error messages.
inline NpyHeader read_npy_header(std::istream& in, const std::string& name) {
  using detail::npy::load_little_endian;
  const std::uint64_t size = detail::npy::stream_size(in, name);
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  unsigned char prefix[12] = {};
  if (size < 10) {
    throw data_file_error::at_byte(
        name, size,
        size == 0 ? "empty file: expected an NPY header" : "file too short for an NPY header");
  }
  detail::npy::read_exact(in, name, 0, prefix, 10);
  if (std::memcmp(prefix, magic, 6) != 0) {
    throw data_file_error::at_byte(name, 0, "not an NPY file (no \\x93NUMPY magic string)");
  }
  const int major = prefix[6];
  if (major < 1 || major > 3) {
    throw data_file_error::at_byte(name, 6,
                                   "unsupported NPY format version " + std::to_string(major) + "." +
                                       std::to_string(prefix[7]) + " (supported: 1.0, 2.0, 3.0)");
  }
  std::uint64_t header_len = 0;
  std::uint64_t header_start = 10;
  if (major == 1) {
    header_len = load_little_endian<std::uint16_t>(prefix + 8);
  } else {
    if (size < 12) throw data_file_error::at_byte(name, size, "file too short for an NPY header");
    detail::npy::read_exact(in, name, 0, prefix, 12);
    header_len = load_little_endian<std::uint32_t>(prefix + 8);
    header_start = 12;
  }
  constexpr std::uint64_t max_header = std::uint64_t{1} << 20;
  if (header_len > max_header) {
    throw data_file_error::at_byte(
        name, 8, "NPY header length " + std::to_string(header_len) + " exceeds the limit of 1 MiB");
  }
  if (header_len > size - header_start) {
    throw data_file_error::at_byte(name, size,
                                   "truncated NPY header: " + std::to_string(header_len) +
                                       " bytes announced, " + std::to_string(size - header_start) +
                                       " in the file");
  }
  std::string text(static_cast<std::size_t>(header_len), '\0');
  detail::npy::read_exact(in, name, header_start, reinterpret_cast<unsigned char*>(&text[0]),
                          header_len);
  NpyHeader h = detail::npy::HeaderParser(text, header_start, name).parse();
  h.data_offset = header_start + header_len;

  // The data must be exactly what the shape needs: no allocation the file cannot fill.
  const std::uint64_t available = size - h.data_offset;
  const std::uint64_t item = npy_item_size(h.dtype);
  const auto rows = static_cast<std::uint64_t>(h.rows);
  const auto cols = static_cast<std::uint64_t>(h.cols);
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  const bool overflows =
      (cols != 0 && rows > max / cols) || (cols != 0 && rows * cols > max / item);
  const std::string shape = detail::npy::shape_text(h.rows, h.cols, h.ndim);
  if (overflows || rows * cols * item > available) {
    throw data_file_error::at_byte(
        name, size,
        "truncated data: shape " + shape + " of '" + npy_dtype_name(h.dtype) + "'" +
            (overflows ? std::string(" needs more bytes than any file holds")
                       : " needs " + std::to_string(rows * cols * item) + " bytes") +
            ", the file has " + std::to_string(available) + " after the header");
  }
  if (rows * cols * item < available) {
    throw data_file_error::at_byte(name, h.data_offset + rows * cols * item,
                                   std::to_string(available - rows * cols * item) +
                                       " bytes after the data of shape " + shape +
                                       " (the header does not describe the file)");
  }
  return h;
}

/// Reads and validates the header of the NPY file at `path`.
inline NpyHeader read_npy_header(const std::string& path) {
  std::ifstream in = detail::io::open_for_reading(path);
  return read_npy_header(in, path);
}

/// Reads rows [first_row, first_row + n_rows) of an NPY stream, converted to Scalar. Only
/// those rows' bytes are read: one seek for C order, one per column for Fortran order.
/// @throws data_file_error for a malformed file or a non-finite value;
///         std::invalid_argument when the rows are outside the file's.
template <class Scalar>
RowMajorMatrix<Scalar> read_npy_rows(std::istream& in, const std::string& name,
                                     Eigen::Index first_row, Eigen::Index n_rows) {
  detail::npy::check_scalar<Scalar>();
  const NpyHeader h = read_npy_header(in, name);
  detail::npy::check_row_range("read_npy_rows", h.rows, first_row, n_rows);
  RowMajorMatrix<Scalar> out(n_rows, h.cols);
  if (n_rows == 0 || h.cols == 0) return out;
  const std::uint64_t item = npy_item_size(h.dtype);
  const auto cols = static_cast<std::uint64_t>(h.cols);
  if (!h.fortran_order || h.cols == 1) {
    const std::uint64_t offset =
        h.data_offset + static_cast<std::uint64_t>(first_row) * cols * item;
    detail::npy::read_values(in, name, h.dtype, offset, static_cast<std::uint64_t>(n_rows) * cols,
                             out.data(), 1, first_row, 0, h.cols);
  } else {
    for (Eigen::Index j = 0; j < h.cols; ++j) {
      const std::uint64_t offset =
          h.data_offset + (static_cast<std::uint64_t>(j) * static_cast<std::uint64_t>(h.rows) +
                           static_cast<std::uint64_t>(first_row)) *
                              item;
      detail::npy::read_values(in, name, h.dtype, offset, static_cast<std::uint64_t>(n_rows),
                               out.data() + j, h.cols, first_row, j, 0);
    }
  }
  return out;
}

/// read_npy_rows() on the file at `path`.
///
/// @code
/// auto h = emcluster::read_npy_header("X.npy");
/// auto mine = emcluster::read_npy_rows<double>("X.npy", rank * h.rows / size,
///                                              (rank + 1) * h.rows / size - rank * h.rows / size);
/// @endcode
template <class Scalar>
RowMajorMatrix<Scalar> read_npy_rows(const std::string& path, Eigen::Index first_row,
                                     Eigen::Index n_rows) {
  std::ifstream in = detail::io::open_for_reading(path);
  return read_npy_rows<Scalar>(in, path, first_row, n_rows);
}

/// Reads a whole NPY stream, converted to Scalar (a 1-D array of n values gives n x 1).
template <class Scalar>
RowMajorMatrix<Scalar> read_npy(std::istream& in, const std::string& name) {
  const NpyHeader h = read_npy_header(in, name);
  return read_npy_rows<Scalar>(in, name, 0, h.rows);
}

/// Reads the whole NPY file at `path`, converted to Scalar.
///
/// @code
/// Eigen::MatrixXd X = emcluster::read_npy<double>("X.npy");  // any Eigen matrix type
/// @endcode
template <class Scalar>
RowMajorMatrix<Scalar> read_npy(const std::string& path) {
  std::ifstream in = detail::io::open_for_reading(path);
  return read_npy<Scalar>(in, path);
}

/// Reads rows [first_row, first_row + n_rows) of a raw file of little-endian values of
/// `dtype`, `cols` per row, no header (as numpy's `X.astype('<f8').tofile(path)` writes).
/// The file's size must be a whole number of rows.
template <class Scalar>
RowMajorMatrix<Scalar> read_raw_rows(std::istream& in, const std::string& name, NpyDType dtype,
                                     Eigen::Index cols, Eigen::Index first_row,
                                     Eigen::Index n_rows) {
  detail::npy::check_scalar<Scalar>();
  if (cols < 1) {
    throw std::invalid_argument("read_raw_rows: cols must be at least 1, got " +
                                std::to_string(cols));
  }
  const std::uint64_t size = detail::npy::stream_size(in, name);
  if (static_cast<std::uint64_t>(cols) > std::numeric_limits<std::uint64_t>::max() / 8) {
    throw std::invalid_argument("read_raw_rows: cols = " + std::to_string(cols) + " is too large");
  }
  const std::uint64_t row_bytes = static_cast<std::uint64_t>(cols) * npy_item_size(dtype);
  if (size % row_bytes != 0) {
    throw data_file_error::at_byte(name, size - size % row_bytes,
                                   "file size " + std::to_string(size) +
                                       " is not a whole number of rows of " + std::to_string(cols) +
                                       " values (" + std::to_string(row_bytes) + " bytes)");
  }
  const auto rows = static_cast<Eigen::Index>(size / row_bytes);
  detail::npy::check_row_range("read_raw_rows", rows, first_row, n_rows);
  RowMajorMatrix<Scalar> out(n_rows, cols);
  detail::npy::read_values(in, name, dtype, static_cast<std::uint64_t>(first_row) * row_bytes,
                           static_cast<std::uint64_t>(n_rows) * static_cast<std::uint64_t>(cols),
                           out.data(), 1, first_row, 0, cols);
  return out;
}

/// read_raw_rows() on the file at `path`.
template <class Scalar>
RowMajorMatrix<Scalar> read_raw_rows(const std::string& path, NpyDType dtype, Eigen::Index cols,
                                     Eigen::Index first_row, Eigen::Index n_rows) {
  std::ifstream in = detail::io::open_for_reading(path);
  return read_raw_rows<Scalar>(in, path, dtype, cols, first_row, n_rows);
}

/// Writes x (float or double, any Eigen expression) to a stream as an NPY 1.0 file, C order,
/// shape (rows, cols), dtype `<f4` or `<f8`. `name` is used in error messages.
template <class Derived>
void write_npy(std::ostream& out, const std::string& name, const Eigen::DenseBase<Derived>& x) {
  using Scalar = typename Derived::Scalar;
  detail::npy::check_scalar<Scalar>();
  std::string header = "{'descr': '";
  header += std::is_same<Scalar, float>::value ? "<f4" : "<f8";
  header += "', 'fortran_order': False, 'shape': (" + std::to_string(x.rows()) + ", " +
            std::to_string(x.cols()) + "), }";
  // Padded with spaces and a final newline so that the data starts on a 64-byte boundary.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  detail::npy::store_little_endian(static_cast<std::uint16_t>(header.size()), prefix + 8);
  out.write(reinterpret_cast<const char*>(prefix), 10);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  // An empty array (0 x c, as numpy allows for any c) is a header alone: no row buffer of c
  // values, no loop over its columns.
  const Eigen::Index rows = x.rows() > 0 && x.cols() > 0 ? x.rows() : 0;
  std::vector<unsigned char> row(rows > 0 ? static_cast<std::size_t>(x.cols()) * sizeof(Scalar)
                                          : 0);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      detail::npy::store_little_endian(static_cast<Scalar>(x(i, j)),
                                       row.data() + static_cast<std::size_t>(j) * sizeof(Scalar));
    }
    out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size()));
  }
  if (!out) throw data_file_error::at_file(name, "write failed");
}

/// Writes x to the file at `path` as NPY (see the stream overload), whole or not at all (a
/// temporary file renamed over `path` once complete); numpy reads it with `np.load(path)`.
template <class Derived>
void write_npy(const std::string& path, const Eigen::DenseBase<Derived>& x) {
  detail::write_file_atomically(path, [&](std::ostream& out) { write_npy(out, path, x); });
}

}  // namespace emcluster
