// Peak resident memory of one fit on a large float data set: VmHWM (from /proc/self/status)
// reset after the data are built, so that what is printed is the data plus what the fit
// itself adds. Linux only. docs/performance.md, "Memory", quotes its output.
//
//   peak_memory [kmeans|kmeans_lloyd|kmeans_hamerly|minibatch|mixture|scaler] [rows]
//   (default: mixture, 20000000 x 2; kmeans: KMeansAlgorithm::automatic, which is Lloyd at
//   d = 2; kmeans_lloyd / kmeans_hamerly: that algorithm forced)
#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/minibatch_kmeans.hpp>
#include <emcluster/preprocessing.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

namespace {

// VmHWM (peak resident set) of this process in bytes; -1 where /proc is not there.
long long peak_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

// Sets the peak back to the current resident set (Linux: "5" to clear_refs).
void reset_peak() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

double mib(long long bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "mixture";
  const Eigen::Index n = argc > 2 ? std::atoll(argv[2]) : 20000000;
  // Three well separated blobs, from a small LCG (no n-sized temporaries).
  Eigen::MatrixXf X(n, 2);
  std::uint64_t state = 1;
  auto uniform = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<float>(state >> 40) / 16777216.0f;
  };
  for (Eigen::Index i = 0; i < n; ++i) {
    const float cx = static_cast<float>(i % 3) * 10.0f;
    X(i, 0) = cx + uniform() + uniform() + uniform();
    X(i, 1) = -cx + uniform() + uniform() + uniform();
  }
  reset_peak();
  const long long base = peak_bytes();
  long long labels_bytes = 0;
  if (what == "kmeans" || what == "kmeans_lloyd" || what == "kmeans_hamerly") {
    emcluster::KMeans<float>::Options o;
    if (what == "kmeans_lloyd") o.algorithm = emcluster::KMeansAlgorithm::lloyd;
    if (what == "kmeans_hamerly") o.algorithm = emcluster::KMeansAlgorithm::hamerly;
    o.n_clusters = 3;
    o.n_init = 1;
    o.max_iter = 5;
    emcluster::KMeans<float> km(o);
    km.fit(X);
    labels_bytes = km.labels().size() * 4;
  } else if (what == "minibatch") {
    emcluster::MiniBatchKMeans<float>::Options o;
    o.n_clusters = 3;
    o.max_iter = 1;
    emcluster::MiniBatchKMeans<float> mbk(o);
    mbk.fit(X);
    labels_bytes = mbk.labels().size() * 4;
  } else if (what == "mixture") {
    emcluster::GaussianMixture<float>::Options o;
    o.n_components = 3;
    o.max_iter = 5;
    emcluster::GaussianMixture<float> gmm(o);
    gmm.fit(X);
  } else if (what == "scaler") {
    emcluster::StandardScaler<float> scaler;
    scaler.fit(X);
  } else {
    std::cerr << "peak_memory: unknown estimator " << what << "\n";
    return 2;
  }
  const long long peak = peak_bytes();
  const long long data = static_cast<long long>(X.size()) * 4;
  std::printf(
      "%s n=%lld d=2 float: data %.1f MiB, resident before fit %.1f MiB, peak %.1f MiB, "
      "fit added %.1f MiB = %.2f bytes/row (labels kept: %.1f MiB)\n",
      what.c_str(), static_cast<long long>(n), mib(data), mib(base), mib(peak), mib(peak - base),
      static_cast<double>(peak - base) / static_cast<double>(n), mib(labels_bytes));
  return 0;
}
