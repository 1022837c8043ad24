// The emcluster command: K-means, Gaussian mixtures and model selection on a CSV or .npy
// file, predictions from saved models, sampling, the article's data, and plots, without
// writing C++. `emcluster --help` and `emcluster SUBCOMMAND --help` describe each; README.md
// ("Command line") has the manual.
//
// Exit status: 0 on success; 2 on a usage error (its line, then where the help is), before any
// work; 1 on any other error (a data file's error as file:line:column: what was expected).
// Every exception is caught here: never a crash or a stack trace.
#include <emcluster/exceptions.hpp>
#include <emcluster/version.hpp>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "commands.hpp"
#include "output.hpp"

namespace emcluster_cli {
namespace {

// ---- Option values, with messages that say what was expected ---------------------------------

/// An integer in [lo, hi].
CLI::Validator integer_in(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        const std::string range = "from " + std::to_string(lo) + " to " + std::to_string(hi);
        const std::size_t start = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
        if (s.size() == start || s.find_first_not_of("0123456789", start) != std::string::npos) {
          return "expected an integer " + range + ", got '" + s + "'";
        }
        errno = 0;
        const long long v = std::strtoll(s.c_str(), nullptr, 10);
        if (errno == ERANGE || v < lo || v > hi) {
          return "expected an integer " + range + ", got " + s;
        }
        return "";
      },
      "INT " + std::to_string(lo) + ".." + std::to_string(hi));
}

/// A finite number >= lo (or > lo when strict).
CLI::Validator number_above(double lo, bool strict) {
  const std::string bound = std::string(strict ? "> " : ">= ") + g(lo);
  return CLI::Validator(
      [lo, strict, bound](std::string& s) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || errno == ERANGE) {
          return "expected a number " + bound + ", got '" + s + "'";
        }
        if (strict ? !(v > lo) : !(v >= lo)) return "expected a number " + bound + ", got " + s;
        return "";
      },
      "NUMBER " + bound);
}

/// A seed: an integer from 0 to 2^64 - 1.
CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        const std::string expected =
            "expected an integer from 0 to 18446744073709551615 (2^64 - 1)";
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
          return expected + ", got '" + s + "'";
        }
        errno = 0;
        (void)std::strtoull(s.c_str(), nullptr, 10);
        if (errno == ERANGE) return expected + ", got " + s;
        return "";
      },
      "INT 0..2^64-1");
}

/// A file name: not empty ("-" where the option says so).
CLI::Validator file_name() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        return s.empty() ? "expected a file name, got an empty string" : "";
      },
      "FILE");
}

void add_quiet(CLI::App* app, bool& quiet) {
  app->add_flag("-q,--quiet", quiet, "No progress, notes or summary on stderr");
}

void add_common(CLI::App* app, Common& c, bool labels_and_model = true) {
  app->add_option("data", c.data.path,
                  "Data: a CSV file, or a NumPy .npy file (float or integer); '-' reads "
                  "standard input")
      ->required()
      ->check(file_name());
  add_data_options(app, c.data);
  app->add_flag("--standardize", c.standardize,
                "Standardize every column (zero mean, unit variance) before clustering; the "
                "saved model then does it too, on raw data");
  app->add_option("--seed", c.seed, "Seed of every random choice")
      ->check(seed_value())
      ->capture_default_str();
  if (labels_and_model) {
    app->add_option("--labels", c.labels,
                    "Write the labels (one per row, CSV with a 'label' header) to this file, "
                    "'-' for stdout (the default when neither --labels nor --model is given)")
        ->check(file_name());
    app->add_option("--model", c.model,
                    "Save the fitted model (with the data's column names) to this JSON file")
        ->check(file_name());
  }
  app->add_flag("--float", c.use_float, "Compute in float32 instead of float64");
  add_quiet(app, c.quiet);
}

/// The subcommand named on the command line (for the pointer to its help), or "".
std::string subcommand_of(int argc, char** argv, const CLI::App& app) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    for (const CLI::App* sub : app.get_subcommands({})) {
      if (sub->get_name() == a) return a;
    }
  }
  return "";
}

int usage_error(const std::string& sub, const std::string& what) {
  const std::string cmd = "emcluster" + (sub.empty() ? std::string() : " " + sub);
  std::cerr << cmd << ": " << what << "\nRun '" << cmd << " --help' for its options.\n";
  return 2;
}

// ---- The command line -----------------------------------------------------------------------

int main_impl(int argc, char** argv) {
  CLI::App app{"emcluster " + std::string(emcluster::version_string) +
                   ": K-means and Gaussian mixture clustering of CSV and .npy files",
               "emcluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(emcluster::version_string));
  app.footer(
      "No output replaces an input or another output, and every file is written whole or not at\n"
      "all (README.md, 'Command line').\n"
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
      ->check(integer_in(1, 1000000));
  kmeans->add_option("--n-init", km.n_init, "Restarts, the lowest inertia wins (0 = auto)")
      ->check(integer_in(0, 100000))
      ->capture_default_str();
  kmeans->add_option("--max-iter", km.max_iter, "Iterations per restart at most")
      ->check(integer_in(1, 100000000))
      ->capture_default_str();
  kmeans->add_option("--tol", km.tol, "Convergence tolerance (relative to the data's variance)")
      ->check(number_above(0, false))
      ->capture_default_str();
  kmeans->add_flag("--save-training-labels", km.save_training_labels,
                   "Keep the label of every training row in the --model file (left out by "
                   "default: n integers that predict does not need)");
  kmeans->footer(
      "Example:\n"
      "  emcluster kmeans data.csv -k 3 --standardize --n-init 10 --seed 1 \\\n"
      "      --labels labels.csv --model kmeans.json");

  GmmArgs gm;
  auto* gmm = app.add_subcommand("gmm", "Gaussian mixture (EM), optionally with a noise component");
  add_common(gmm, gm.c);
  gmm->add_option("-k,--components", gm.k, "Number of Gaussian components")
      ->required()
      ->check(integer_in(1, 100000));
  gmm->add_option("--covariance", gm.covariance, "Covariance type")
      ->check(CLI::IsMember({"full", "tied", "diagonal", "spherical"}))
      ->capture_default_str();
  gmm->add_flag("--noise", gm.noise, "Add a uniform background component (label -1)");
  gmm->add_option("--n-init", gm.n_init, "Restarts, the highest likelihood wins")
      ->check(integer_in(1, 100000))
      ->capture_default_str();
  gmm->add_option("--max-iter", gm.max_iter, "EM iterations per restart at most")
      ->check(integer_in(1, 100000000))
      ->capture_default_str();
  gmm->add_option("--tol", gm.tol, "Stop when the mean log-likelihood changes by less")
      ->check(number_above(0, false))
      ->capture_default_str();
  gmm->add_option("--reg-covar", gm.reg_covar, "Added to every covariance's diagonal")
      ->check(number_above(0, false))
      ->capture_default_str();
  gmm->add_option("--proba", gm.proba,
                  "Write the posterior probabilities (p0..p{k-1}, then 'noise') to this file, "
                  "'-' for stdout")
      ->check(file_name());
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
  select->add_option("--table", se.table, "Write every candidate's row as CSV to this file")
      ->check(file_name());
  select->footer(
      "Prints the criterion table (lower is better) on stdout (on stderr when --labels is '-');\n"
      "--model saves the best model.\n"
      "Example:\n"
      "  emcluster select data.csv --k 1:9 --covariance all --noise both --criterion bic \\\n"
      "      --standardize --model best.json --labels labels.csv");

  PredictArgs pr;
  auto* predict = app.add_subcommand("predict", "Labels (or probabilities) from a saved model");
  predict->add_option("model", pr.model, "A model file (kmeans, gmm or select --model)")
      ->required()
      ->check(file_name());
  predict
      ->add_option("data", pr.data.path,
                   "Data: CSV or .npy ('-': standard input); the model's columns are selected by "
                   "name from a CSV with a header")
      ->required()
      ->check(file_name());
  add_data_options(predict, pr.data);
  predict->add_flag("--proba", pr.proba, "Posterior probabilities instead of labels (mixtures)");
  predict->add_option("-o,--output", pr.out, "Output CSV file, '-' for stdout")
      ->check(file_name())
      ->capture_default_str();
  add_quiet(predict, pr.quiet);
  predict->footer(
      "Example:\n"
      "  emcluster predict gmm.json new.csv -o new_labels.csv\n"
      "  emcluster predict gmm.json new.csv --proba > new_proba.csv");

  PredictArgs sc;
  auto* score = app.add_subcommand(
      "score", "How well a saved model fits data (inertia, or mean log-likelihood, BIC, AIC)");
  score->add_option("model", sc.model, "A model file")->required()->check(file_name());
  score->add_option("data", sc.data.path, "Data: CSV or .npy ('-': standard input)")
      ->required()
      ->check(file_name());
  add_data_options(score, sc.data);
  add_quiet(score, sc.quiet);
  score->footer(
      "A mixture fitted with --standardize is scored in the data's units (its density of the raw\n"
      "data), with the standardized value beside it.\n"
      "Example:\n  emcluster score gmm.json test.csv");

  SampleArgs sa;
  auto* sample = app.add_subcommand("sample", "Draw points from a saved Gaussian mixture");
  sample->add_option("model", sa.model, "A Gaussian mixture model file")
      ->required()
      ->check(file_name());
  sample->add_option("-n", sa.n, "Number of points")->required()->check(integer_in(1, 1000000000));
  sample->add_option("--seed", sa.seed, "Seed")->check(seed_value())->capture_default_str();
  sample->add_option("-o,--output", sa.out, "Output CSV file (x0.., component), '-' for stdout")
      ->check(file_name())
      ->capture_default_str();
  sample->footer("Example:\n  emcluster sample gmm.json -n 1000 --seed 7 -o samples.csv");

  GenerateArgs ge;
  auto* generate = app.add_subcommand("generate", "Write a synthetic data set as CSV");
  generate->add_flag("--article", ge.article,
                     "The article's data: three elongated 2-D clusters and 30 noise points "
                     "(1830 rows at --scale 1)");
  generate->add_option("--seed", ge.seed, "Seed")->check(seed_value())->capture_default_str();
  generate->add_option("--scale", ge.scale, "Multiplies every cluster's size")
      ->check(number_above(0, true))
      ->capture_default_str();
  generate->add_option("-o,--output", ge.out, "Output CSV file (columns x, y), '-' for stdout")
      ->required()
      ->check(file_name());
  generate->add_option("--truth", ge.truth, "Also write the true labels (-1: noise) here")
      ->check(file_name());
  generate->footer(
      "Example:\n  emcluster generate --article --seed 42 -o data.csv --truth truth.csv");

  PlotArgs pl;
  auto* plot_cmd = app.add_subcommand("plot", "An SVG scatter plot of labelled data");
  plot_cmd->add_option("data", pl.data.path, "Data: CSV or .npy ('-': standard input)")
      ->required()
      ->check(file_name());
  add_data_options(plot_cmd, pl.data);
  plot_cmd->add_option("--labels", pl.labels, "Labels CSV (one per row; -1 is noise, grey)")
      ->required()
      ->check(file_name());
  plot_cmd
      ->add_option("--model", pl.model,
                   "Draw this model's centres / means and ellipses (its columns are selected by "
                   "name)")
      ->check(file_name());
  plot_cmd->add_option("-o,--output", pl.out, "Output SVG file")->required()->check(file_name());
  plot_cmd->add_option("--title", pl.title, "Title");
  plot_cmd
      ->add_option("--max-points", pl.max_points,
                   "Draw at most this many points: a uniform random subset (the same every run) "
                   "of larger data (0 = all)")
      ->check(integer_in(0, 100000000))
      ->capture_default_str();
  plot_cmd->add_flag("--equal-axes", pl.equal_axes,
                     "One scale for both axes (default: each axis scaled to the data)");
  add_quiet(plot_cmd, pl.quiet);
  plot_cmd->footer(
      "Plots the first two columns, or the first two principal components of wider data.\n"
      "Example:\n"
      "  emcluster plot data.csv --labels labels.csv --model gmm.json -o plot.svg");

  const std::string sub = subcommand_of(argc, argv, app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(sub, e.what());
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
    return usage_error(sub, e.what());
  }
  return 2;
}

/// A library message without the C++ names a command user never wrote ("GaussianMixture<
/// double>::fit: ", "Options::"), with the command's option names for the library's.
std::string plain(std::string m) {
  // A leading "Name<...>::function: " or "emcluster::function: ".
  const std::size_t colon = m.find(": ");
  if (colon != std::string::npos && colon < 60) {
    const std::string head = m.substr(0, colon);
    if (head.find("::") != std::string::npos && head.find(' ') == std::string::npos) {
      m = m.substr(colon + 2);
    }
  }
  const std::pair<const char*, const char*> names[] = {
      {"Options::noise_low and noise_high", "a noise box (not available from the command)"},
      {"reg_covar", "--reg-covar"},
      {"n_components", "-k"},
      {"n_clusters", "-k"},
      {"max_iter", "--max-iter"},
  };
  for (const auto& [from, to] : names) {
    for (std::size_t at = m.find(from); at != std::string::npos; at = m.find(from, at)) {
      m.replace(at, std::strlen(from), to);
      at += std::strlen(to);
    }
  }
  return m;
}

}  // namespace
}  // namespace emcluster_cli

int main(int argc, char** argv) {
  emcluster_cli::guard_standard_streams();
  try {
    return emcluster_cli::main_impl(argc, argv);
  } catch (const emcluster::data_file_error& e) {
    std::cerr << "emcluster: " << e.what() << "\n";
  } catch (const emcluster::model_file_error& e) {
    std::cerr << "emcluster: " << emcluster_cli::plain(e.what()) << "\n";
  } catch (const std::invalid_argument& e) {
    std::cerr << "emcluster: " << emcluster_cli::plain(e.what()) << "\n";
  } catch (const emcluster::numerical_error& e) {
    std::cerr << "emcluster: " << emcluster_cli::plain(e.what()) << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << "emcluster: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << "emcluster: " << emcluster_cli::plain(e.what()) << "\n";
  } catch (...) {
    std::cerr << "emcluster: unknown error\n";
  }
  return 1;
}
