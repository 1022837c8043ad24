/// @file detail/io/row_major_matrix.hpp
/// @brief emcluster::RowMajorMatrix, what the data file readers return (csv.hpp, npy.hpp).
#pragma once

#include <Eigen/Core>

namespace emcluster {

/// A row-major matrix of Scalar: what the readers return.
template <class Scalar>
using RowMajorMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace emcluster
