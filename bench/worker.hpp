/// @file bench/worker.hpp
/// @brief What every worker program of the comparison shares (emcluster_worker, the FAISS
/// and OpenCV peers; bench/peer_sklearn.py does the same in Python): the key=value argument
/// protocol, raw binary files, timing repeated fits, and the memory high-water mark from /proc.
///
/// The driver (bench/compare.cpp) starts a worker once per (workload, task, implementation),
/// each in its own process. A worker reads its arguments as key=value pairs, records VmRSS
/// before it loads any data, runs the task `reps` times (fewer when `budget` seconds are
/// spent), writes the final parameters of its last fit as raw float64 to `out`, and prints one
/// line
///   RESULT time=<median seconds per fit> iters=<iterations> peak_mb=<VmHWM - baseline> ...
/// on stdout. The driver parses that line; everything else a worker prints is ignored.
/// With task=info a worker prints only a RESULT line describing itself (versions, BLAS).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace emcluster_bench {

/// key=value command-line arguments.
class Args {
 public:
  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      const std::string a = argv[i];
      const auto eq = a.find('=');
      if (eq == std::string::npos)
        throw std::invalid_argument("argument '" + a + "' is not key=value");
      values_[a.substr(0, eq)] = a.substr(eq + 1);
    }
  }
  std::string str(const std::string& key, const std::string& fallback = "") const {
    const auto it = values_.find(key);
    if (it != values_.end()) return it->second;
    if (fallback.empty()) throw std::invalid_argument("missing argument " + key + "=...");
    return fallback;
  }
  long num(const std::string& key, long fallback = -1) const {
    const auto it = values_.find(key);
    if (it != values_.end()) return std::stol(it->second);
    if (fallback < 0) throw std::invalid_argument("missing argument " + key + "=...");
    return fallback;
  }
  double real(const std::string& key, double fallback) const {
    const auto it = values_.find(key);
    return it != values_.end() ? std::stod(it->second) : fallback;
  }

 private:
  std::map<std::string, std::string> values_;
};

/// Reads `count` values of type T from a raw binary file (native byte order).
template <typename T>
std::vector<T> read_raw(const std::string& path, std::size_t count) {
  std::vector<T> v(count);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(T)));
  if (static_cast<std::size_t>(in.gcount()) != count * sizeof(T)) {
    throw std::runtime_error(path + ": expected " + std::to_string(count * sizeof(T)) + " bytes");
  }
  return v;
}

/// Writes `count` values of type T to a raw binary file.
template <typename T>
void write_raw(const std::string& path, const T* data, std::size_t count) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(T)));
  if (!out) throw std::runtime_error("short write to " + path);
}

/// A field of /proc/self/status in kB (VmRSS, VmHWM), 0 when not available.
inline long proc_status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0) return std::atol(line.c_str() + key.size());
  }
  return 0;
}

/// The BLAS library this process has mapped (from /proc/self/maps), "none" if none.
inline std::string loaded_blas() {
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string base = path.substr(path.rfind('/') + 1);
    if (base.find("blas") != std::string::npos || base.find("mkl") != std::string::npos)
      return path;
  }
  return "none";
}

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

/// Runs fit() up to `reps` times, stopping early once `budget` seconds are spent (at least
/// one run); returns the time of every run.
template <typename Fit>
std::vector<double> time_runs(long reps, double budget, Fit&& fit) {
  std::vector<double> times;
  double spent = 0.0;
  for (long r = 0; r < reps; ++r) {
    const double t0 = now_seconds();
    fit();
    const double dt = now_seconds() - t0;
    times.push_back(dt);
    spent += dt;
    if (spent >= budget) break;
  }
  return times;
}

/// Prints the RESULT line: median time, iterations, repetitions, memory, plus extra fields.
inline void print_result(const std::vector<double>& times, long iters, long baseline_kb,
                         const std::string& extra) {
  const long hwm = proc_status_kb("VmHWM");
  std::printf("RESULT time=%.9g iters=%ld reps=%zu peak_mb=%.1f %s\n", median(times), iters,
              times.size(), static_cast<double>(hwm - baseline_kb) / 1024.0, extra.c_str());
  std::fflush(stdout);
}

}  // namespace emcluster_bench
