// A program outside emcluster's build that uses the model files through the installed
// package's io component: a K-means saved and loaded gives the same predictions, and a bad
// file is refused with its JSON path. Returns non-zero when anything is off.
#include <emcluster/io.hpp>
#include <emcluster/kmeans.hpp>

#include <Eigen/Core>

#include <cstdio>
#include <sstream>
#include <string>

int main() {
  Eigen::MatrixXd X(6, 2);
  X << 0, 0, 0, 1, 1, 0, 10, 10, 10, 11, 11, 10;
  emcluster::KMeans<>::Options options;
  options.n_clusters = 2;
  emcluster::KMeans<> kmeans(options);
  kmeans.fit(X);

  std::stringstream file;
  emcluster::save_model(kmeans, file);
  const std::string text = file.str();
  emcluster::KMeans<> loaded;
  emcluster::load_model(loaded, file);
  if (loaded.predict(X) != kmeans.predict(X) || loaded.inertia() != kmeans.inertia()) {
    std::fprintf(stderr, "FAILED: the loaded model differs\n");
    return 1;
  }
  std::istringstream broken(text.substr(0, text.find("\"state\"")) + "\"state\":{}}");
  try {
    emcluster::load_model(loaded, broken);
    std::fprintf(stderr, "FAILED: a broken file was loaded\n");
    return 1;
  } catch (const emcluster::model_file_error& e) {
    if (e.json_path() != "/state/n_features") {
      std::fprintf(stderr, "FAILED: unexpected error %s\n", e.what());
      return 1;
    }
  }
  std::printf("emcluster %s io consumer: KMeans saved (%zu bytes) and loaded: OK\n",
              emcluster::version_string, text.size());
  return 0;
}
