// libFuzzer target of the NPY reader (npy.hpp), float and integer arrays. Any input must either
// read or throw
// data_file_error, never allocate beyond what the input holds; a file that reads must give
// the same rows through read_npy_rows as through read_npy, in float and double, and write_npy
// of it must read back to the same bits.
//
//   clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -I include \
//     -isystem /usr/include/eigen3 fuzz/fuzz_npy.cpp -o fuzz_npy
//   ./fuzz_npy -max_total_time=60 fuzz/corpus/fuzz_npy
#include <emcluster/npy.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

namespace {
// Same shape and values, at a cost proportional to the values: a header may declare 0 rows of
// 10^12 columns, and Eigen's == walks the columns of an empty matrix one by one.
template <class A, class B>
bool same_values(const A& a, const B& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  return a.size() == 0 || (a.array() == b.array()).all();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::istringstream in(bytes);
  emcluster::NpyHeader h;
  try {
    h = emcluster::read_npy_header(in, "fuzz.npy");
  } catch (const emcluster::data_file_error& e) {
    if (e.byte_offset() > size) std::abort();
    return 0;
  }
  // The header was accepted: the data fits in the input.
  const std::uint64_t item = emcluster::npy_item_size(h.dtype);
  if (h.data_offset +
          static_cast<std::uint64_t>(h.rows) * static_cast<std::uint64_t>(h.cols) * item !=
      size) {
    std::abort();
  }
  emcluster::RowMajorMatrix<double> x;
  try {
    x = emcluster::read_npy<double>(in, "fuzz.npy");
  } catch (const emcluster::data_file_error& e) {
    if (e.byte_offset() < h.data_offset || e.byte_offset() >= size) std::abort();
    return 0;  // a non-finite value
  }
  const Eigen::Index first = h.rows / 3, n = h.rows - first - h.rows / 4;
  if (!same_values(emcluster::read_npy_rows<double>(in, "fuzz.npy", first, n),
                   x.middleRows(first, n))) {
    std::abort();
  }
  try {
    const auto f = emcluster::read_npy<float>(in, "fuzz.npy");
    if (!same_values(f, x.cast<float>())) std::abort();
  } catch (const emcluster::data_file_error&) {
    // Only a float64 value beyond float, or an integer float cannot hold exactly (from 2^24
    // on: 4- and 8-byte integers).
    const bool may_fail =
        h.dtype == emcluster::NpyDType::float64 ||
        (h.dtype != emcluster::NpyDType::float32 && emcluster::npy_item_size(h.dtype) >= 4);
    if (!may_fail) std::abort();
  }
  std::ostringstream out;
  emcluster::write_npy(out, "out.npy", x);
  std::istringstream back(out.str());
  const auto y = emcluster::read_npy<double>(back, "out.npy");
  if (y.rows() != x.rows() || y.cols() != x.cols() ||
      (x.size() > 0 && std::memcmp(x.data(), y.data(), sizeof(double) * x.size()) != 0)) {
    std::abort();
  }
  return 0;
}
