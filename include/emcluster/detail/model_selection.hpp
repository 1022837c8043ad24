/// @file detail/model_selection.hpp
/// @brief Helpers of the model searches (model_selection.hpp): candidate-list checks, seeds
/// that depend only on (seed, k, start), the ICL's classification term by blocks of rows,
/// and the text and CSV formatting of result tables.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "validation.hpp"

namespace emcluster::detail {

/// Rows per predict_proba call when the ICL's term is summed: large enough for the
/// probabilities' own pass to run on every thread, small enough that the block's
/// probabilities (rows x (k + 1)) stay a few megabytes.
inline constexpr Eigen::Index kPosteriorBlockRows = 65536;

/// One step of splitmix64: a well-mixed 64-bit value from any 64-bit input.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// The seed of start `start` for k components: a function of (seed, k, start) only, so a
/// candidate's fit does not depend on which other candidates the search runs.
inline std::uint64_t candidate_seed(std::uint64_t seed, Eigen::Index k, int start) {
  return splitmix64(splitmix64(seed ^ splitmix64(static_cast<std::uint64_t>(k))) +
                    static_cast<std::uint64_t>(start));
}

/// Checks a list of candidate numbers of clusters: not empty, every entry in [1, n], no
/// entry twice. `name` is the option's name, used in the messages.
inline void check_k_list(const char* where, const char* name, const std::vector<Eigen::Index>& ks,
                         Eigen::Index n) {
  if (ks.empty()) fail(where, name, " is empty; give at least one number of clusters");
  for (std::size_t i = 0; i < ks.size(); ++i) {
    if (ks[i] < 1) fail(where, name, "[", i, "] = ", ks[i], " must be at least 1");
    if (ks[i] > n) {
      fail(where, name, "[", i, "] = ", ks[i], " exceeds the number of samples (X has ", n,
           " rows)");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (ks[j] == ks[i]) fail(where, name, "[", i, "] = ", ks[i], " repeats ", name, "[", j, "]");
    }
  }
}

/// sum_i log max_j z_ij over the rows of X, z the model's posterior probabilities (the noise
/// column included), computed by blocks of kPosteriorBlockRows rows: no n x k matrix.
/// Blocks are summed in row order, so the result does not depend on the thread count.
template <typename Model, typename Derived>
double sum_log_max_posterior(const Model& model, const Eigen::MatrixBase<Derived>& X) {
  double total = 0;
  for (Eigen::Index begin = 0; begin < X.rows(); begin += kPosteriorBlockRows) {
    const Eigen::Index rows = std::min(kPosteriorBlockRows, X.rows() - begin);
    const auto proba = model.predict_proba(X.middleRows(begin, rows));
    total += proba.rowwise().maxCoeff().template cast<double>().array().log().sum();
  }
  return total;
}

/// A number for a text table: fixed with `decimals` decimals, "NA" when not finite.
inline std::string fixed(double value, int decimals) {
  if (!std::isfinite(value)) return "NA";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

/// A number for a CSV file: the shortest "%.17g" text that reads back as the same double;
/// empty (a missing value) when not finite.
inline std::string exact(double value) {
  if (!std::isfinite(value)) return "";
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

/// A CSV field: quoted, with inner quotes doubled, when it holds a comma, a quote or a
/// line break.
inline std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

/// Rows of cells as aligned text: every column as wide as its widest cell, cells right
/// aligned except those of the columns listed in `left`, two spaces between columns. A
/// row with fewer cells than the header ends early (its last cell may overflow: an error
/// message, say).
inline std::string aligned(const std::vector<std::vector<std::string>>& rows,
                           const std::vector<std::size_t>& left = {}) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c + 1 == row.size() && row.size() < rows.front().size()) break;  // overflowing cell
      if (width.size() <= c) width.resize(c + 1, 0);
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c > 0) line += "  ";
      const std::size_t w = c < width.size() ? width[c] : 0;
      const std::size_t pad = w > row[c].size() ? w - row[c].size() : 0;
      const bool left_aligned = std::find(left.begin(), left.end(), c) != left.end();
      if (left_aligned || (c + 1 == row.size() && row.size() < rows.front().size())) {
        line += row[c] + (c + 1 == row.size() ? "" : std::string(pad, ' '));
      } else {
        line += std::string(pad, ' ') + row[c];
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  return out;
}

}  // namespace emcluster::detail
