/// @file bench/peer_faiss.cpp
/// @brief Comparison worker: FAISS k-means (faiss::Clustering on an IndexFlatL2) from given
/// centroids for a fixed number of iterations, on all the data (no subsampling). float only.
/// Run by emcluster_compare; see bench/worker.hpp for the protocol.
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "worker.hpp"

using namespace emcluster_bench;

int main(int argc, char** argv) {
  try {
    const Args a(argc, argv, 1);
    if (a.str("task") == "info") {
      std::printf("RESULT blas=%s\n", loaded_blas().c_str());
      return 0;
    }
    if (a.str("task") != "lloyd" || a.str("dtype") != "f32") {
      std::fprintf(stderr, "peer_faiss: only task=lloyd dtype=f32\n");
      return 2;
    }
    const auto n = static_cast<std::size_t>(a.num("n")), d = static_cast<std::size_t>(a.num("d")),
               k = static_cast<std::size_t>(a.num("k"));
    const long baseline = proc_status_kb("VmRSS");
    const std::vector<float> X = read_raw<float>(a.str("x"), n * d);
    const std::vector<double> C0 = read_raw<double>(a.str("init"), k * d);

    faiss::ClusteringParameters cp;
    cp.niter = static_cast<int>(a.num("iters"));
    cp.nredo = 1;
    cp.verbose = false;
    cp.min_points_per_centroid = 1;
    cp.max_points_per_centroid = static_cast<int>(n / k + 1);  // never subsample: all n points
    std::vector<float> centroids;
    long iters = 0;
    const auto times = time_runs(a.num("reps"), a.real("budget", 10.0), [&] {
      faiss::Clustering clus(static_cast<int>(d), k, cp);
      clus.centroids.assign(C0.begin(), C0.end());  // the given start, as float
      faiss::IndexFlatL2 index(static_cast<faiss::Index::idx_t>(d));
      clus.train(static_cast<faiss::Index::idx_t>(n), X.data(), index);
      iters = static_cast<long>(clus.iteration_stats.size());
      centroids = clus.centroids;
    });
    const std::vector<double> out(centroids.begin(), centroids.end());
    write_raw(a.str("out"), out.data(), out.size());
    print_result(times, iters, baseline, "blas=" + loaded_blas());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peer_faiss: %s\n", e.what());
    return 1;
  }
}
