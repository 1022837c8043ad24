/// @file bench/bounds.hpp
/// @brief The bound of every row of the comparison: the least time per iteration the
/// machine's ceilings (bench/ceilings.hpp, measured in the same run) allow for the work an
/// iteration must do, whoever does it. docs/performance.md ("Bounds") describes the model.
///
///  - K-means (Lloyd) iteration: max(bytes / bandwidth, 2 n k d / flop peak). bytes = the
///    data read once (n d sizeof(scalar)); 2 n k d the flops of all distances as one GEMM.
///  - EM iteration: max(bytes / bandwidth, n k / exp rate + n / log rate, flops / flop peak
///    in double), with the arithmetic of the E-step and the statistics counted per row and
///    component (mixture_flops).
///
/// The bandwidth is the one measured over a buffer the size of the row's data; the rates are
/// those of the row's threads (1 for the "1 thread" rows, all cores otherwise); the flop peak
/// is the fastest of the GEMMs measured in the scalar type with those threads (any shape,
/// Eigen or the peers' BLAS, numpy measured with all threads only) and the cores' measured
/// multiply-add peak: the library's register-blocked direct kernel runs faster than a
/// general GEMM at small shapes, so a GEMM rate alone would not be a floor. Labels, Hamerly's gaps
/// and the per-iteration statistics are not counted, so the bound is a floor; an algorithm that
/// skips work (Hamerly's bounds) can go below it.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "runs.hpp"

namespace emcluster_bench {

/// The ceilings of one run of the driver, from the RESULT lines of emcluster_worker
/// task=ceilings and (when available) peer_sklearn.py task=gemm.
class Ceilings {
 public:
  int threads = 1;        ///< all cores, as the default rows run
  std::string blas_note;  ///< why the peers' GEMM rate is missing, if it is

  /// Adds the key=value fields of a RESULT line; `source` prefixes the gemm keys ("eigen",
  /// "blas").
  void add_line(const std::string& line, const std::string& source) {
    std::istringstream in(line);
    std::string tok;
    while (in >> tok) {
      const auto eq = tok.find('=');
      if (eq == std::string::npos || tok == "RESULT") continue;
      const std::string key = tok.substr(0, eq);
      if (key == "threads") {
        threads = std::max(1, std::atoi(tok.c_str() + eq + 1));
        continue;
      }
      if (key == "blas") continue;
      try {
        values_[(key.compare(0, 5, "gemm.") == 0 ? source + "." : "") + key] =
            std::stod(tok.substr(eq + 1));
      } catch (const std::exception&) {
      }
    }
  }

  /// A measured value (0 when absent).
  double get(const std::string& key) const {
    const auto it = values_.find(key);
    return it == values_.end() ? 0.0 : it->second;
  }
  /// Read bandwidth over `bytes` bytes with t threads (bytes/s).
  double bandwidth(double bytes, int t) const {
    return get("bw." + std::to_string(static_cast<unsigned long long>(bytes)) + "." +
               std::to_string(t));
  }
  double exp_rate(int t) const { return get("exp." + std::to_string(t)); }
  double log_rate(int t) const { return get("log." + std::to_string(t)); }
  /// The fastest GEMM in `dtype` with t threads (the peers' BLAS counts for all threads);
  /// with `fma`, the cores' multiply-add peak too when it is higher (the flop ceiling).
  double gemm_peak(const std::string& dtype, int t, std::string* which = nullptr,
                   bool fma = true) const {
    double best = 0;
    if (fma) {
      best = get("fma." + dtype + "." + std::to_string(t));
      if (which) which->assign("fma." + dtype + "." + std::to_string(t));
    }
    for (const auto& [key, value] : values_) {
      const std::string eigen = "eigen.gemm." + dtype + ".", blas = "blas.gemm." + dtype + ".";
      const std::string suffix = "." + std::to_string(t);
      const bool mine = key.compare(0, eigen.size(), eigen) == 0 && key.size() > suffix.size() &&
                        key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
      const bool peers = t == threads && key.compare(0, blas.size(), blas) == 0;
      if ((mine || peers) && value > best) {
        best = value;
        if (which) which->assign(key);
      }
    }
    return best;
  }
  /// Every key with a given prefix, sorted.
  std::vector<std::string> keys(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& kv : values_)
      if (kv.first.compare(0, prefix.size(), prefix) == 0) out.push_back(kv.first);
    return out;
  }

 private:
  std::map<std::string, double> values_;
};

/// Bytes of a workload's data in a scalar type ("f32", "f64").
inline double data_bytes(const Workload& w, const std::string& dtype) {
  return static_cast<double>(w.n * w.d) * (dtype == "f32" ? 4.0 : 8.0);
}

/// Flops of one EM iteration (E-step and statistics, per row and component), as counted in
/// docs/performance.md: `full` 2 d^2 + 8 d (centring, the triangular product and its squared
/// norm; the centred and weighted rows and the lower triangle of the second moments),
/// `diag` 10 d, `spherical` 8 d.
inline double mixture_flops(const Workload& w, const std::string& cov) {
  const double d = static_cast<double>(w.d);
  const double per = cov == "full" ? 2 * d * d + 8 * d : cov == "diag" ? 10 * d : 8 * d;
  return static_cast<double>(w.n) * static_cast<double>(w.k) * per;
}

/// The bound of one row: its terms (seconds per iteration) and the largest.
struct Bound {
  double memory = 0, transcendental = 0, compute = 0;
  bool valid = false;
  double seconds() const { return std::max(memory, std::max(transcendental, compute)); }
  /// "mem", "exp" or "flop": the largest term.
  const char* limit() const {
    if (compute >= memory && compute >= transcendental) return "flop";
    return transcendental >= memory ? "exp" : "mem";
  }
};

/// Threads whose ceilings apply to a row: 1 for emcluster's 1-thread rows, all otherwise.
inline int bound_threads(const Run& r, const Ceilings& c) {
  return r.impl == "emcluster" && r.threads == 1 ? 1 : c.threads;
}

/// The bound of a row (invalid for the end-to-end rows and where a ceiling is missing).
inline Bound bound_of(const Run& r, const Ceilings& c) {
  Bound b;
  if (r.task == "e2e") return b;
  const Workload& w = *r.w;
  const int t = bound_threads(r, c);
  const double bw = c.bandwidth(data_bytes(w, r.dtype), t);
  const double peak = c.gemm_peak(r.dtype, t);
  if (bw <= 0 || peak <= 0) return b;
  b.memory = data_bytes(w, r.dtype) / bw;
  const double n = static_cast<double>(w.n), k = static_cast<double>(w.k);
  if (r.task == "lloyd") {
    b.compute = 2.0 * n * k * static_cast<double>(w.d) / peak;
  } else {
    const double e = c.exp_rate(t), l = c.log_rate(t);
    if (e <= 0 || l <= 0) return b;
    b.transcendental = n * k / e + n / l;
    b.compute = mixture_flops(w, r.cov) / peak;
  }
  b.valid = true;
  return b;
}

}  // namespace emcluster_bench
