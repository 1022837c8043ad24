// The emcluster command: K-means, Gaussian mixtures and model selection on a CSV or .npy
// file, predictions from saved models, sampling, the article's data, and plots, without
// writing C++. `emcluster --help` and `emcluster SUBCOMMAND --help` describe each; README.md
// ("Command line") has the manual.
//
// Exit status: 0 on success, 2 on a usage error (with the subcommand's help), 1 on any other
// error (a data file's error as file:line:column: what was expected). Every exception is
// caught here: never a crash or a stack trace.
#include <emcluster/exceptions.hpp>
#include <emcluster/version.hpp>

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>

#include "commands.hpp"

namespace emcluster_cli {
namespace {

void add_common(CLI::App* app, Common& c, bool labels_and_model = true) {
  app->add_option("data", c.data.path, "Data: a CSV file, or a NumPy .npy file (float32/64)")
      ->required();
  add_data_options(app, c.data);
  app->add_flag("--standardize", c.standardize,
                "Standardize every column (zero mean, unit variance) before clustering; the "
                "saved model then does it too, on raw data");
  app->add_option("--seed", c.seed, "Seed of every random choice")->capture_default_str();
  if (labels_and_model) {
    app->add_option("--labels", c.labels,
                    "Write the labels (one per row, CSV with a 'label' header) to this file, "
                    "'-' for stdout (the default when neither --labels nor --model is given)");
    app->add_option("--model", c.model, "Save the fitted model to this JSON file");
  }
  app->add_flag("--float", c.use_float, "Compute in float32 instead of float64");
  app->add_flag("-q,--quiet", c.quiet, "No progress and no summary on stderr");
}

// ---- The command line -----------------------------------------------------------------------

int main_impl(int argc, char** argv) {
  CLI::App app{"emcluster " + std::string(emcluster::version_string) +
                   ": K-means and Gaussian mixture clustering of CSV and .npy files",
               "emcluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(emcluster::version_string));
  app.footer(
      "Examples:\n"
      "  emcluster generate --article -o data.csv\n"
      "  emcluster gmm data.csv -k 3 --noise --standardize --model gmm.json --labels labels.csv\n"
      "  emcluster predict gmm.json new.csv > new_labels.csv\n"
      "  emcluster plot data.csv --labels labels.csv --model gmm.json -o plot.svg\n"
      "Run 'emcluster SUBCOMMAND --help' for a subcommand's options.");

  KMeansArgs km;
  auto* kmeans = app.add_subcommand("kmeans", "K-means clustering (k-means++ starts, Lloyd)");
  add_common(kmeans, km.c);
  kmeans->add_option("-k,--clusters", km.k, "Number of clusters")
      ->required()
      ->check(CLI::Range(1L, 1000000L));
  kmeans->add_option("--n-init", km.n_init, "Restarts, the lowest inertia wins (0 = auto)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  kmeans->add_option("--max-iter", km.max_iter, "Iterations per restart at most")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  kmeans->add_option("--tol", km.tol, "Convergence tolerance (relative to the data's variance)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  kmeans->footer(
      "Example:\n"
      "  emcluster kmeans data.csv -k 3 --standardize --n-init 10 --seed 1 \\\n"
      "      --labels labels.csv --model kmeans.json");

  GmmArgs gm;
  auto* gmm = app.add_subcommand("gmm", "Gaussian mixture (EM), optionally with a noise component");
  add_common(gmm, gm.c);
  gmm->add_option("-k,--components", gm.k, "Number of Gaussian components")
      ->required()
      ->check(CLI::Range(1L, 100000L));
  gmm->add_option("--covariance", gm.covariance, "Covariance type")
      ->check(CLI::IsMember({"full", "tied", "diagonal", "spherical"}))
      ->capture_default_str();
  gmm->add_flag("--noise", gm.noise, "Add a uniform background component (label -1)");
  gmm->add_option("--n-init", gm.n_init, "Restarts, the highest likelihood wins")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  gmm->add_option("--max-iter", gm.max_iter, "EM iterations per restart at most")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  gmm->add_option("--tol", gm.tol, "Stop when the mean log-likelihood changes by less")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  gmm->add_option("--reg-covar", gm.reg_covar, "Added to every covariance's diagonal")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  gmm->add_option("--proba", gm.proba,
                  "Write the posterior probabilities (p0..p{k-1}, then 'noise') to this file, "
                  "'-' for stdout");
  gmm->footer(
      "Example:\n"
      "  emcluster gmm data.csv -k 3 --covariance full --noise --standardize \\\n"
      "      --labels labels.csv --proba proba.csv --model gmm.json");

  SelectArgs se;
  auto* select = app.add_subcommand(
      "select", "Choose k, the covariance type and the noise component by BIC, ICL or AIC");
  add_common(select, se.c);
  select->add_option("--k", se.k, "Candidate k: a range 'a:b' or a list 'a,b,c'")
      ->capture_default_str();
  select
      ->add_option("--covariance", se.covariance,
                   "Candidate covariance types: 'all' or a list of full, tied, diagonal, "
                   "spherical")
      ->capture_default_str();
  select->add_option("--noise", se.noise, "Candidates without (off), with (on) or both")
      ->check(CLI::IsMember({"off", "on", "both"}))
      ->capture_default_str();
  select->add_option("--criterion", se.criterion, "What the best candidate minimises")
      ->check(CLI::IsMember({"bic", "icl", "aic"}))
      ->capture_default_str();
  select->add_option("--table", se.table, "Write every candidate's row as CSV to this file");
  select->footer(
      "Prints the criterion table (lower is better) on stdout; --model saves the best model.\n"
      "Example:\n"
      "  emcluster select data.csv --k 1:9 --covariance all --noise both --criterion bic \\\n"
      "      --standardize --model best.json --labels labels.csv");

  PredictArgs pr;
  auto* predict = app.add_subcommand("predict", "Labels (or probabilities) from a saved model");
  predict->add_option("model", pr.model, "A model file (kmeans, gmm or select --model)")
      ->required();
  predict->add_option("data", pr.data.path, "Data: CSV or .npy, the model's columns")->required();
  add_data_options(predict, pr.data);
  predict->add_flag("--proba", pr.proba, "Posterior probabilities instead of labels (mixtures)");
  predict->add_option("-o,--output", pr.out, "Output CSV file, '-' for stdout")
      ->capture_default_str();
  predict->footer(
      "Example:\n"
      "  emcluster predict gmm.json new.csv -o new_labels.csv\n"
      "  emcluster predict gmm.json new.csv --proba > new_proba.csv");

  PredictArgs sc;
  auto* score = app.add_subcommand(
      "score", "How well a saved model fits data (inertia, or mean log-likelihood, BIC, AIC)");
  score->add_option("model", sc.model, "A model file")->required();
  score->add_option("data", sc.data.path, "Data: CSV or .npy")->required();
  add_data_options(score, sc.data);
  score->footer("Example:\n  emcluster score gmm.json test.csv");

  SampleArgs sa;
  auto* sample = app.add_subcommand("sample", "Draw points from a saved Gaussian mixture");
  sample->add_option("model", sa.model, "A Gaussian mixture model file")->required();
  sample->add_option("-n", sa.n, "Number of points")
      ->required()
      ->check(CLI::Range(1L, 1000000000L));
  sample->add_option("--seed", sa.seed, "Seed")->capture_default_str();
  sample->add_option("-o,--output", sa.out, "Output CSV file (x0.., component), '-' for stdout")
      ->capture_default_str();
  sample->footer("Example:\n  emcluster sample gmm.json -n 1000 --seed 7 -o samples.csv");

  GenerateArgs ge;
  auto* generate = app.add_subcommand("generate", "Write a synthetic data set as CSV");
  generate->add_flag("--article", ge.article,
                     "The article's data: three elongated 2-D clusters and 30 noise points "
                     "(1830 rows at --scale 1)");
  generate->add_option("--seed", ge.seed, "Seed")->capture_default_str();
  generate->add_option("--scale", ge.scale, "Multiplies every cluster's size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  generate->add_option("-o,--output", ge.out, "Output CSV file (columns x, y), '-' for stdout")
      ->required();
  generate->add_option("--truth", ge.truth, "Also write the true labels (-1: noise) here");
  generate->footer(
      "Example:\n  emcluster generate --article --seed 42 -o data.csv --truth truth.csv");

  PlotArgs pl;
  auto* plot_cmd = app.add_subcommand("plot", "An SVG scatter plot of labelled data");
  plot_cmd->add_option("data", pl.data.path, "Data: CSV or .npy")->required();
  add_data_options(plot_cmd, pl.data);
  plot_cmd->add_option("--labels", pl.labels, "Labels CSV (one per row; -1 is noise, grey)")
      ->required();
  plot_cmd->add_option("--model", pl.model, "Draw this model's centres / means and ellipses");
  plot_cmd->add_option("-o,--output", pl.out, "Output SVG file")->required();
  plot_cmd->add_option("--title", pl.title, "Title");
  plot_cmd->footer(
      "Plots the first two columns, or the first two principal components of wider data.\n"
      "Example:\n"
      "  emcluster plot data.csv --labels labels.csv --model gmm.json -o plot.svg");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "emcluster: " << e.what() << "\n\n" << app.help();
    return 2;
  }

  try {
    if (kmeans->parsed()) return km.c.use_float ? run_kmeans<float>(km) : run_kmeans<double>(km);
    if (gmm->parsed()) return gm.c.use_float ? run_gmm<float>(gm) : run_gmm<double>(gm);
    if (select->parsed()) return se.c.use_float ? run_select<float>(se) : run_select<double>(se);
    if (predict->parsed()) return run_predict(pr);
    if (score->parsed()) return run_score(sc);
    if (sample->parsed()) return run_sample(sa);
    if (generate->parsed()) return run_generate(ge);
    if (plot_cmd->parsed()) return run_plot(pl);
  } catch (const UsageError& e) {
    std::cerr << "emcluster: " << e.what() << "\n\n" << app.help();
    return 2;
  }
  return 2;
}

}  // namespace
}  // namespace emcluster_cli
int main(int argc, char** argv) {
  try {
    return emcluster_cli::main_impl(argc, argv);
  } catch (const emcluster::data_file_error& e) {
    std::cerr << "emcluster: " << e.what() << "\n";
  } catch (const emcluster::model_file_error& e) {
    std::cerr << "emcluster: " << e.what() << "\n";
  } catch (const std::invalid_argument& e) {
    std::cerr << "emcluster: " << e.what() << "\n";
  } catch (const emcluster::numerical_error& e) {
    std::cerr << "emcluster: " << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << "emcluster: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << "emcluster: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "emcluster: unknown error\n";
  }
  return 1;
}
