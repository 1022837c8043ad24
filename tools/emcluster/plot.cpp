// generate and plot.
#include <emcluster/datasets.hpp>

#include <Eigen/Core>

#include <memory>
#include <string>

#include "commands.hpp"
#include "output.hpp"
#include "plot.hpp"
#include "progress.hpp"

namespace emcluster_cli {

// ---- generate, plot -----------------------------------------------------------------------

int run_generate(const GenerateArgs& a) {
  if (!a.article) throw UsageError("say which data set: --article");
  Paths paths;
  paths.output("--output", a.out);
  paths.output("--truth", a.truth);
  paths.check();
  const auto data = emcluster::make_article_data<double>(a.seed, a.scale);
  write_outputs({Output{a.out, "the data",
                        [&](std::ostream& o) {
                          emcluster::write_csv(o, a.out, data.X, {"x", "y"});
                        }},
                 Output{a.truth, "the true labels", [&](std::ostream& o) {
                          emcluster::write_csv(o, a.truth, data.labels, {"label"});
                        }}});
  return 0;
}

int run_plot(const PlotArgs& a) {
  Progress progress(a.quiet);
  Paths paths;
  paths.input("DATA", a.data.path);
  paths.input("--labels", a.labels);
  if (!a.model.empty()) paths.input("--model", a.model);
  paths.output("--output", a.out);
  paths.check();
  const auto update = [&](const std::string& t) { progress.update(t); };
  std::unique_ptr<ModelInUnits> model;
  ModelColumns columns;
  if (!a.model.empty()) {
    with_model(a.model, [&](const auto& m) {
      model = std::make_unique<ModelInUnits>(model_in_units(m));
      columns = model_columns(a.model, m);
    });
  }
  const Data<double> data = read_data<double>(a.data, columns, update);
  for (const auto& n : data.notes) progress.say(n);
  PlotInput in;
  in.X = data.X;
  in.names = data.names;
  in.labels = read_labels(a.labels, data.rows, data.X.rows());
  in.title = a.title;
  in.max_points = a.max_points;
  in.equal_axes = a.equal_axes;
  progress.update("plot: drawing");
  const std::string svg = plot_document(in, model.get());
  progress.clear();
  write_outputs({Output{a.out, "the plot", [&](std::ostream& o) { o << svg; }}});
  return 0;
}

}  // namespace emcluster_cli
