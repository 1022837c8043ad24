// What the emcluster command's tests compare it with: the same computations through the
// library called directly, on the CSV file the command reads (tools/tests/cli_test.cmake).
//
//   emcluster_cli_reference generate DATA.csv TRUTH.csv  checks the files against
//                                                        make_article_data(42) (exit 1 if not)
//   emcluster_cli_reference kmeans DATA.csv OUT.csv      KMeans k = 3, n_init 4, seed 7
//   emcluster_cli_reference gmm DATA.csv OUT.csv PROBA.csv
//                                   Pipeline<GaussianMixture> k = 3, noise, seed 7
//   emcluster_cli_reference select DATA.csv OUT.csv      search k = 1..4, noise both, seed 3,
//                                                        on the standardized data
#include <emcluster/csv.hpp>
#include <emcluster/datasets.hpp>
#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/mixture_search.hpp>
#include <emcluster/pipeline.hpp>
#include <emcluster/preprocessing.hpp>

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s generate|kmeans|gmm|select DATA OUT [PROBA]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const auto X = emcluster::read_csv<double>(argv[2]).values;
  if (mode == "generate") {
    const auto data = emcluster::make_article_data<double>(42);
    const auto truth = emcluster::read_csv<double>(argv[3]).values;
    const bool same = X == emcluster::RowMajorMatrix<double>(data.X) &&
                      truth.col(0) == data.labels.cast<double>();
    if (!same) std::fprintf(stderr, "the generated files differ from make_article_data(42)\n");
    return same ? 0 : 1;
  }
  if (mode == "kmeans") {
    emcluster::KMeans<>::Options o;
    o.n_clusters = 3;
    o.n_init = 4;
    o.seed = 7;
    emcluster::write_csv(argv[3], emcluster::KMeans<>(o).fit_predict(X), {"label"});
    return 0;
  }
  if (mode == "gmm" && argc >= 5) {
    emcluster::GaussianMixture<>::Options o;
    o.n_components = 3;
    o.noise_component = true;
    o.seed = 7;
    emcluster::Pipeline<emcluster::GaussianMixture<>> pipe{emcluster::GaussianMixture<>(o)};
    emcluster::write_csv(argv[3], pipe.fit_predict(X), {"label"});
    emcluster::write_csv(argv[4], pipe.predict_proba(X), {"p0", "p1", "p2", "noise"});
    return 0;
  }
  if (mode == "select") {
    emcluster::GaussianMixtureSearchOptions o;
    o.n_components = {1, 2, 3, 4};
    o.noise = emcluster::NoiseSearch::both;
    o.seed = 3;
    const Eigen::MatrixXd Z = emcluster::StandardScaler<>().fit_transform(X);
    emcluster::GaussianMixtureSearch<> search(o);
    search.fit(Z);
    emcluster::write_csv(argv[3], search.best_model().predict(Z), {"label"});
    return 0;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
} catch (const std::exception& e) {
  std::fprintf(stderr, "emcluster_cli_reference: %s\n", e.what());
  return 1;
}
