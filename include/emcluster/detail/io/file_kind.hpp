/// @file detail/io/file_kind.hpp
/// @brief What the first bytes of a data file say it is: NPY, CSV text, or something a CSV
/// reader must refuse by name (compressed, an archive, UTF-16, binary) rather than report as a
/// field that does not parse. And opening a data file (a directory refused by name).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <system_error>

#include "../../exceptions.hpp"

namespace emcluster::detail::io {

enum class FileKind { text, npy, gzip, bzip2, xz, zstd, zip, utf16, utf32, binary };

/// The magic string every NPY file starts with.
inline bool is_npy_magic(const unsigned char* p, std::size_t n) {
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  return n >= 6 && std::memcmp(p, magic, 6) == 0;
}

/// The kind of a file from its first n bytes (n up to a few KiB is enough).
inline FileKind sniff_file_kind(const unsigned char* p, std::size_t n) {
  const auto starts = [&](std::initializer_list<unsigned char> magic) {
    if (n < magic.size()) return false;
    std::size_t i = 0;
    for (unsigned char c : magic) {
      if (p[i++] != c) return false;
    }
    return true;
  };
  if (is_npy_magic(p, n)) return FileKind::npy;
  if (starts({0x1f, 0x8b})) return FileKind::gzip;
  if (starts({'B', 'Z', 'h'})) return FileKind::bzip2;
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return FileKind::xz;
  if (starts({0x28, 0xb5, 0x2f, 0xfd})) return FileKind::zstd;
  if (starts({'P', 'K', 0x03, 0x04}) || starts({'P', 'K', 0x05, 0x06})) return FileKind::zip;
  if (starts({0xff, 0xfe, 0x00, 0x00}) || starts({0x00, 0x00, 0xfe, 0xff})) {
    return FileKind::utf32;
  }
  if (starts({0xff, 0xfe}) || starts({0xfe, 0xff})) return FileKind::utf16;
  // NUL bytes: UTF-16 without a byte order mark puts them in every other byte (ASCII text),
  // anything else holding them is binary.
  const std::size_t m = n < 4096 ? n : 4096;
  std::size_t even = 0, odd = 0;
  for (std::size_t i = 0; i < m; ++i) {
    if (p[i] == 0) ++((i % 2 == 0) ? even : odd);
  }
  if (even + odd == 0) return FileKind::text;
  const std::size_t half = m / 2;
  if (half >= 2 && (odd * 10 >= half * 4 || even * 10 >= half * 4) && (even == 0 || odd == 0)) {
    return FileKind::utf16;
  }
  return FileKind::binary;
}

/// Why a file of that kind is not read as CSV ("" for text and NPY).
inline std::string not_csv_reason(FileKind kind) {
  switch (kind) {
    case FileKind::gzip:
      return "is gzip-compressed, not CSV text: decompress it first (gunzip -k FILE)";
    case FileKind::bzip2:
      return "is bzip2-compressed, not CSV text: decompress it first (bunzip2 -k FILE)";
    case FileKind::xz:
      return "is xz-compressed, not CSV text: decompress it first (unxz -k FILE)";
    case FileKind::zstd:
      return "is zstd-compressed, not CSV text: decompress it first (unzstd FILE)";
    case FileKind::zip:
      return "is a ZIP archive (an .xlsx workbook?), not CSV text: extract or export the CSV "
             "first";
    case FileKind::utf16:
      return "is UTF-16 text; the CSV reader reads UTF-8 (or ASCII): convert it first "
             "(iconv -f UTF-16 -t UTF-8 FILE)";
    case FileKind::utf32:
      return "is UTF-32 text; the CSV reader reads UTF-8 (or ASCII): convert it first "
             "(iconv -f UTF-32 -t UTF-8 FILE)";
    case FileKind::binary:
      return "is a binary file (it holds NUL bytes), not CSV text";
    case FileKind::npy:
      return "is an NPY file (NumPy's binary format), not CSV text: read it as NPY";
    case FileKind::text:
      break;
  }
  return "";
}

/// Throws data_file_error when path is a directory (opening one for reading succeeds on
/// POSIX and then fails as a "read error").
inline void check_not_directory(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw data_file_error::at_file(path, "is a directory, not a file");
  }
}

/// The file at path, opened for reading in binary; data_file_error (with the reason) when it
/// is a directory or cannot be opened.
inline std::ifstream open_for_reading(const std::string& path) {
  check_not_directory(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw data_file_error::at_file(path,
                                   "cannot open for reading: " + std::string(std::strerror(errno)));
  }
  return in;
}

}  // namespace emcluster::detail::io
