// Writes the fuzzer's seed corpus: small valid model files of every estimator, scalar type,
// covariance type and noise setting (fuzz/corpus/fuzz_model_loader/), fitted on 24 points so
// that each file stays under 4 KB.
//
//   g++ -std=c++17 -O1 -I include -isystem /usr/include/eigen3 fuzz/make_model_corpus.cpp \
//     -o make_model_corpus && ./make_model_corpus fuzz/corpus/fuzz_model_loader
#include <emcluster/datasets.hpp>
#include <emcluster/io.hpp>

#include <iostream>
#include <string>

namespace {

std::string dir;

template <typename Model>
void write(const Model& m, const std::string& name) {
  emcluster::save_model(m, dir + "/" + name + ".json");
}

template <typename S>
void all(const Eigen::Matrix<S, -1, -1>& X, const std::string& s) {
  typename emcluster::KMeans<S>::Options ko;
  ko.n_clusters = 3;
  emcluster::KMeans<S> km(ko);
  write(km, "kmeans_unfitted_" + s);
  km.fit(X);
  write(km, "kmeans_" + s);
  typename emcluster::MiniBatchKMeans<S>::Options mo;
  mo.n_clusters = 3;
  mo.compute_labels = false;
  emcluster::MiniBatchKMeans<S> mb(mo);
  mb.partial_fit(X);
  write(mb, "minibatch_" + s);
  emcluster::StandardScaler<S> sc;
  sc.fit(X);
  write(sc, "scaler_" + s);
  for (auto type : {emcluster::CovarianceType::full, emcluster::CovarianceType::tied,
                    emcluster::CovarianceType::diagonal, emcluster::CovarianceType::spherical}) {
    for (bool noise : {false, true}) {
      typename emcluster::GaussianMixture<S>::Options go;
      go.n_components = 2;
      go.covariance_type = type;
      go.noise_component = noise;
      emcluster::GaussianMixture<S> g(go);
      g.fit(X);
      write(g, std::string("gmm_") + emcluster::detail::covariance_type_name(type) +
                   (noise ? "_noise_" : "_") + s);
    }
  }
  emcluster::Pipeline<emcluster::GaussianMixture<S>> pipe;
  pipe.fit(X);
  write(pipe, "pipeline_gmm_" + s);
  emcluster::Pipeline<emcluster::KMeans<S>> kpipe{emcluster::KMeans<S>(ko)};
  kpipe.fit(X);
  write(kpipe, "pipeline_kmeans_" + s);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_model_corpus DIR\n";
    return 2;
  }
  dir = argv[1];
  const auto data = emcluster::make_clusters_with_noise<double>(
      {7, 7, 7}, {Eigen::Vector2d(0, 0), Eigen::Vector2d(5, 5), Eigen::Vector2d(0, 6)},
      {Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 2), Eigen::Vector2d(2, 1)},
      Eigen::Vector2d(-4, -4), Eigen::Vector2d(9, 10), 3, 42);
  all<double>(data.X, "f64");
  all<float>(data.X.cast<float>(), "f32");
}
