// kmeans, gmm and select: fit a model to DATA, write labels, probabilities, the model.
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
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "commands.hpp"
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
      throw UsageError("--k: expected a range like 1:9 or a list like 2,3,5, got '" + s + "'");
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
    for (const auto& t : split(s, ',')) ks.push_back(number(t));
  }
  return ks;
}

template <class S>
std::string shape_of(const Data<S>& d, const std::string& path) {
  std::string s = std::to_string(d.X.rows()) + " rows x " + std::to_string(d.X.cols()) +
                  " columns from " + path;
  if (d.dropped > 0) s += " (" + std::to_string(d.dropped) + " rows with bad values dropped)";
  return s;
}

/// "fit 1.23 s (read 0.45 s)".
std::string timing(double total, double read) {
  return format("fit %.2f s", total - read) + format(" (read %.2f s)", read);
}

/// Labels to their file, to stdout when no output was asked for.
void write_labels(const Common& c, const Eigen::VectorXi& labels, bool other_output,
                  Progress& progress) {
  std::string path = c.labels;
  if (path.empty() && !other_output && c.model.empty()) path = "-";
  if (path.empty()) return;
  progress.clear();
  write_output(path, labels, {"label"});
  if (path != "-") progress.say("labels: " + path);
}

}  // namespace

// ---- kmeans -------------------------------------------------------------------------------

template <class S>
int run_kmeans(const KMeansArgs& a) {
  Progress progress(a.c.quiet);
  const Data<S> data = read_data<S>(a.c.data);
  const double read_seconds = progress.elapsed();
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
                      format("%.3g", it.center_shift));
    };
  }
  Eigen::VectorXi labels;
  std::string summary;
  const auto describe = [&](const emcluster::KMeans<S>& km) {
    return "kmeans: k = " + std::to_string(a.k) + ", " + std::to_string(km.n_iter()) +
           " iterations, " + (km.converged() ? "converged" : "NOT converged (--max-iter)") +
           ", inertia " + g(km.inertia()) + (a.c.standardize ? " (standardized units)" : "");
  };
  if (a.c.standardize) {
    emcluster::Pipeline<emcluster::KMeans<S>> pipe{emcluster::KMeans<S>(o)};
    labels = pipe.fit_predict(data.X);
    summary = describe(pipe.model());
    if (!a.c.model.empty()) emcluster::save_model(pipe, a.c.model);
  } else {
    emcluster::KMeans<S> km(o);
    labels = km.fit_predict(data.X);
    summary = describe(km);
    if (!a.c.model.empty()) emcluster::save_model(km, a.c.model);
  }
  progress.say(summary + ", " + timing(progress.elapsed(), read_seconds) + "; " +
               shape_of(data, a.c.data.path));
  if (!a.c.model.empty()) progress.say("model: " + a.c.model);
  write_labels(a.c, labels, false, progress);
  return 0;
}

// ---- gmm ----------------------------------------------------------------------------------

template <class S>
int run_gmm(const GmmArgs& a) {
  Progress progress(a.c.quiet);
  const Data<S> data = read_data<S>(a.c.data);
  const double read_seconds = progress.elapsed();
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
  const auto describe = [&](const emcluster::GaussianMixture<S>& m, const auto& Z) {
    std::string s =
        "gmm: k = " + std::to_string(a.k) + " (" + a.covariance + " covariances" +
        (a.noise ? " + noise, noise weight " + format("%.4f", m.noise_weight()) : std::string()) +
        "), " + std::to_string(m.n_iter()) + " iterations, " +
        (m.converged() ? "converged" : "NOT converged (--max-iter)") + ", mean log-likelihood " +
        g(m.score(Z)) + ", BIC " + g(m.bic(Z));
    return s + (a.c.standardize ? " (standardized units)" : "");
  };
  Eigen::VectorXi labels;
  std::string summary;
  emcluster::RowMajorMatrix<S> proba;
  if (a.c.standardize) {
    emcluster::Pipeline<emcluster::GaussianMixture<S>> pipe{emcluster::GaussianMixture<S>(o)};
    labels = pipe.fit_predict(data.X);
    summary = describe(pipe.model(), pipe.transform(data.X));
    if (!a.proba.empty()) proba = pipe.predict_proba(data.X);
    if (!a.c.model.empty()) emcluster::save_model(pipe, a.c.model);
  } else {
    emcluster::GaussianMixture<S> gmm(o);
    labels = gmm.fit_predict(data.X);
    summary = describe(gmm, data.X);
    if (!a.proba.empty()) proba = gmm.predict_proba(data.X);
    if (!a.c.model.empty()) emcluster::save_model(gmm, a.c.model);
  }
  progress.say(summary + ", " + timing(progress.elapsed(), read_seconds) + "; " +
               shape_of(data, a.c.data.path));
  if (!a.c.model.empty()) progress.say("model: " + a.c.model);
  if (!a.proba.empty()) {
    progress.clear();
    write_output(a.proba, proba, probability_header(a.k, a.noise));
    if (a.proba != "-") progress.say("probabilities: " + a.proba);
  }
  write_labels(a.c, labels, !a.proba.empty(), progress);
  return 0;
}

// ---- select -------------------------------------------------------------------------------

/// A Pipeline file made of a fitted scaler and a fitted mixture (the documented file format:
/// the two steps' "estimator", "options" and "state" under "scaler" and "model").
template <class S>
void save_pipeline(const emcluster::StandardScaler<S>& scaler,
                   const emcluster::GaussianMixture<S>& model, const std::string& path) {
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
  // Loading checks it as any model file, and writes it.
  std::istringstream in(doc.dump());
  emcluster::Pipeline<emcluster::GaussianMixture<S>> pipe;
  emcluster::load_model(pipe, in);
  emcluster::save_model(pipe, path);
}

template <class S>
int run_select(const SelectArgs& a) {
  Progress progress(a.c.quiet);
  const Data<S> data = read_data<S>(a.c.data);
  const double read_seconds = progress.elapsed();
  emcluster::GaussianMixtureSearchOptions o;
  o.n_components = parse_k(a.k);
  if (a.covariance != "all") {
    o.covariance_types.clear();
    for (const auto& t : split(a.covariance, ',')) o.covariance_types.push_back(covariance_of(t));
  }
  o.noise = a.noise == "on"     ? emcluster::NoiseSearch::on
            : a.noise == "both" ? emcluster::NoiseSearch::both
                                : emcluster::NoiseSearch::off;
  o.criterion = emcluster::parse_selection_criterion(a.criterion);
  o.seed = a.c.seed;
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
                      (c.failed ? std::string("failed") : g(c.criterion)));
    };
  }
  emcluster::StandardScaler<S> scaler;
  emcluster::RowMajorMatrix<S> Z;
  if (a.c.standardize) Z = scaler.fit_transform(data.X);
  const auto& X = a.c.standardize ? Z : data.X;
  emcluster::GaussianMixtureSearch<S> search(o);
  search.fit(X);
  const auto& best = search.best();
  const auto& model = search.best_model();
  progress.clear();
  std::cout << search.summary() << std::flush;
  progress.say(std::string("select: best ") + emcluster::criterion_name(o.criterion) + " " +
               g(best.criterion) + ": k = " + std::to_string(best.k) + ", " + best.model() + " (" +
               std::to_string(search.results().size()) + " candidates" +
               (a.c.standardize ? ", standardized units" : "") + "), " +
               timing(progress.elapsed(), read_seconds) + "; " + shape_of(data, a.c.data.path));
  if (!a.table.empty()) {
    std::ofstream t(a.table, std::ios::binary | std::ios::trunc);
    t << search.csv();
    t.close();
    if (!t) throw emcluster::data_file_error::at_file(a.table, "cannot write the table");
    progress.say("table: " + a.table);
  }
  if (!a.c.model.empty()) {
    if (a.c.standardize) {
      save_pipeline(scaler, model, a.c.model);
    } else {
      emcluster::save_model(model, a.c.model);
    }
    progress.say("model: " + a.c.model);
  }
  if (!a.c.labels.empty()) write_labels(a.c, model.predict(X), true, progress);
  return 0;
}

template int run_kmeans<float>(const KMeansArgs&);
template int run_kmeans<double>(const KMeansArgs&);
template int run_gmm<float>(const GmmArgs&);
template int run_gmm<double>(const GmmArgs&);
template int run_select<float>(const SelectArgs&);
template int run_select<double>(const SelectArgs&);

}  // namespace emcluster_cli
