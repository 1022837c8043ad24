// Small helpers any test may use: exception messages, the OpenMP thread count, verbosity.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <string>

namespace emcluster_test {

/// Checks that f throws Exception and that its message mentions `needle`.
template <typename Exception>
void require_throw_with(const std::function<void()>& f, const std::string& needle) {
  INFO("expected a message mentioning '" << needle << "'");
  try {
    f();
    FAIL("no exception thrown");
  } catch (const Exception& e) {
    INFO("message: " << e.what());
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
  }
}

/// Whether the tests were built with OpenMP (else thread counts cannot be varied).
bool built_with_openmp();

/// Runs the code in its scope on `threads` OpenMP threads (omp_set_num_threads) and restores
/// the previous count when it ends, also on an exception. Does nothing without OpenMP.
class ThreadCount {
 public:
  explicit ThreadCount(int threads);
  ~ThreadCount();
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_ = 1;
};

/// Whether EMCLUSTER_TEST_VERBOSE is set: tests then print the numbers behind their checks.
bool verbose();

}  // namespace emcluster_test
