#include "check.hpp"

#include <cstdlib>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace emcluster_test {

bool built_with_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

ThreadCount::ThreadCount(int threads) {
#ifdef _OPENMP
  saved_ = omp_get_max_threads();
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

ThreadCount::~ThreadCount() {
#ifdef _OPENMP
  omp_set_num_threads(saved_);
#endif
}

bool verbose() { return std::getenv("EMCLUSTER_TEST_VERBOSE") != nullptr; }

}  // namespace emcluster_test
