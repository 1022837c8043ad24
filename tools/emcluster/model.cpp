// predict, score and sample: a saved model (any estimator, float32 or float64) on DATA. The
// model's columns are taken from DATA by name when the model file records them and DATA has a
// header (model_units.hpp, data.hpp); otherwise DATA must have as many columns as the model.
#include <emcluster/exceptions.hpp>

#include <Eigen/Core>

#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "commands.hpp"
#include "model_units.hpp"
#include "output.hpp"
#include "progress.hpp"

namespace emcluster_cli {

int run_predict(const PredictArgs& a) {
  Progress progress(a.quiet);
  Paths paths;
  paths.input("MODEL", a.model);
  paths.input("DATA", a.data.path);
  paths.output("--output", a.out);
  paths.check();
  with_model(a.model, [&](const auto& model) {
    using M = std::decay_t<decltype(model)>;
    using S = ScalarOf<M>;
    if constexpr (!IsMixture<M>::value) {
      if (a.proba) {
        throw emcluster::model_file_error(a.model +
                                          ": --proba needs a Gaussian mixture; this model is "
                                          "a K-means model (use predict without --proba)");
      }
    }
    const Data<S> data = read_data<S>(a.data, model_columns(a.model, model),
                                      [&](const std::string& t) { progress.update(t); });
    for (const auto& n : data.notes) progress.say(n);
    progress.update("predict: computing");
    if constexpr (IsMixture<M>::value) {
      if (a.proba) {
        const auto& mix = model_of(model);
        const auto p = model.predict_proba(data.X);
        progress.clear();
        write_outputs({Output{a.out, "the probabilities", [&](std::ostream& out) {
                                write_rows(out, "the probabilities", p,
                                           probability_header(mix.n_components(),
                                                              mix.options().noise_component),
                                           data.rows);
                              }}});
        return;
      }
    }
    const Eigen::VectorXi labels = model.predict(data.X);
    progress.clear();
    write_outputs({Output{a.out, "the labels", [&](std::ostream& out) {
                            write_rows(out, "the labels", labels, {"label"}, data.rows);
                          }}});
  });
  return 0;
}

int run_score(const PredictArgs& a) {
  Progress progress(a.quiet);
  Paths paths;
  paths.input("MODEL", a.model);
  paths.input("DATA", a.data.path);
  paths.check();
  with_model(a.model, [&](const auto& model) {
    using M = std::decay_t<decltype(model)>;
    using S = ScalarOf<M>;
    const Data<S> data = read_data<S>(a.data, model_columns(a.model, model),
                                      [&](const std::string& t) { progress.update(t); });
    for (const auto& n : data.notes) progress.say(n);
    progress.update("score: computing");
    char line[256];
    std::string text;
    std::snprintf(line, sizeof(line), "rows %ld\n", static_cast<long>(data.X.rows()));
    text += line;
    if constexpr (IsMixture<M>::value) {
      const MixtureFit f = mixture_fit(model, data.X);
      std::snprintf(line, sizeof(line), "mean log-likelihood %.17g%s\n", f.mean_log_likelihood,
                    f.standardized ? " (in the data's units)" : "");
      text += line;
      if (f.standardized) {
        std::snprintf(line, sizeof(line),
                      "mean log-likelihood of the standardized data %.17g (the model's own "
                      "units)\n",
                      f.standardized_mean_log_likelihood);
        text += line;
      }
      std::snprintf(line, sizeof(line), "BIC %.17g\nAIC %.17g\n", f.bic, f.aic);
      text += line;
    } else {
      const double inertia = -model.score(data.X);
      if (!std::isfinite(inertia)) {
        throw emcluster::numerical_error("the inertia of " + data.source + " under " + a.model +
                                         " is beyond the range of double");
      }
      std::snprintf(line, sizeof(line), "inertia %.17g%s\n", inertia,
                    IsPipeline<M>::value ? " (in standardized units: the model standardizes "
                                           "its input)"
                                         : "");
      text += line;
    }
    progress.clear();
    write_stdout("the scores", [&](std::ostream& out) { out << text; });
  });
  return 0;
}

int run_sample(const SampleArgs& a) {
  Paths paths;
  paths.input("MODEL", a.model);
  paths.output("--output", a.out);
  paths.check();
  with_model(a.model, [&](const auto& model) {
    using M = std::decay_t<decltype(model)>;
    if constexpr (IsMixture<M>::value) {
      const auto& mix = model_of(model);
      auto [points, components] = mix.sample(a.n, a.seed);
      Eigen::MatrixXd out(points.rows(), points.cols() + 1);
      if constexpr (IsPipeline<M>::value) {
        points = model.scaler().inverse_transform(points);  // back to the data's units
      }
      out.leftCols(points.cols()) = points.template cast<double>();
      out.col(points.cols()) = components.template cast<double>();
      std::vector<std::string> header = emcluster::read_model_info(a.model).feature_names;
      if (header.empty()) {
        for (Eigen::Index j = 0; j < points.cols(); ++j) header.push_back("x" + std::to_string(j));
      }
      header.push_back("component");
      write_outputs({Output{a.out, "the sample", [&](std::ostream& o) {
                              emcluster::write_csv(o, a.out, out, header);
                            }}});
    } else {
      throw emcluster::model_file_error(a.model +
                                        ": sample needs a Gaussian mixture; this model is a "
                                        "K-means model");
    }
  });
  return 0;
}

}  // namespace emcluster_cli
