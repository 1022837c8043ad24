/// @file bench/peer_opencv.cpp
/// @brief Comparison worker: OpenCV cv::kmeans and (when the ml module is there) cv::ml::EM.
/// cv::kmeans cannot take initial centres; it takes initial labels (KMEANS_USE_INITIAL_LABELS),
/// so it gets the assignment of every point to the common initial centres and starts with
/// the centre update. cv::ml::EM starts from the common initial weights, means and
/// covariances (trainE, START_E_STEP). Run by emcluster_compare; see bench/worker.hpp.
#include <opencv2/core.hpp>
#if EMCLUSTER_BENCH_OPENCV_ML
#include <opencv2/ml.hpp>
#endif

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "worker.hpp"

using namespace emcluster_bench;

namespace {

int run_kmeans(const Args& a) {
  if (a.str("dtype") != "f32") throw std::invalid_argument("cv::kmeans takes float data only");
  const int n = static_cast<int>(a.num("n")), d = static_cast<int>(a.num("d")),
            k = static_cast<int>(a.num("k"));
  const long baseline = proc_status_kb("VmRSS");
  std::vector<float> X = read_raw<float>(a.str("x"), static_cast<std::size_t>(n) * d);
  const std::vector<int> L0 = read_raw<int>(a.str("labels"), static_cast<std::size_t>(n));
  const cv::Mat data(n, d, CV_32F, X.data());
  const int iters = static_cast<int>(a.num("iters"));
  cv::Mat centers;
  const auto times = time_runs(a.num("reps"), a.real("budget", 10.0), [&] {
    cv::Mat labels(n, 1, CV_32S);
    std::copy(L0.begin(), L0.end(), labels.ptr<int>());
    cv::kmeans(data, k, labels, cv::TermCriteria(cv::TermCriteria::COUNT, iters, 0), 1,
               cv::KMEANS_USE_INITIAL_LABELS, centers);
  });
  cv::Mat out;
  centers.convertTo(out, CV_64F);
  write_raw(a.str("out"), out.ptr<double>(), static_cast<std::size_t>(k) * d);
  // OpenCV does not report its iteration count: it runs `iters` unless the centres stop moving.
  print_result(times, iters, baseline, "iters_known=0");
  return 0;
}

#if EMCLUSTER_BENCH_OPENCV_ML
int run_em(const Args& a) {
  if (a.str("dtype") != "f64") throw std::invalid_argument("the EM worker reads float64 data");
  const int n = static_cast<int>(a.num("n")), d = static_cast<int>(a.num("d")),
            k = static_cast<int>(a.num("k"));
  const std::string cov = a.str("cov");
  const long baseline = proc_status_kb("VmRSS");
  std::vector<double> X = read_raw<double>(a.str("x"), static_cast<std::size_t>(n) * d);
  std::vector<double> P =
      read_raw<double>(a.str("gmm"), static_cast<std::size_t>(k) * (1 + d + d * d));
  const cv::Mat data(n, d, CV_64F, X.data());
  const cv::Mat weights0(1, k, CV_64F, P.data());
  const cv::Mat means0(k, d, CV_64F, P.data() + k);
  std::vector<cv::Mat> covs0;
  for (int j = 0; j < k; ++j) covs0.emplace_back(d, d, CV_64F, P.data() + k + k * d + j * d * d);
  const int type = cov == "full"   ? cv::ml::EM::COV_MAT_GENERIC
                   : cov == "diag" ? cv::ml::EM::COV_MAT_DIAGONAL
                                   : cv::ml::EM::COV_MAT_SPHERICAL;
  // OpenCV's loop: E-step, stop after `iters` E-steps, M-step; so iters E-steps, iters-1 M-steps.
  const int iters = static_cast<int>(a.num("iters"));
  cv::Ptr<cv::ml::EM> em;
  const auto times = time_runs(a.num("reps"), a.real("budget", 10.0), [&] {
    em = cv::ml::EM::create();
    em->setClustersNumber(k);
    em->setCovarianceMatrixType(type);
    em->setTermCriteria(cv::TermCriteria(cv::TermCriteria::COUNT, iters, 0));
    em->trainE(data, means0, covs0, weights0, cv::noArray(), cv::noArray(), cv::noArray());
  });
  std::vector<double> out;
  cv::Mat w, m;
  em->getWeights().convertTo(w, CV_64F);
  em->getMeans().convertTo(m, CV_64F);
  std::vector<cv::Mat> covs;
  em->getCovs(covs);
  for (int j = 0; j < k; ++j) out.push_back(w.at<double>(j));
  for (int j = 0; j < k; ++j) {
    for (int c = 0; c < d; ++c) out.push_back(m.at<double>(j, c));
  }
  for (int j = 0; j < k; ++j) {
    cv::Mat c;
    covs[static_cast<std::size_t>(j)].convertTo(c, CV_64F);
    for (int r = 0; r < d; ++r) {
      for (int s = 0; s < d; ++s) out.push_back(c.at<double>(r, s));
    }
  }
  write_raw(a.str("out"), out.data(), out.size());
  print_result(times, iters, baseline, "");
  return 0;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a(argc, argv, 1);
    const std::string task = a.str("task");
    if (task == "info") {
      std::printf("RESULT version=%s threads=%d ml=%d\n", CV_VERSION, cv::getNumThreads(),
                  EMCLUSTER_BENCH_OPENCV_ML);
      return 0;
    }
    if (task == "lloyd") return run_kmeans(a);
#if EMCLUSTER_BENCH_OPENCV_ML
    if (task == "gmm") return run_em(a);
#endif
    std::fprintf(stderr, "peer_opencv: unsupported task %s\n", task.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peer_opencv: %s\n", e.what());
    return 1;
  }
}
