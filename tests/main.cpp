// Catch2's main lives alone in its own translation unit so that editing a test file does
// not recompile the runner.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
