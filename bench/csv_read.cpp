// The CSV reading rate (docs/performance.md): writes a numeric CSV file of a given size, or
// times emcluster::read_csv<double> reading one on one thread (best of --reps). The script
// bench/run_csv_read.sh runs both and the peers (numpy.loadtxt, Python's csv module).
//
//   emcluster_bench_csv_read write FILE [--size-mb 1024] [--cols 8] [--seed 1]
//   emcluster_bench_csv_read read FILE [--reps 3]
//
// `write` fills FILE with rows of `cols` values in the shortest round-trip form, a header
// x0,...,x{d-1} first; values are Gaussian-like (sum of uniforms) times 10^e, e in {-2..3}.
// `read` prints "seconds=S rows=N cols=D bytes=B checksum=C" for the best repetition.
#include <emcluster/csv.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

namespace {

std::uint64_t next(std::uint64_t& s) {  // splitmix64
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double uniform(std::uint64_t& s) { return static_cast<double>(next(s) >> 11) * 0x1.0p-53; }

int write_file(const std::string& path, double size_mb, int cols, std::uint64_t seed) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::cerr << "cannot write " << path << "\n";
    return 1;
  }
  const auto target = static_cast<std::uint64_t>(size_mb * 1024.0 * 1024.0);
  std::string text;
  for (int j = 0; j < cols; ++j) text += (j ? ",x" : "x") + std::to_string(j);
  text += '\n';
  const double scale[6] = {0.01, 0.1, 1, 10, 100, 1000};
  std::uint64_t written = 0, rows = 0;
  char buf[64];
  while (written + text.size() < target) {
    for (int j = 0; j < cols; ++j) {
      const double g = uniform(seed) + uniform(seed) + uniform(seed) - 1.5;
      const double v = g * scale[(static_cast<std::uint64_t>(j) * 7 + rows) % 6];
      if (j) text += ',';
      text.append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
    }
    text += '\n';
    ++rows;
    if (text.size() > (1u << 20)) {
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      written += text.size();
      text.clear();
    }
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  written += text.size();
  std::cout << "wrote " << path << ": " << rows << " rows x " << cols << " columns, " << written
            << " bytes\n";
  return out ? 0 : 1;
}

int read_file(const std::string& path, int reps) {
  double best = 1e300;
  double checksum = 0;
  Eigen::Index rows = 0, cols = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto table = emcluster::read_csv<double>(path);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    rows = table.values.rows();
    cols = table.values.cols();
    checksum = table.values.sum();
  }
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::printf("seconds=%.4f rows=%ld cols=%ld bytes=%lld checksum=%.17g\n", best,
              static_cast<long>(rows), static_cast<long>(cols), static_cast<long long>(in.tellg()),
              checksum);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 3) {
      std::cerr << "usage: " << argv[0] << " write FILE [--size-mb MB] [--cols D] [--seed S]\n"
                << "       " << argv[0] << " read FILE [--reps R]\n";
      return 2;
    }
    const std::string mode = argv[1], path = argv[2];
    double size_mb = 1024;
    int cols = 8, reps = 3;
    std::uint64_t seed = 1;
    for (int i = 3; i + 1 < argc; i += 2) {
      const std::string a = argv[i], v = argv[i + 1];
      if (a == "--size-mb")
        size_mb = std::stod(v);
      else if (a == "--cols")
        cols = std::stoi(v);
      else if (a == "--reps")
        reps = std::stoi(v);
      else if (a == "--seed")
        seed = std::stoull(v);
      else {
        std::cerr << "unknown option " << a << "\n";
        return 2;
      }
    }
    if (mode == "write") return write_file(path, size_mb, cols, seed);
    if (mode == "read") return read_file(path, reps);
    std::cerr << "unknown mode " << mode << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
