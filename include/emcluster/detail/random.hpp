/// @file detail/random.hpp
/// @brief Platform-independent random numbers on top of std::mt19937_64.
///
/// std::mt19937_64 is fully specified by the C++ standard, but the standard distributions
/// (uniform_real_distribution, normal_distribution, ...) are not: each standard library
/// implements them differently. Everything emcluster draws goes through this class instead,
/// which uses only the raw 64-bit engine output, integer arithmetic, IEEE-exact operations
/// (+, -, *, /, sqrt) and its own logarithm, so the same seed gives the same numbers with
/// any compiler and standard library. (A compiler told to contract a*b+c into fused
/// multiply-adds, e.g. GCC's -ffp-contract=fast with -mfma, can change the last bit.)
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace emcluster::detail {

/// Natural logarithm from +, -, *, / only (frexp/ldexp are exact), accurate to about
/// 1 ulp, identical on every IEEE-754 platform. x must be finite and > 0.
inline double portable_log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716.
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double poly = 1.0 / 25.0;
  poly = poly * s2 + 1.0 / 23.0;
  poly = poly * s2 + 1.0 / 21.0;
  poly = poly * s2 + 1.0 / 19.0;
  poly = poly * s2 + 1.0 / 17.0;
  poly = poly * s2 + 1.0 / 15.0;
  poly = poly * s2 + 1.0 / 13.0;
  poly = poly * s2 + 1.0 / 11.0;
  poly = poly * s2 + 1.0 / 9.0;
  poly = poly * s2 + 1.0 / 7.0;
  poly = poly * s2 + 1.0 / 5.0;
  poly = poly * s2 + 1.0 / 3.0;
  const double log_m = 2.0 * s + 2.0 * s * s2 * poly;
  // ln 2 split so that e * ln2_hi is exact for |e| < 2^11.
  constexpr double ln2_hi = 6.93147180369123816490e-01;
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  const double de = static_cast<double>(e);
  return de * ln2_hi + (log_m + de * ln2_lo);
}

/// Seeded random source. Copyable; a copy continues the same stream independently.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  /// Raw 64 random bits.
  std::uint64_t bits() { return engine_(); }

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /// Uniform double in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), n > 0, without modulo bias.
  std::uint64_t uniform_index(std::uint64_t n) {
    // Reject the lowest (2^64 mod n) values so that every residue is equally likely.
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t r = engine_();
      if (r >= threshold) return r % n;
    }
  }

  /// Standard normal by Marsaglia's polar method (one pair per two calls).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0, v = 0.0, s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * portable_log(s) / s);
    spare_ = v * factor;
    has_spare_ = true;
    return u * factor;
  }

  /// A seed for a child stream (restart r of a fit, say), derived deterministically.
  std::uint64_t child_seed() { return engine_(); }

  /// Everything a Random holds, as plain numbers: what a saved MiniBatchKMeans needs to
  /// continue its stream exactly (model files, io.hpp). `engine` holds the numbers that
  /// std::mt19937_64's operator<< writes, in its order (libstdc++: the 312 state words, then
  /// the position in them); their count depends on the standard library.
  struct State {
    std::vector<std::uint64_t> engine;
    double spare = 0.0;      ///< the second normal of the last polar pair
    bool has_spare = false;  ///< whether normal() returns `spare` next
  };

  /// The current state.
  State state() const {
    std::ostringstream out;
    out << engine_;
    State s;
    std::istringstream in(out.str());
    std::uint64_t v = 0;
    while (in >> v) s.engine.push_back(v);
    s.spare = spare_;
    s.has_spare = has_spare_;
    return s;
  }

  /// How many numbers State::engine holds with this standard library.
  static std::size_t engine_state_size() { return Random(0).state().engine.size(); }

  /// Restores a state() (maybe from a file): false, and *this unchanged, unless `s.engine`
  /// holds engine_state_size() numbers the engine reads back and `s.spare` is finite.
  bool restore(const State& s) {
    if (s.engine.size() != engine_state_size() || !std::isfinite(s.spare)) return false;
    std::ostringstream text;
    for (std::uint64_t v : s.engine) text << v << ' ';
    std::istringstream in(text.str());
    std::mt19937_64 engine;
    if (!(in >> engine)) return false;
    engine_ = engine;
    spare_ = s.spare;
    has_spare_ = s.has_spare;
    return true;
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace emcluster::detail
