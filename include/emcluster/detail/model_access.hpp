/// @file detail/model_access.hpp
/// @brief The declaration of detail::ModelAccess, the one friend every estimator grants: it
/// reads and restores the fitted state for model files (emcluster/io.hpp defines it). An
/// estimator that is never saved never sees its definition.
#pragma once

namespace emcluster::detail {

/// Reads an estimator's fitted state and restores a validated one (defined in io.hpp).
struct ModelAccess;

}  // namespace emcluster::detail
