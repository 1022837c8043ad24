// generate and plot.
#include <emcluster/datasets.hpp>

#include <Eigen/Core>

#include <string>

#include "commands.hpp"
#include "plot.hpp"

namespace emcluster_cli {

// ---- generate, plot -----------------------------------------------------------------------

int run_generate(const GenerateArgs& a) {
  if (!a.article) throw UsageError("generate: say which data set: --article");
  const auto data = emcluster::make_article_data<double>(a.seed, a.scale);
  write_output(a.out, data.X, {"x", "y"});
  if (!a.truth.empty()) write_output(a.truth, data.labels, {"label"});
  return 0;
}

int run_plot(const PlotArgs& a) {
  const Data<double> data = read_data<double>(a.data);
  const Eigen::VectorXi labels = read_labels(a.labels, data.X.rows());
  plot(data.X, data.names, labels, a.model, a.title, a.out);
  return 0;
}

}  // namespace emcluster_cli
