// kmeans, gmm and select: fit a model to DATA, write labels, probabilities, the model.
//
// Each command checks its paths (no output replaces an input or another output; every output
// directory writable) before it reads anything, reads DATA (notes on stderr), checks what the
// library would refuse in the command's own words, fits with progress, then writes every
// output whole (output.hpp).
#include <emcluster/exceptions.hpp>
#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/io.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/mixture_search.hpp>
#include <emcluster/pipeline.hpp>
#include <emcluster/preprocessing.hpp>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "model_units.hpp"
#include "output.hpp"
#include "progress.hpp"

namespace emcluster_cli {
namespace {

emcluster::CovarianceType covariance_of(const std::string& s) {
  if (s == "full") return emcluster::CovarianceType::full;
  if (s == "tied") return emcluster::CovarianceType::tied;
  if (s == "diagonal" || s == "diag") return emcluster::CovarianceType::diagonal;
  if (s == "spherical") return emcluster::CovarianceType::spherical;
  throw UsageError("--covariance: unknown covariance type '" + s +
                   "' (expected full, tied, diagonal or spherical)");
}

std::vector<Eigen::Index> parse_k(const std::string& s) {
  std::vector<Eigen::Index> ks;
  const auto number = [&](const std::string& t) {
    if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos) {
      throw UsageError("--k: expected a range like 1:9 or a list like 2,3,5 of integers, got '" +
                       s + "'");
    }
    const long v = std::stol(t);
    if (v < 1) throw UsageError("--k: every k must be at least 1");
    return static_cast<Eigen::Index>(v);
  };
  const auto colon = s.find(':');
  if (colon != std::string::npos) {
    const Eigen::Index a = number(s.substr(0, colon)), b = number(s.substr(colon + 1));
    if (b < a) throw UsageError("--k: the range " + s + " is empty");
    if (b - a > 1000) throw UsageError("--k: the range " + s + " is too long (1000 at most)");
    for (Eigen::Index k = a; k <= b; ++k) ks.push_back(k);
  } else {
    std::set<Eigen::Index> seen;
    for (const auto& t : split(s, ',')) {
      const Eigen::Index k = number(t);
      if (!seen.insert(k).second) {
        throw UsageError("--k: " + std::to_string(k) + " is listed twice in '" + s + "'");
      }
      ks.push_back(k);
    }
  }
  return ks;
}

template <class S>
std::string shape_of(const Data<S>& d) {
  std::string s = std::to_string(d.X.rows()) + " rows x " + std::to_string(d.X.cols()) +
                  " columns from " + d.source;
  if (!d.rows.dropped.empty()) {
    s += " (" + std::to_string(d.rows.dropped.size()) + " rows with bad values dropped)";
  }
  return s;
}

/// "fit 1.23 s (read 0.45 s)".
std::string timing(double total, double read) {
  return format("fit %.2f s", total - read) + format(" (read %.2f s)", read);
}

/// Where the labels go: the --labels file, or stdout when no output was asked for at all.
std::string labels_destination(const Common& c, bool other_output) {
  if (c.labels.empty() && !other_output && c.model.empty()) return "-";
  return c.labels;
}

/// The column names a model file records: the data's, when every one is a distinct name.
template <class S>
std::vector<std::string> feature_names_of(const Data<S>& d) {
  std::set<std::string> seen;
  for (const auto& n : d.names) {
    if (n.empty() || !seen.insert(n).second) return {};
  }
  return d.names;
}

template <class S>
void say_notes(Progress& progress, const Data<S>& d) {
  for (const auto& n : d.notes) progress.say(n);
}

/// At least `k` rows for `option` (the library's message would name its own option).
template <class S>
void require_rows(const Data<S>& d, Eigen::Index k, const std::string& option) {
  if (d.X.rows() < k) {
    throw emcluster::data_file_error::at_file(
        d.source, "has " + std::to_string(d.X.rows()) + " rows" +
                      (d.rows.dropped.empty() ? std::string() : " after dropping bad ones") +
                      ", fewer than " + option + " " + std::to_string(k) + " needs");
  }
}

/// A noise component's box needs every column to vary.
template <class S>
void require_spread(const Data<S>& d) {
  for (Eigen::Index j = 0; j < d.X.cols(); ++j) {
    if (d.X.rows() > 0 && d.X.col(j).minCoeff() == d.X.col(j).maxCoeff()) {
      const auto& name = d.names[static_cast<std::size_t>(j)];
      throw emcluster::data_file_error::at_file(
          d.source, "column " + std::to_string(j + 1) +
                        (name.empty() ? std::string() : " (\"" + name + "\")") +
                        " is constant: a noise component's box would have no volume (leave the "
                        "column out with --columns, or fit without --noise)");
    }
  }
}

/// The labels as an output (aligned with the input's rows under --drop-bad-rows).
template <class S>
Output labels_output(const std::string& path, const Eigen::VectorXi& labels, const Data<S>& d) {
  return Output{path, "the labels", [&labels, &d](std::ostream& out) {
                  write_rows(out, "the labels", labels, {"label"}, d.rows);
                }};
}

}  // namespace

// ---- kmeans -------------------------------------------------------------------------------

template <class S>
int run_kmeans(const KMeansArgs& a) {
  Progress progress(a.c.quiet);
  Paths paths;
  paths.input("DATA", a.c.data.path);
  const std::string labels_path = labels_destination(a.c, false);
  paths.output("--labels", labels_path);
  paths.output("--model", a.c.model);
  paths.check();
  const Data<S> data =
      read_data<S>(a.c.data, {}, [&](const std::string& t) { progress.update(t); });
  const double read_seconds = progress.elapsed();
  say_notes(progress, data);
  require_rows(data, a.k, "-k");
  typename emcluster::KMeans<S>::Options o;
  o.n_clusters = a.k;
  o.n_init = a.n_init;
  o.max_iter = a.max_iter;
  o.tol = a.tol;
  o.seed = a.c.seed;
  // The algorithm the library picks without a callback (a callback alone would make it pick
  // Lloyd, which reports the inertia of every iteration): --quiet or not, the same labels.
  o.algorithm = emcluster::detail::choose_algorithm(emcluster::KMeansAlgorithm::automatic, a.k,
                                                    data.X.cols(), sizeof(S), false);
  if (!a.c.quiet) {
    o.callback = [&](const emcluster::KMeansIteration& it) {
      // Hamerly's steps do not compute the inertia (NaN): show the centre shift alone then.
      const std::string inertia =
          std::isnan(it.inertia) ? std::string() : ", inertia " + g(it.inertia);
      progress.update("kmeans: restart " + std::to_string(it.restart + 1) + ", iteration " +
                      std::to_string(it.iteration) + inertia + ", centre shift " +
                      format("%.3g", it.center_shift) + " (then the next restart's seeding)");
    };
  }
  progress.update("kmeans: seeding the first restart (k-means++, k = " + std::to_string(a.k) + ")");
  emcluster::SaveOptions save;
  save.feature_names = feature_names_of(data);
  save.training_labels = a.save_training_labels;
  Eigen::VectorXi labels;
  std::string summary;
  const auto describe = [&](const emcluster::KMeans<S>& km) {
    return "kmeans: k = " + std::to_string(a.k) + ", " + std::to_string(km.n_iter()) +
           " iterations, " + (km.converged() ? "converged" : "NOT converged (--max-iter)") +
           ", inertia " + g(km.inertia()) + (a.c.standardize ? " (standardized units)" : "");
  };
  std::vector<Output> outputs;
  outputs.push_back(labels_output(labels_path, labels, data));
  emcluster::Pipeline<emcluster::KMeans<S>> pipe{emcluster::KMeans<S>(o)};
  emcluster::KMeans<S> km(o);
  if (a.c.standardize) {
    labels = pipe.fit_predict(data.X);
    summary = describe(pipe.model());
    outputs.push_back(Output{a.c.model, "the model",
                             [&](std::ostream& out) { emcluster::save_model(pipe, out, save); }});
  } else {
    labels = km.fit_predict(data.X);
    summary = describe(km);
    outputs.push_back(Output{a.c.model, "the model",
                             [&](std::ostream& out) { emcluster::save_model(km, out, save); }});
  }
  // The live line is cleared before anything goes to stdout (a terminal shows both).
  if (paths.stdout_used())
    progress.clear();
  else
    progress.update("kmeans: writing the outputs");
  write_outputs(outputs);
  progress.clear();
  progress.say(summary + ", " + timing(progress.elapsed(), read_seconds) + "; " + shape_of(data));
  if (!a.c.model.empty()) progress.say("model: " + a.c.model);
  if (!labels_path.empty() && labels_path != "-") progress.say("labels: " + labels_path);
  return 0;
}

// ---- gmm ----------------------------------------------------------------------------------

template <class S>
int run_gmm(const GmmArgs& a) {
  Progress progress(a.c.quiet);
  Paths paths;
  paths.input("DATA", a.c.data.path);
  const std::string labels_path = labels_destination(a.c, !a.proba.empty());
  paths.output("--labels", labels_path);
  paths.output("--proba", a.proba);
  paths.output("--model", a.c.model);
  paths.check();
  const Data<S> data =
      read_data<S>(a.c.data, {}, [&](const std::string& t) { progress.update(t); });
  const double read_seconds = progress.elapsed();
  say_notes(progress, data);
  require_rows(data, a.k, "-k");
  if (a.noise) require_spread(data);
  typename emcluster::GaussianMixture<S>::Options o;
  o.n_components = a.k;
  o.covariance_type = covariance_of(a.covariance);
  o.noise_component = a.noise;
  o.n_init = a.n_init;
  o.max_iter = a.max_iter;
  o.tol = a.tol;
  o.reg_covar = a.reg_covar;
  o.seed = a.c.seed;
  if (!a.c.quiet) {
    o.callback = [&](const emcluster::GaussianMixtureIteration& it) {
      progress.update("gmm: restart " + std::to_string(it.restart + 1) + ", iteration " +
                      std::to_string(it.iteration) + ", mean log-likelihood " + g(it.lower_bound) +
                      ", change " + format("%.3g", it.change));
    };
  }
  progress.update("gmm: initialising the first restart (K-means, k = " + std::to_string(a.k) + ")");
  emcluster::SaveOptions save;
  save.feature_names = feature_names_of(data);
  const auto describe = [&](const emcluster::GaussianMixture<S>& m, const MixtureFit& fit) {
    return "gmm: k = " + std::to_string(a.k) + " (" + a.covariance + " covariances" +
           (a.noise ? " + noise, noise weight " + format("%.4f", m.noise_weight())
                    : std::string()) +
           "), " + std::to_string(m.n_iter()) + " iterations, " +
           (m.converged() ? "converged" : "NOT converged (--max-iter)") + ", " + fit.describe();
  };
  Eigen::VectorXi labels;
  std::string summary;
  emcluster::RowMajorMatrix<S> proba;
  std::vector<Output> outputs;
  outputs.push_back(labels_output(labels_path, labels, data));
  outputs.push_back(Output{a.proba, "the probabilities", [&](std::ostream& out) {
                             write_rows(out, "the probabilities", proba,
                                        probability_header(a.k, a.noise), data.rows);
                           }});
  emcluster::Pipeline<emcluster::GaussianMixture<S>> pipe{emcluster::GaussianMixture<S>(o)};
  emcluster::GaussianMixture<S> gmm(o);
  if (a.c.standardize) {
    labels = pipe.fit_predict(data.X);
    summary = describe(pipe.model(), mixture_fit(pipe, data.X));
    if (!a.proba.empty()) proba = pipe.predict_proba(data.X);
    outputs.push_back(Output{a.c.model, "the model",
                             [&](std::ostream& out) { emcluster::save_model(pipe, out, save); }});
  } else {
    labels = gmm.fit_predict(data.X);
    summary = describe(gmm, mixture_fit(gmm, data.X));
    if (!a.proba.empty()) proba = gmm.predict_proba(data.X);
    outputs.push_back(Output{a.c.model, "the model",
                             [&](std::ostream& out) { emcluster::save_model(gmm, out, save); }});
  }
  if (paths.stdout_used())
    progress.clear();
  else
    progress.update("gmm: writing the outputs");
  write_outputs(outputs);
  progress.clear();
  progress.say(summary + ", " + timing(progress.elapsed(), read_seconds) + "; " + shape_of(data));
  if (!a.c.model.empty()) progress.say("model: " + a.c.model);
  if (!a.proba.empty() && a.proba != "-") progress.say("probabilities: " + a.proba);
  if (!labels_path.empty() && labels_path != "-") progress.say("labels: " + labels_path);
  return 0;
}

// ---- select -------------------------------------------------------------------------------

namespace {

/// A Pipeline file made of a fitted scaler and a fitted mixture (the documented file format:
/// the two steps' "estimator", "options" and "state" under "scaler" and "model"), checked by
/// loading it as any model file.
template <class S>
emcluster::Pipeline<emcluster::GaussianMixture<S>> make_pipeline(
    const emcluster::StandardScaler<S>& scaler, const emcluster::GaussianMixture<S>& model) {
  std::ostringstream s, m;
  emcluster::save_model(scaler, s);
  emcluster::save_model(model, m);
  const auto js = nlohmann::ordered_json::parse(s.str());
  const auto jm = nlohmann::ordered_json::parse(m.str());
  nlohmann::ordered_json doc;
  for (const char* key : {"format", "format_version", "library_version"}) doc[key] = jm[key];
  doc["estimator"] = "Pipeline";
  doc["scalar"] = jm["scalar"];
  for (const auto& [name, step] : {std::pair{"scaler", &js}, std::pair{"model", &jm}}) {
    nlohmann::ordered_json part;
    for (const char* key : {"estimator", "options", "state"}) part[key] = (*step)[key];
    doc[name] = part;
  }
  std::istringstream in(doc.dump());
  emcluster::Pipeline<emcluster::GaussianMixture<S>> pipe;
  emcluster::load_model(pipe, in);
  return pipe;
}

}  // namespace

template <class S>
int run_select(const SelectArgs& a) {
  Progress progress(a.c.quiet);
  emcluster::GaussianMixtureSearchOptions o;
  o.n_components = parse_k(a.k);
  if (a.covariance != "all") {
    o.covariance_types.clear();
    std::set<std::string> seen;
    for (const auto& t : split(a.covariance, ',')) {
      if (!seen.insert(t).second) {
        throw UsageError("--covariance: " + t + " is listed twice in '" + a.covariance + "'");
      }
      o.covariance_types.push_back(covariance_of(t));
    }
  }
  o.noise = a.noise == "on"     ? emcluster::NoiseSearch::on
            : a.noise == "both" ? emcluster::NoiseSearch::both
                                : emcluster::NoiseSearch::off;
  o.criterion = emcluster::parse_selection_criterion(a.criterion);
  o.seed = a.c.seed;
  Paths paths;
  paths.input("DATA", a.c.data.path);
  paths.output("--labels", a.c.labels);
  paths.output("--model", a.c.model);
  paths.output("--table", a.table);
  paths.check();
  // One stream, one content: the table goes to stderr when the labels take stdout.
  const bool table_on_stderr = paths.stdout_used();
  const Data<S> data =
      read_data<S>(a.c.data, {}, [&](const std::string& t) { progress.update(t); });
  const double read_seconds = progress.elapsed();
  say_notes(progress, data);
  for (Eigen::Index k : o.n_components) require_rows(data, k, "--k");
  if (o.noise != emcluster::NoiseSearch::off) require_spread(data);
  const std::size_t total = o.n_components.size() * o.covariance_types.size() *
                            (o.noise == emcluster::NoiseSearch::both ? 2 : 1);
  std::size_t done = 0;
  if (!a.c.quiet) {
    o.callback = [&](const emcluster::MixtureCandidate& c) {
      if (!c.refined) ++done;
      progress.update("select: " + std::string(c.refined ? "refined " : "") + "candidate " +
                      std::to_string(done) + "/" + std::to_string(total) +
                      ": k = " + std::to_string(c.k) + ", " + c.model() + ", " +
                      emcluster::criterion_name(o.criterion) + " " +
                      (c.failed ? std::string("failed") : g(c.criterion)) +
                      (c.refined ? "" : "; next: fitting"));
    };
  }
  progress.update("select: fitting the first candidate");
  emcluster::StandardScaler<S> scaler;
  emcluster::RowMajorMatrix<S> Z;
  if (a.c.standardize) Z = scaler.fit_transform(data.X);
  const auto& X = a.c.standardize ? Z : data.X;
  emcluster::GaussianMixtureSearch<S> search(o);
  search.fit(X);
  const auto& best = search.best();
  const auto& model = search.best_model();
  emcluster::SaveOptions save;
  save.feature_names = feature_names_of(data);
  Eigen::VectorXi labels;
  if (!a.c.labels.empty()) labels = model.predict(X);
  std::vector<Output> outputs;
  outputs.push_back(labels_output(a.c.labels, labels, data));
  outputs.push_back(Output{a.table, "the table", [&](std::ostream& out) { out << search.csv(); }});
  outputs.push_back(Output{a.c.model, "the model", [&](std::ostream& out) {
                             if (a.c.standardize) {
                               emcluster::save_model(make_pipeline(scaler, model), out, save);
                             } else {
                               emcluster::save_model(model, out, save);
                             }
                           }});
  if (paths.stdout_used())
    progress.clear();
  else
    progress.update("select: writing the outputs");
  write_outputs(outputs);
  progress.clear();
  if (table_on_stderr) {
    if (!a.c.quiet) std::cerr << search.summary() << std::flush;
  } else {
    write_stdout("the table", [&](std::ostream& out) { out << search.summary(); });
  }
  progress.say(std::string("select: best ") + emcluster::criterion_name(o.criterion) + " " +
               g(best.criterion) + ": k = " + std::to_string(best.k) + ", " + best.model() + " (" +
               std::to_string(search.results().size()) + " candidates" +
               (a.c.standardize ? ", criteria of the standardized data" : "") + "), " +
               timing(progress.elapsed(), read_seconds) + "; " + shape_of(data));
  if (!a.table.empty() && a.table != "-") progress.say("table: " + a.table);
  if (!a.c.model.empty()) progress.say("model: " + a.c.model);
  if (!a.c.labels.empty() && a.c.labels != "-") progress.say("labels: " + a.c.labels);
  return 0;
}

template int run_kmeans<float>(const KMeansArgs&);
template int run_kmeans<double>(const KMeansArgs&);
template int run_gmm<float>(const GmmArgs&);
template int run_gmm<double>(const GmmArgs&);
template int run_select<float>(const SelectArgs&);
template int run_select<double>(const SelectArgs&);

}  // namespace emcluster_cli
