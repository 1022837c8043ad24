// Helpers shared by the test translation units.
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

}  // namespace emcluster_test
