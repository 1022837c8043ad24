// The emcluster command's subcommands: their arguments (filled by main.cpp's CLI11 parser)
// and the functions that run them, one translation unit per group (fit.cpp: kmeans, gmm,
// select; model.cpp: predict, score, sample; plot.cpp: generate, plot). Each returns the
// exit status; errors are thrown (main.cpp catches them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data.hpp"

namespace emcluster_cli {

// ---- Arguments ----------------------------------------------------------------------------

struct Common {
  DataOptions data;
  bool use_float = false;
  bool quiet = false;
  bool standardize = false;
  std::uint64_t seed = 0;
  std::string labels;  // output file, "-" = stdout
  std::string model;   // output model file
};

struct KMeansArgs {
  Common c;
  long k = 0;
  int n_init = 0;
  int max_iter = 300;
  double tol = 1e-4;
  bool save_training_labels = false;
};

struct GmmArgs {
  Common c;
  long k = 0;
  std::string covariance = "full";
  bool noise = false;
  int n_init = 1;
  int max_iter = 100;
  double tol = 1e-3;
  double reg_covar = 1e-6;
  std::string proba;
};

struct SelectArgs {
  Common c;
  std::string k = "1:9";
  std::string covariance = "all";
  std::string noise = "off";
  std::string criterion = "bic";
  std::string table;
};

struct PredictArgs {
  std::string model;
  DataOptions data;
  bool proba = false;
  bool quiet = false;
  std::string out = "-";
};

struct SampleArgs {
  std::string model;
  long n = 0;
  std::uint64_t seed = 0;
  std::string out = "-";
};

struct GenerateArgs {
  bool article = false;
  std::uint64_t seed = 42;
  double scale = 1.0;
  std::string out;
  std::string truth;
};

struct PlotArgs {
  DataOptions data;
  std::string labels;
  std::string model;
  std::string out;
  std::string title;
  long max_points = 20000;
  bool equal_axes = false;
  bool quiet = false;
};

template <class S>
int run_kmeans(const KMeansArgs& a);
template <class S>
int run_gmm(const GmmArgs& a);
template <class S>
int run_select(const SelectArgs& a);
int run_predict(const PredictArgs& a);
int run_score(const PredictArgs& a);
int run_sample(const SampleArgs& a);
int run_generate(const GenerateArgs& a);
int run_plot(const PlotArgs& a);

}  // namespace emcluster_cli
