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
//   emcluster_cli_reference save-model DATA.csv OUT.json KMeans k = 3 saved by save_model
//   emcluster_cli_reference write-npy DATA.csv OUT.npy   the CSV's values as NPY (write_npy)
//   emcluster_cli_reference raw-log-likelihood M.json DATA.csv
//       the mean log-density of DATA (its columns by the model's names) under the standardized
//       mixture M, computed directly from the parameters mapped to the data's units (means
//       m + s * mu, covariances S Sigma S, the noise box's volume times prod s)
#include <emcluster/csv.hpp>
#include <emcluster/datasets.hpp>
#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/io.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/mixture_search.hpp>
#include <emcluster/pipeline.hpp>
#include <emcluster/preprocessing.hpp>

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODE ARGS (see the file's description)\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  if (mode == "raw-log-likelihood") {
    using Pipe = emcluster::Pipeline<emcluster::GaussianMixture<>>;
    const auto pipe = emcluster::load_model<Pipe>(argv[2]);
    emcluster::CsvReadOptions o;
    o.columns = emcluster::read_model_info(argv[2]).feature_names;
    const Eigen::MatrixXd X = emcluster::read_csv<double>(argv[3], o).values;
    const auto& m = pipe.model();
    const Eigen::VectorXd mean = pipe.scaler().mean(), s = pipe.scaler().scale();
    const Eigen::Index d = X.cols(), k = m.n_components();
    double total = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      std::vector<double> terms;
      for (Eigen::Index j = 0; j < k; ++j) {
        const Eigen::VectorXd mu = mean + s.cwiseProduct(m.means().row(j).transpose());
        const Eigen::MatrixXd cov = s.asDiagonal() * m.covariance(j) * s.asDiagonal();
        const Eigen::LLT<Eigen::MatrixXd> llt(cov);
        const Eigen::VectorXd z = llt.matrixL().solve(X.row(i).transpose() - mu);
        const double log_det = 2 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
        terms.push_back(std::log(m.weights()(j)) - 0.5 * (d * std::log(2 * 3.14159265358979323846) +
                                                          log_det + z.squaredNorm()));
      }
      if (m.options().noise_component) {
        const double log_volume =
            ((m.noise_high() - m.noise_low()).cwiseProduct(s)).array().log().sum();
        terms.push_back(std::log(m.noise_weight()) - log_volume);
      }
      double top = terms[0];
      for (double t : terms) top = std::max(top, t);
      double sum = 0;
      for (double t : terms) sum += std::exp(t - top);
      total += top + std::log(sum);
    }
    std::printf("%.17g\n", total / static_cast<double>(X.rows()));
    return 0;
  }
  const auto X = emcluster::read_csv<double>(argv[2]).values;
  if (mode == "save-model") {
    emcluster::KMeans<>::Options o;
    o.n_clusters = 3;
    emcluster::KMeans<> km(o);
    km.fit(X);
    emcluster::save_model(km, argv[3]);
    return 0;
  }
  if (mode == "write-npy") {
    emcluster::write_npy(argv[3], X);
    return 0;
  }
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
