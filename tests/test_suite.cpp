// The test suite itself: every test case can be run alone, by name, from CTest.
#include <catch2/catch.hpp>

#include <set>
#include <string>

TEST_CASE("The test suite: every test case name survives CTest discovery", "[suite]") {
  // catch_discover_tests turns each name into a CTest name: CMake splits lists at ';', so a
  // name containing one would become two tests that match nothing. Names must also be unique
  // and not start or end with a space, '*' or '~' (test-spec syntax).
  const auto& tests = Catch::getRegistryHub().getTestCaseRegistry().getAllTests();
  REQUIRE(tests.size() > 1);
  std::set<std::string> seen;
  for (const auto& t : tests) {
    const std::string& name = t.getTestCaseInfo().name;
    INFO(name);
    CHECK(name.find(';') == std::string::npos);
    CHECK(name.find_first_of(" *~") != 0);
    CHECK(name.find_last_of(" *") != name.size() - 1);
    CHECK(seen.insert(name).second);
  }
}
