/// @file detail/text_table.hpp
/// @brief Names, numbers and rows as text: names in lower case, fixed-decimal cells ("NA" when not
/// finite), exact CSV numbers, quoted CSV fields, and rows of cells as aligned columns.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace emcluster::detail {

/// `text` with the ASCII letters A-Z in lower case (for names read in any case).
inline std::string ascii_lower(const std::string& text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower;
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
