/// @file svg_plot.hpp
/// @brief A small SVG scatter-plot writer for the examples and the `emcluster` command (not part
/// of the library).
///
/// Draws one or more panels side by side on shared axes (equal-aspect by default, or each axis
/// scaled to the data: Style::equal_axes): points coloured by
/// label (grey for label -1, the noise), chosen points ringed in black, centres marked with
/// crosses, and Gaussian ellipses (a centre and a 2 x 2 covariance) at 1 and 2 standard
/// deviations; and a line chart (Chart: one line per Series, with a legend) beside panels.
///
/// @code
/// svg_plot::Panel panel;
/// panel.title = "K-means";
/// panel.points = X;         // n x 2
/// panel.labels = labels;    // n, -1 drawn grey
/// panel.centers = centers;  // k x 2, row j drawn in label j's colour
/// panel.marked = wrong;      // n flags (optional): non-zero points get a black ring
/// svg_plot::write("out/plot.svg", {panel});
/// @endcode
#pragma once

#include <emcluster/detail/io/atomic_file.hpp>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace svg_plot {

/// A Gaussian drawn as its 1- and 2-sigma ellipses in the colour of `label`.
struct Ellipse {
  Eigen::Vector2d center = Eigen::Vector2d::Zero();
  Eigen::Matrix2d covariance = Eigen::Matrix2d::Identity();  ///< symmetric positive semi-definite
  int label = 0;
};

/// One scatter plot.
struct Panel {
  std::string title;
  Eigen::MatrixXd points;         ///< n x 2
  Eigen::VectorXi labels;         ///< n colours; -1 is grey (noise)
  Eigen::MatrixXd centers;        ///< k x 2 (may be empty); row j is a cross in label j's colour
  std::vector<Ellipse> ellipses;  ///< may be empty
  Eigen::VectorXi marked;         ///< n flags or empty; a non-zero flag rings its point in black
};

/// Sizes in pixels.
struct Style {
  double panel_size = 460;  ///< width and height of one panel, margins included
  double margin = 44;       ///< room for the tick labels and the title
  double point_radius = 2.2;
  double cross_size = 9;   ///< half the length of a centre's cross
  bool equal_axes = true;  ///< one scale for both axes (ellipses keep their shape), else each
                           ///< axis spans the data
};

/// The colour of a label: ten distinct colours, repeated; grey for negative labels.
inline std::string color(int label) {
  static const char* const palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1",
                                        "#edc948", "#76b7b2", "#ff9da7", "#9c755f", "#17becf"};
  if (label < 0) return "#a0a0a0";
  return palette[label % 10];
}

namespace detail {

/// The data window shared by all panels.
struct Box {
  double x_min = std::numeric_limits<double>::infinity();
  double x_max = -std::numeric_limits<double>::infinity();
  double y_min = std::numeric_limits<double>::infinity();
  double y_max = -std::numeric_limits<double>::infinity();
  void add(double x, double y) {
    x_min = std::min(x_min, x);
    x_max = std::max(x_max, x);
    y_min = std::min(y_min, y);
    y_max = std::max(y_max, y);
  }
};

/// A round tick spacing (1, 2 or 5 times a power of ten) giving about five ticks over span.
inline double tick_step(double span) {
  const double raw = span / 5.0;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / power;
  return power * (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0);
}

/// A tick label: up to 6 significant digits, no exponent for ordinary magnitudes.
inline std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

/// Text with the XML special characters escaped.
inline std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

inline void check_panel(const Panel& p) {
  if (p.points.cols() != 2)
    throw std::invalid_argument("svg_plot: panel '" + p.title + "': points must have 2 columns");
  if (p.labels.size() != p.points.rows())
    throw std::invalid_argument("svg_plot: panel '" + p.title +
                                "': " + std::to_string(p.labels.size()) + " labels for " +
                                std::to_string(p.points.rows()) + " points");
  if (p.marked.size() != 0 && p.marked.size() != p.points.rows())
    throw std::invalid_argument("svg_plot: panel '" + p.title +
                                "': " + std::to_string(p.marked.size()) + " marks for " +
                                std::to_string(p.points.rows()) + " points");
  if (p.centers.size() != 0 && p.centers.cols() != 2)
    throw std::invalid_argument("svg_plot: panel '" + p.title + "': centers must have 2 columns");
}

}  // namespace detail

namespace detail {

/// Draws the panels side by side, the first one `x_offset` pixels from the left.
inline void draw_panels(std::ostringstream& svg, const std::vector<Panel>& panels,
                        const Style& style, double x_offset) {
  detail::Box box;
  for (const Panel& p : panels) {
    detail::check_panel(p);
    for (Eigen::Index i = 0; i < p.points.rows(); ++i) box.add(p.points(i, 0), p.points(i, 1));
    for (Eigen::Index j = 0; j < p.centers.rows(); ++j) box.add(p.centers(j, 0), p.centers(j, 1));
  }
  if (!(box.x_min <= box.x_max)) box = {-1, 1, -1, 1};  // nothing to draw: any window

  // Equal scale on both axes (ellipses keep their shape), or each axis its own; the data
  // centred in each panel.
  const double plot = style.panel_size - 2 * style.margin;
  const double equal_span = std::max({box.x_max - box.x_min, box.y_max - box.y_min, 1e-12});
  const double span_x =
      (style.equal_axes ? equal_span : std::max(box.x_max - box.x_min, 1e-12)) * 1.04;
  const double span_y =
      (style.equal_axes ? equal_span : std::max(box.y_max - box.y_min, 1e-12)) * 1.04;
  const double scale_x = plot / span_x, scale_y = plot / span_y;
  const double cx = 0.5 * (box.x_min + box.x_max), cy = 0.5 * (box.y_min + box.y_max);
  const double view_x_min = cx - 0.5 * span_x, view_y_min = cy - 0.5 * span_y;

  for (std::size_t k = 0; k < panels.size(); ++k) {
    const Panel& p = panels[k];
    const double left = x_offset + static_cast<double>(k) * style.panel_size + style.margin;
    const double top = style.margin;
    auto px = [&](double x) { return left + (x - view_x_min) * scale_x; };
    auto py = [&](double y) { return top + plot - (y - view_y_min) * scale_y; };

    svg << "<g>\n<text x=\"" << left + plot / 2 << "\" y=\"" << top - 14
        << "\" text-anchor=\"middle\" font-size=\"14\">" << detail::escape(p.title) << "</text>\n";
    svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << plot << "\" height=\""
        << plot << "\" fill=\"none\" stroke=\"#444\"/>\n";

    // Ticks on both axes (the same step when the scale is shared).
    const double step_x = detail::tick_step(span_x), step_y = detail::tick_step(span_y);
    for (double t = std::ceil(view_x_min / step_x) * step_x; t <= view_x_min + span_x;
         t += step_x) {
      const double v = std::abs(t) < 1e-9 * step_x ? 0.0 : t;
      svg << "<line x1=\"" << px(t) << "\" y1=\"" << top + plot << "\" x2=\"" << px(t) << "\" y2=\""
          << top + plot + 4 << "\" stroke=\"#444\"/><text x=\"" << px(t) << "\" y=\""
          << top + plot + 16 << "\" text-anchor=\"middle\">" << detail::number(v) << "</text>\n";
    }
    for (double t = std::ceil(view_y_min / step_y) * step_y; t <= view_y_min + span_y;
         t += step_y) {
      const double v = std::abs(t) < 1e-9 * step_y ? 0.0 : t;
      svg << "<line x1=\"" << left - 4 << "\" y1=\"" << py(t) << "\" x2=\"" << left << "\" y2=\""
          << py(t) << "\" stroke=\"#444\"/><text x=\"" << left - 6 << "\" y=\"" << py(t) + 4
          << "\" text-anchor=\"end\">" << detail::number(v) << "</text>\n";
    }

    for (Eigen::Index i = 0; i < p.points.rows(); ++i) {
      svg << "<circle cx=\"" << px(p.points(i, 0)) << "\" cy=\"" << py(p.points(i, 1)) << "\" r=\""
          << style.point_radius << "\" fill=\"" << color(p.labels(i))
          << "\" fill-opacity=\"0.65\"/>\n";
    }
    for (Eigen::Index i = 0; i < p.marked.size(); ++i) {
      if (p.marked(i) == 0) continue;
      svg << "<circle cx=\"" << px(p.points(i, 0)) << "\" cy=\"" << py(p.points(i, 1)) << "\" r=\""
          << style.point_radius + 1.2
          << "\" fill=\"none\" stroke=\"black\" stroke-width=\"0.9\"/>\n";
    }

    // Ellipses: the axes are the eigenvectors of the covariance in pixels (D C D, D the two
    // scales), the radii r * sqrt(eigenvalue).
    const Eigen::Vector2d pixels(scale_x, scale_y);
    for (const Ellipse& e : p.ellipses) {
      const Eigen::Matrix2d c = pixels.asDiagonal() * e.covariance * pixels.asDiagonal();
      const Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> eig(c);
      const Eigen::Vector2d lambda = eig.eigenvalues().cwiseMax(0.0);  // ascending
      const Eigen::Vector2d major = eig.eigenvectors().col(1);
      // Degrees, negated because the SVG y axis points down.
      const double angle = -std::atan2(major.y(), major.x()) * 180.0 / 3.14159265358979323846;
      // A coloured line on a black one, visible over points of the same colour.
      for (int r = 1; r <= 2; ++r) {
        for (int layer = 0; layer < 2; ++layer) {
          svg << "<ellipse cx=\"" << px(e.center.x()) << "\" cy=\"" << py(e.center.y())
              << "\" rx=\"" << r * std::sqrt(lambda(1)) << "\" ry=\"" << r * std::sqrt(lambda(0))
              << "\" transform=\"rotate(" << angle << ' ' << px(e.center.x()) << ' '
              << py(e.center.y()) << ")\" fill=\"none\" stroke=\""
              << (layer == 0 ? std::string("black") : color(e.label)) << "\" stroke-width=\""
              << (layer == 0 ? 3.5 : 1.8) << '"' << (r == 2 ? " stroke-dasharray=\"7 4\"" : "")
              << "/>\n";
        }
      }
    }

    // Centres: a coloured cross on a black one, visible on any background.
    for (Eigen::Index j = 0; j < p.centers.rows(); ++j) {
      const double x = px(p.centers(j, 0)), y = py(p.centers(j, 1)), s = style.cross_size;
      for (int layer = 0; layer < 2; ++layer) {
        const std::string stroke = layer == 0 ? "black" : color(static_cast<int>(j));
        const double w = layer == 0 ? 5.0 : 2.5;
        svg << "<path d=\"M" << x - s << ' ' << y - s << " L" << x + s << ' ' << y + s << " M"
            << x - s << ' ' << y + s << " L" << x + s << ' ' << y - s << "\" stroke=\"" << stroke
            << "\" stroke-width=\"" << w << "\"/>\n";
      }
    }
    svg << "</g>\n";
  }
}

/// The opening of an SVG document of the given size on a white background.
inline void open_document(std::ostringstream& svg, double width, double height) {
  svg.setf(std::ios::fixed);
  svg.precision(2);
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << ' ' << height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
}

/// Closes the document and writes it to `path`, whole or not at all (a temporary file renamed
/// over it).
inline void save(std::ostringstream& svg, const std::string& path) {
  svg << "</svg>\n";
  emcluster::detail::write_file_atomically(path, [&](std::ostream& out) { out << svg.str(); });
}

}  // namespace detail

/// The SVG document of the panels side by side; throws std::invalid_argument for panels of
/// the wrong shape.
inline std::string document(const std::vector<Panel>& panels, const Style& style = Style()) {
  std::ostringstream svg;
  const double width =
      style.panel_size * static_cast<double>(std::max<std::size_t>(1, panels.size()));
  detail::open_document(svg, width, style.panel_size);
  detail::draw_panels(svg, panels, style, 0.0);
  svg << "</svg>\n";
  return svg.str();
}

/// Writes the panels side by side to an SVG file, whole or not at all; throws
/// std::invalid_argument for panels of the wrong shape and emcluster::data_file_error when the
/// file cannot be written.
inline void write(const std::string& path, const std::vector<Panel>& panels,
                  const Style& style = Style()) {
  const std::string svg = document(panels, style);
  emcluster::detail::write_file_atomically(path, [&](std::ostream& out) { out << svg; });
}

/// One line of a Chart: points (x[i], y[i]) joined in order; a non-finite y leaves a gap.
struct Series {
  std::string name;       ///< the legend's text
  std::vector<double> x;  ///< abscissae
  std::vector<double> y;  ///< ordinates, as many as x
  int label = 0;          ///< colour, as a point label's
  bool dashed = false;    ///< a dashed line (the markers stay filled)
};

/// A line chart (for example a criterion against the number of clusters, one line per
/// model, as mclust's BIC plot), with its own axes.
struct Chart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  double mark_x = std::numeric_limits<double>::quiet_NaN();  ///< a point ringed in black, if finite
  double mark_y = std::numeric_limits<double>::quiet_NaN();
  bool integer_x = true;  ///< ticks at whole numbers on the x axis
};

namespace detail {

/// Draws the chart in a panel-sized square whose left edge is x_offset.
inline void draw_chart(std::ostringstream& svg, const Chart& chart, const Style& style,
                       double x_offset) {
  Box box;
  for (const Series& s : chart.series) {
    if (s.x.size() != s.y.size())
      throw std::invalid_argument("svg_plot: series '" + s.name + "': x and y differ in length");
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) box.add(s.x[i], s.y[i]);
  }
  if (!(box.x_min <= box.x_max)) box = {0, 1, 0, 1};
  const double plot = style.panel_size - 2 * style.margin;
  const double left = x_offset + style.margin + 14, top = style.margin;
  const double width = plot - 14;
  const double x_pad = chart.integer_x ? 0.5 : 0.04 * std::max(box.x_max - box.x_min, 1e-12);
  const double x_lo = box.x_min - x_pad, x_hi = box.x_max + x_pad;
  const double y_pad = 0.05 * std::max(box.y_max - box.y_min, 1e-12);
  const double y_lo = box.y_min - y_pad, y_hi = box.y_max + y_pad;
  auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * width; };
  auto py = [&](double y) { return top + plot - (y - y_lo) / (y_hi - y_lo) * plot; };

  svg << "<g>\n<text x=\"" << left + width / 2 << "\" y=\"" << top - 14
      << "\" text-anchor=\"middle\" font-size=\"14\">" << escape(chart.title) << "</text>\n";
  svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << width << "\" height=\""
      << plot << "\" fill=\"none\" stroke=\"#444\"/>\n";
  const double x_step =
      chart.integer_x ? std::max(1.0, tick_step(x_hi - x_lo)) : tick_step(x_hi - x_lo);
  for (double t = std::ceil(x_lo / x_step) * x_step; t <= x_hi; t += x_step) {
    svg << "<line x1=\"" << px(t) << "\" y1=\"" << top + plot << "\" x2=\"" << px(t) << "\" y2=\""
        << top + plot + 4 << "\" stroke=\"#444\"/><text x=\"" << px(t) << "\" y=\""
        << top + plot + 16 << "\" text-anchor=\"middle\">" << number(t) << "</text>\n";
  }
  const double y_step = tick_step(y_hi - y_lo);
  for (double t = std::ceil(y_lo / y_step) * y_step; t <= y_hi; t += y_step) {
    svg << "<line x1=\"" << left - 4 << "\" y1=\"" << py(t) << "\" x2=\"" << left << "\" y2=\""
        << py(t) << "\" stroke=\"#444\"/><text x=\"" << left - 6 << "\" y=\"" << py(t) + 4
        << "\" text-anchor=\"end\">" << number(t) << "</text>\n";
  }
  svg << "<text x=\"" << left + width / 2 << "\" y=\"" << top + plot + 32
      << "\" text-anchor=\"middle\">" << escape(chart.x_label) << "</text>\n";
  svg << "<text transform=\"translate(" << x_offset + 12 << ' ' << top + plot / 2
      << ") rotate(-90)\" text-anchor=\"middle\">" << escape(chart.y_label) << "</text>\n";

  for (const Series& s : chart.series) {
    std::string path;
    bool pen_down = false;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        pen_down = false;
        continue;
      }
      std::ostringstream step;
      step.setf(std::ios::fixed);
      step.precision(2);
      step << (pen_down ? " L" : " M") << px(s.x[i]) << ' ' << py(s.y[i]);
      path += step.str();
      pen_down = true;
    }
    if (!path.empty()) {
      svg << "<path d=\"" << path.substr(1) << "\" fill=\"none\" stroke=\"" << color(s.label)
          << "\" stroke-width=\"1.8\"" << (s.dashed ? " stroke-dasharray=\"6 3\"" : "") << "/>\n";
    }
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      svg << "<circle cx=\"" << px(s.x[i]) << "\" cy=\"" << py(s.y[i]) << "\" r=\"2.6\" fill=\""
          << (s.dashed ? std::string("white") : color(s.label)) << "\" stroke=\"" << color(s.label)
          << "\" stroke-width=\"1.2\"/>\n";
    }
  }
  if (std::isfinite(chart.mark_x) && std::isfinite(chart.mark_y)) {
    svg << "<circle cx=\"" << px(chart.mark_x) << "\" cy=\"" << py(chart.mark_y)
        << "\" r=\"6.5\" fill=\"none\" stroke=\"black\" stroke-width=\"1.6\"/>\n";
  }
  // The legend, top right, one line per series.
  const double row = 14, legend_w = 128;
  const double lx = left + width - legend_w - 6, ly = top + 6;
  svg << "<rect x=\"" << lx << "\" y=\"" << ly << "\" width=\"" << legend_w << "\" height=\""
      << row * static_cast<double>(chart.series.size()) + 6
      << "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n";
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    const double y = ly + 3 + row * (static_cast<double>(i) + 0.5);
    svg << "<line x1=\"" << lx + 6 << "\" y1=\"" << y << "\" x2=\"" << lx + 30 << "\" y2=\"" << y
        << "\" stroke=\"" << color(s.label) << "\" stroke-width=\"1.8\""
        << (s.dashed ? " stroke-dasharray=\"6 3\"" : "") << "/><text x=\"" << lx + 36 << "\" y=\""
        << y + 4 << "\">" << escape(s.name) << "</text>\n";
  }
  svg << "</g>\n";
}

}  // namespace detail

/// Writes a chart and, to its right, the panels, to an SVG file.
inline void write(const std::string& path, const Chart& chart, const std::vector<Panel>& panels,
                  const Style& style = Style()) {
  std::ostringstream svg;
  const double width = style.panel_size * static_cast<double>(1 + panels.size());
  detail::open_document(svg, width, style.panel_size);
  detail::draw_chart(svg, chart, style, 0.0);
  detail::draw_panels(svg, panels, style, style.panel_size);
  detail::save(svg, path);
}

}  // namespace svg_plot
