/// @file detail/information.hpp
/// @brief Entropy, mutual information and its expectation under random labelings (the
/// hypergeometric model of Vinh, Epps and Bailey 2010) from a sparse contingency table.
///
/// Everything is in nats and in double. The expected mutual information sums, for every pair
/// of row and column sums (a, b), the hypergeometric probabilities of each cell count; each
/// probability comes from the one at the mode, evaluated in log space with Stirling's series
/// and the deviance form of Loader (2000) (no factorial is ever formed, so nothing overflows
/// and the result stays accurate to ~1e-14 relative at n = 1e9), and its neighbours follow by
/// the exact ratio of consecutive terms until they underflow.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "labels.hpp"

namespace emcluster::detail {

/// Entropy of a labeling from its label counts: -sum_i (c_i / n) log(c_i / n), 0 for one label.
inline double entropy_of_counts(const std::vector<std::int64_t>& counts, std::int64_t n) {
  if (counts.size() <= 1) return 0.0;
  const double total = static_cast<double>(n);
  const double log_total = std::log(total);
  double h = 0.0;
  for (std::int64_t c : counts) {
    if (c == 0) continue;
    const double v = static_cast<double>(c);
    h += (v / total) * (std::log(v) - log_total);
  }
  return -h;
}

/// Mutual information of the two labelings of a contingency table (nats, >= 0): the sum over
/// non-zero cells of (n_ij / n) log(n n_ij / (a_i b_j)), the ratio formed before the
/// logarithm so that independent cells give exactly 0. 0 when either labeling has one label.
inline double mutual_information(const SparseContingency& t) {
  if (t.row_sums.size() <= 1 || t.col_sums.size() <= 1) return 0.0;
  const double n = static_cast<double>(t.n);
  double mi = 0.0;
  for (std::size_t c = 0; c < t.cell_count.size(); ++c) {
    const double nij = static_cast<double>(t.cell_count[c]);
    const double a = static_cast<double>(t.row_sums[static_cast<std::size_t>(t.cell_row[c])]);
    const double b = static_cast<double>(t.col_sums[static_cast<std::size_t>(t.cell_col[c])]);
    mi += (nij / n) * std::log((n * nij) / (a * b));
  }
  return mi > 0.0 ? mi : 0.0;
}

/// log(k!) - log(sqrt(2 pi k) (k / e)^k), the error of Stirling's formula, for integer k >= 1.
inline double stirling_error(double k) {
  constexpr double half_log_two_pi = 0.918938533204672741780329736406;
  if (k <= 15.0) {
    return std::lgamma(k + 1.0) - (k + 0.5) * std::log(k) + k - half_log_two_pi;
  }
  // 1/(12k) - 1/(360k^3) + 1/(1260k^5) - 1/(1680k^7) + 1/(1188k^9): error < 3e-16 for k > 15.
  const double k2 = k * k;
  return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 - 1.0 / (1188 * k2)) / k2) / k2) / k2) /
         k;
}

/// x log(x / m) + m - x, the binomial deviance term, without cancellation when x ~ m.
inline double deviance_term(double x, double m) {
  if (std::abs(x - m) < 0.1 * (x + m)) {
    // With v = (x - m) / (x + m): sum over odd powers, 2x (v^3/3 + v^5/5 + ...) + (x - m) v.
    const double v = (x - m) / (x + m);
    const double v2 = v * v;
    double sum = (x - m) * v;
    double power = 2.0 * x * v;
    for (int j = 1; j < 1000; ++j) {
      power *= v2;
      const double next = sum + power / (2 * j + 1);
      if (next == sum) return next;
      sum = next;
    }
    return sum;
  }
  return x * std::log(x / m) + m - x;
}

/// log of the binomial probability of x successes in `trials`, success probability p = s / t
/// given as the integers s <= t (so that p and 1 - p are both exact in ratio form).
inline double log_binomial_pmf(std::int64_t x, std::int64_t trials, std::int64_t s,
                               std::int64_t t) {
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(s) / static_cast<double>(t);
  const double q = static_cast<double>(t - s) / static_cast<double>(t);
  if (x == 0) return trials == 0 ? 0.0 : n * (p < 0.5 ? std::log1p(-p) : std::log(q));
  if (x == trials) return n * (q < 0.5 ? std::log1p(-q) : std::log(p));
  constexpr double log_two_pi = 1.837877066409345483560659472811;
  const double xd = static_cast<double>(x);
  const double yd = n - xd;
  const double lc = stirling_error(n) - stirling_error(xd) - stirling_error(yd) -
                    deviance_term(xd, n * p) - deviance_term(yd, n * q);
  return lc - 0.5 * (log_two_pi + std::log(xd) + std::log(yd / n));
}

/// log P(K = k) for K hypergeometric: k of the b draws (without replacement) from n items fall
/// in a set of size a. Written as binomial probabilities with p = b / n, whose powers cancel.
inline double log_hypergeometric_pmf(std::int64_t k, std::int64_t a, std::int64_t b,
                                     std::int64_t n) {
  return log_binomial_pmf(k, a, b, n) + log_binomial_pmf(b - k, n - a, b, n) -
         log_binomial_pmf(b, n, b, n);
}

/// sum over k of P(K = k) (k / n) log(n k / (a b)) for one pair of label counts (a, b).
inline double expected_mutual_information_term(std::int64_t a, std::int64_t b, std::int64_t n) {
  const std::int64_t lo = std::max<std::int64_t>(0, a + b - n);
  const std::int64_t hi = std::min(a, b);
  // The mode of the hypergeometric distribution: floor((a + 1)(b + 1) / (n + 2)).
  // n < 2^31, so the product stays below 2^62.
  const std::int64_t mode = std::min(hi, std::max(lo, (a + 1) * (b + 1) / (n + 2)));
  const double nd = static_cast<double>(n);
  const double ab = static_cast<double>(a) * static_cast<double>(b);
  const double rest = static_cast<double>(n - a - b);  // n - a - b + k >= 0 on the support
  auto term = [&](std::int64_t k, double p) {
    if (k == 0) return 0.0;
    const double kd = static_cast<double>(k);
    return p * (kd / nd) * std::log((nd * kd) / ab);
  };
  constexpr double tiny = std::numeric_limits<double>::min();
  const double p_mode = std::exp(log_hypergeometric_pmf(mode, a, b, n));
  const double at_mode = term(mode, p_mode);
  double above = 0.0;
  double p = p_mode;
  for (std::int64_t k = mode; k < hi;) {
    const double kd = static_cast<double>(k);
    p *= (static_cast<double>(a) - kd) * (static_cast<double>(b) - kd) /
         ((kd + 1.0) * (rest + kd + 1.0));
    ++k;
    if (p < tiny) break;
    above += term(k, p);
  }
  double below = 0.0;
  p = p_mode;
  for (std::int64_t k = mode; k > lo;) {
    const double kd = static_cast<double>(k);
    p *= kd * (rest + kd) /
         ((static_cast<double>(a) - kd + 1.0) * (static_cast<double>(b) - kd + 1.0));
    --k;
    if (p < tiny) break;
    below += term(k, p);
  }
  return at_mode + (above + below);
}

/// Distinct values of counts, ascending, each with how often it occurs.
inline std::vector<std::pair<std::int64_t, double>> count_multiplicities(
    std::vector<std::int64_t> counts) {
  std::sort(counts.begin(), counts.end());
  std::vector<std::pair<std::int64_t, double>> out;
  for (std::int64_t c : counts) {
    if (!out.empty() && out.back().first == c) {
      out.back().second += 1.0;
    } else {
      out.emplace_back(c, 1.0);
    }
  }
  return out;
}

/// Expected mutual information of two labelings with the table's row and column sums when
/// the samples are matched at random (the hypergeometric model). 0 when either labeling has
/// one label. Each distinct pair of sums is evaluated once (many clusters of equal size cost
/// one term). Terms below the smallest normal double are dropped; the rest is summed.
inline double expected_mutual_information(const SparseContingency& t) {
  if (t.row_sums.size() <= 1 || t.col_sums.size() <= 1) return 0.0;
  const auto rows = count_multiplicities(t.row_sums);
  const auto cols = count_multiplicities(t.col_sums);
  double emi = 0.0;
  for (const auto& [a, count_a] : rows) {
    for (const auto& [b, count_b] : cols) {
      emi += count_a * count_b * expected_mutual_information_term(a, b, t.n);
    }
  }
  return emi;
}

}  // namespace emcluster::detail
