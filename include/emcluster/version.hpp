/// @file version.hpp
/// @brief emcluster's version, as macros and as constants.
#pragma once

#define EMCLUSTER_VERSION_MAJOR 0
#define EMCLUSTER_VERSION_MINOR 1
#define EMCLUSTER_VERSION_PATCH 0
/// Single number for preprocessor comparisons: major * 10000 + minor * 100 + patch.
#define EMCLUSTER_VERSION \
  (EMCLUSTER_VERSION_MAJOR * 10000 + EMCLUSTER_VERSION_MINOR * 100 + EMCLUSTER_VERSION_PATCH)

namespace emcluster {
/// The library version as "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";
}  // namespace emcluster
