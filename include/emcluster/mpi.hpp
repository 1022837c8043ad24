/// @file mpi.hpp
/// @brief Distributed fitting over MPI: every process (rank) passes its own rows and an
/// MPI communicator, and every rank ends with the same fitted model and the labels of its
/// own rows. The only emcluster header that includes <mpi.h>; link `emcluster::mpi` (CMake:
/// `find_package(emcluster CONFIG COMPONENTS mpi)`).
///
/// The estimators are the ones of the rest of the library, fitted by the same code: an
/// iteration accumulates its sufficient statistics over the rows of each rank (in parallel
/// over the rank's threads, combined in chunk order) and the ranks' statistics are summed
/// by one reduction (detail::Reducer, here MpiReducer). Draws (k-means++, restarts,
/// subsamples) use the same seed on every rank and pick global rows, whose owner shares
/// them. Every decision (convergence, the winner of the restarts, a relocated empty
/// cluster) is taken on the same bits everywhere, so the ranks stay in step.
///
/// @code
/// MPI_Init(&argc, &argv);
/// Eigen::MatrixXd X = read_my_rows();               // this rank's rows (any Eigen expression)
/// emcluster::KMeans<>::Options opts;
/// opts.n_clusters = 8;
/// emcluster::KMeans<> km(opts);
/// emcluster::mpi::fit(km, X, MPI_COMM_WORLD);       // collective: every rank calls it
/// Eigen::MatrixXd C = km.cluster_centers();        // the same on every rank
/// Eigen::VectorXi y = km.labels();                 // labels of this rank's rows
/// MPI_Finalize();
/// @endcode
///
/// Rules: every rank calls the same functions in the same order with the same options and
/// the same number of columns; a rank may hold zero rows. Bad input on any rank (a NaN in
/// its rows, a negative weight) makes every rank throw the same exception (the message of
/// the lowest failing rank, which it names), so no rank is left waiting in a collective.
/// Failures inside an iteration that can differ between ranks (out of memory) are not
/// agreed on and leave the others waiting: MPI's error handler then decides.
///
/// Determinism: for a given number of ranks and rows per rank the result is the same bits
/// on every run and for any thread count: each rank's statistics are added in chunk order,
/// the ranks' sums are formed once by MPI_Reduce on rank 0 and broadcast (so every rank has
/// the same bits; MPI_Allreduce does not promise that), and Open MPI chooses its reduction
/// order from the rank count and message size only. Against one process on the
/// concatenated rows the results agree to rounding (about 1e-15 relative per iteration), not
/// bit for bit: one process adds its rows in chunks of its own, the ranks in chunks of
/// theirs and then across ranks, and floating-point addition is not associative.
#pragma once

// The C API only: Open MPI's deprecated C++ bindings warn under -Wextra.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <Eigen/Core>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/reducer.hpp"
#include "detail/validation.hpp"
#include "exceptions.hpp"
#include "gaussian_mixture.hpp"
#include "kmeans.hpp"
#include "kmeans_search.hpp"
#include "mixture_search.hpp"
#include "npy.hpp"
#include "preprocessing.hpp"

namespace emcluster {

namespace mpi {

/// Collective traffic of one fit as seen by one rank: the collectives it took part in and
/// the payload bytes it contributed to them (what a reduction or gather carries per rank;
/// the bytes on the wire depend on MPI's algorithm, about twice that for reduce + broadcast).
struct Traffic {
  long long collectives = 0;  ///< collective calls (reduce + broadcast counts as one)
  long long bytes = 0;        ///< payload bytes this rank contributed
};

/// The reducer of a fit across the ranks of an MPI communicator (see detail/reducer.hpp for
/// the concept). Sums are reduced on rank 0 and broadcast, so that every rank receives the
/// same bits; maxima and minima are exact in any order (MPI_Allreduce).
class MpiReducer {
 public:
  static constexpr bool kDistributed = true;

  /// A reducer over comm for a rank holding `local_rows` rows (collective: learns every
  /// rank's count). Counts collectives and payload bytes into *traffic when given.
  MpiReducer(MPI_Comm comm, Eigen::Index local_rows, Traffic* traffic = nullptr)
      : comm_(comm), traffic_(traffic), local_rows_(local_rows) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    std::vector<long long> counts(static_cast<std::size_t>(size_));
    long long mine = static_cast<long long>(local_rows);
    MPI_Allgather(&mine, 1, MPI_LONG_LONG, counts.data(), 1, MPI_LONG_LONG, comm_);
    count(sizeof(long long));
    for (int q = 0; q < size_; ++q) {
      if (q < rank_) offset_ += static_cast<Eigen::Index>(counts[std::size_t(q)]);
      total_ += static_cast<Eigen::Index>(counts[std::size_t(q)]);
    }
  }

  int rank() const { return rank_; }
  int size() const { return size_; }
  Eigen::Index local_rows() const { return local_rows_; }
  Eigen::Index row_offset() const { return offset_; }
  Eigen::Index total_rows() const { return total_; }
  MPI_Comm comm() const { return comm_; }

  /// v <- the elementwise sum over the ranks (reduced on rank 0, then broadcast).
  void sum(double* v, std::size_t n) const {
    for (std::size_t at = 0; at < n; at += kMaxCount) {
      const int c = static_cast<int>(std::min(kMaxCount, n - at));
      if (rank_ == 0) {
        MPI_Reduce(MPI_IN_PLACE, v + at, c, MPI_DOUBLE, MPI_SUM, 0, comm_);
      } else {
        MPI_Reduce(v + at, nullptr, c, MPI_DOUBLE, MPI_SUM, 0, comm_);
      }
      MPI_Bcast(v + at, c, MPI_DOUBLE, 0, comm_);
    }
    count(n * sizeof(double));
  }
  /// v <- the elementwise maximum over the ranks.
  void max(double* v, std::size_t n) const { all_reduce(v, n, MPI_MAX); }
  /// v <- the elementwise minimum over the ranks.
  void min(double* v, std::size_t n) const { all_reduce(v, n, MPI_MIN); }

  /// Every rank's v (any lengths), concatenated in rank order.
  std::vector<double> all_gather(std::vector<double> v) const {
    int mine = static_cast<int>(v.size());
    std::vector<int> counts(static_cast<std::size_t>(size_)), displs(counts.size());
    MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_);
    int total = 0;
    for (std::size_t q = 0; q < counts.size(); ++q) {
      displs[q] = total;
      total += counts[q];
    }
    std::vector<double> all(static_cast<std::size_t>(total));
    MPI_Allgatherv(v.data(), mine, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE,
                   comm_);
    count(sizeof(int) + v.size() * sizeof(double));
    return all;
  }

  /// Collective: when e is set on any rank, every rank throws the same exception: the type
  /// and message of the lowest failing rank, with " (MPI rank r of p)" appended.
  void agree(std::exception_ptr e) const {
    int mine = e ? rank_ : size_, first = size_;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm_);
    count(sizeof(int));
    if (first == size_) return;
    int kind = 0;
    std::string what, file;
    std::uint64_t offset = 0;
    if (rank_ == first) {
      try {
        std::rethrow_exception(e);
      } catch (const data_file_error& x) {
        // Rebuilt field by field: the file, the byte offset and the message.
        kind = 6, what = x.message();
        file = x.path();
        offset = x.byte_offset();
      } catch (const std::invalid_argument& x) {
        kind = 1, what = x.what();
      } catch (const not_fitted_error& x) {
        kind = 2, what = x.what();
      } catch (const std::logic_error& x) {
        kind = 3, what = x.what();
      } catch (const numerical_error& x) {
        kind = 4, what = x.what();
      } catch (const std::exception& x) {
        kind = 5, what = x.what();
      } catch (...) {
        kind = 5, what = "unknown exception";
      }
    }
    int head[3] = {kind, static_cast<int>(what.size()), static_cast<int>(file.size())};
    MPI_Bcast(head, 3, MPI_INT, first, comm_);
    what.resize(static_cast<std::size_t>(head[1]));
    file.resize(static_cast<std::size_t>(head[2]));
    MPI_Bcast(&what[0], head[1], MPI_CHAR, first, comm_);
    MPI_Bcast(&file[0], head[2], MPI_CHAR, first, comm_);
    MPI_Bcast(&offset, 1, MPI_UINT64_T, first, comm_);
    what += " (MPI rank " + std::to_string(first) + " of " + std::to_string(size_) + ")";
    switch (head[0]) {
      case 6:
        if (offset == data_file_error::no_offset) throw data_file_error::at_file(file, what);
        throw data_file_error::at_byte(file, offset, what);
      case 1:
        throw std::invalid_argument(what);
      case 2:
        throw not_fitted_error(what);
      case 3:
        throw std::logic_error(what);
      case 4:
        throw numerical_error(what);
      default:
        throw std::runtime_error(what);
    }
  }

 private:
  static constexpr std::size_t kMaxCount = std::size_t(1) << 28;  // per MPI call (int counts)

  void all_reduce(double* v, std::size_t n, MPI_Op op) const {
    for (std::size_t at = 0; at < n; at += kMaxCount) {
      const int c = static_cast<int>(std::min(kMaxCount, n - at));
      MPI_Allreduce(MPI_IN_PLACE, v + at, c, MPI_DOUBLE, op, comm_);
    }
    count(n * sizeof(double));
  }
  void count(std::size_t bytes) const {
    if (!traffic_) return;
    traffic_->collectives += 1;
    traffic_->bytes += static_cast<long long>(bytes);
  }

  MPI_Comm comm_;
  Traffic* traffic_;
  Eigen::Index local_rows_;
  int rank_ = 0, size_ = 1;
  Eigen::Index offset_ = 0, total_ = 0;
};

}  // namespace mpi

namespace detail {

/// Sample weights of one rank for a distributed fit, in double, checked on every rank (the
/// count against the rank's rows, finite, non-negative, a positive total over all ranks) and
/// divided by 2^e as the single-process fit divides them (e in *weight_exp).
template <typename WDerived>
Eigen::VectorXd shard_weights(const char* where, const Eigen::MatrixBase<WDerived>& sample_weight,
                              Eigen::Index n, const mpi::MpiReducer& reducer, int* weight_exp) {
  agreed(reducer, [&] {
    if (sample_weight.size() != n) {
      fail(where, "sample_weight has ", sample_weight.size(), " entries but X has ", n,
           " rows on this rank");
    }
  });
  Eigen::VectorXd w = sample_weight.template cast<double>();
  *weight_exp = check_shard_weights(where, w, reducer);
  return w;
}

/// A rank's weights for the fits: never nullptr (which means "no weights"), also on a rank
/// without rows, so that every rank takes the weighted path.
inline const double* weights_pointer(const Eigen::VectorXd& w) {
  static const double none = 0.0;
  return w.size() > 0 ? w.data() : &none;
}

/// The distributed fit of any estimator befriending FitAccess, without weights or with them.
template <typename Model, typename Derived>
Model& fit_on_ranks(Model& model, const Eigen::MatrixBase<Derived>& X, MPI_Comm comm,
                    mpi::Traffic* traffic) {
  const mpi::MpiReducer reducer(comm, X.rows(), traffic);
  return FitAccess::fit(model, X, nullptr, 0, reducer);
}
template <typename Model, typename Derived, typename WDerived>
Model& fit_on_ranks(Model& model, const char* where, const Eigen::MatrixBase<Derived>& X,
                    const Eigen::MatrixBase<WDerived>& sample_weight, MPI_Comm comm,
                    mpi::Traffic* traffic) {
  const mpi::MpiReducer reducer(comm, X.rows(), traffic);
  int weight_exp = 0;
  const Eigen::VectorXd w = shard_weights(where, sample_weight, X.rows(), reducer, &weight_exp);
  return FitAccess::fit(model, X, weights_pointer(w), weight_exp, reducer);
}

}  // namespace detail

namespace mpi {

/// Fits `model` on the rows of every rank of `comm` (collective: every rank calls it with
/// its own rows X, n_r x d, and the same options). Every rank ends with the same centres,
/// inertia (of all rows) and iteration count; labels() holds the labels of this rank's rows.
/// Seeding (every KMeansInit), restarts, the auto n_init subsample, the tolerance and the
/// relocation of empty clusters are global. traffic, when given, receives this rank's
/// collective traffic.
/// @code
/// emcluster::KMeans<> km(opts);
/// emcluster::mpi::fit(km, X_local, MPI_COMM_WORLD);
/// @endcode
template <typename Scalar, typename Derived>
KMeans<Scalar>& fit(KMeans<Scalar>& model, const Eigen::MatrixBase<Derived>& X, MPI_Comm comm,
                    Traffic* traffic = nullptr) {
  static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                "emcluster::mpi::fit: X must have the model's scalar type");
  return detail::fit_on_ranks(model, X, comm, traffic);
}

/// fit with a non-negative weight per row of this rank (a positive total over all ranks).
/// @code
/// emcluster::mpi::fit(km, X_local, w_local, MPI_COMM_WORLD);
/// @endcode
template <typename Scalar, typename Derived, typename WDerived>
KMeans<Scalar>& fit(KMeans<Scalar>& model, const Eigen::MatrixBase<Derived>& X,
                    const Eigen::MatrixBase<WDerived>& sample_weight, MPI_Comm comm,
                    Traffic* traffic = nullptr) {
  static_assert(std::is_same<typename Derived::Scalar, Scalar>::value,
                "emcluster::mpi::fit: X must have the model's scalar type");
  return detail::fit_on_ranks(model, "KMeans::fit", X, sample_weight, comm, traffic);
}

/// Fits a Gaussian mixture on the rows of every rank of `comm` (collective, same options on
/// every rank): every covariance type, the noise component (its box, unless given, from the
/// global per-column minima and maxima), restarts and warm starts. Every rank ends with the
/// same parameters and lower bound; predict(X_local) labels this rank's rows. The inits
/// kmeans (a distributed KMeans), kmeans_plus_plus, random_points and explicit_parameters
/// are offered; random_responsibilities is not (std::invalid_argument).
/// @code
/// emcluster::GaussianMixture<> gm(opts);
/// emcluster::mpi::fit(gm, X_local, MPI_COMM_WORLD);
/// Eigen::VectorXi y = gm.predict(X_local);
/// @endcode
template <typename Scalar, typename Derived>
GaussianMixture<Scalar>& fit(GaussianMixture<Scalar>& model, const Eigen::MatrixBase<Derived>& X,
                             MPI_Comm comm, Traffic* traffic = nullptr) {
  return detail::fit_on_ranks(model, X, comm, traffic);
}

/// The Gaussian mixture fit with a non-negative weight per row of this rank.
/// @code
/// emcluster::mpi::fit(gm, X_local, w_local, MPI_COMM_WORLD);
/// @endcode
template <typename Scalar, typename Derived, typename WDerived>
GaussianMixture<Scalar>& fit(GaussianMixture<Scalar>& model, const Eigen::MatrixBase<Derived>& X,
                             const Eigen::MatrixBase<WDerived>& sample_weight, MPI_Comm comm,
                             Traffic* traffic = nullptr) {
  return detail::fit_on_ranks(model, "GaussianMixture::fit", X, sample_weight, comm, traffic);
}

/// Runs a GaussianMixtureSearch (mclust's model selection) on the rows of every rank of
/// `comm` (collective, same options on every rank): every candidate (k, covariance type,
/// noise) is a distributed GaussianMixture fit, its log-likelihood and ICL term summed over
/// the ranks and scored with the global row count. The K-means starts run on a random subset
/// of the global rows drawn alike on every rank and shared (m rows, a few hundred kilobytes
/// once per k and start), so they are the single process's starts bit for bit; on data too
/// small for the subset they are distributed KMeans fits. Every rank ends with the same
/// rows, the same best model and calls the callback alike (test the rank to print once).
/// @code
/// emcluster::GaussianMixtureSearch<> search(opts);
/// emcluster::mpi::fit(search, X_local, MPI_COMM_WORLD);
/// if (rank == 0) std::cout << search.summary();
/// @endcode
template <typename Scalar, typename Derived>
GaussianMixtureSearch<Scalar>& fit(GaussianMixtureSearch<Scalar>& search,
                                   const Eigen::MatrixBase<Derived>& X, MPI_Comm comm,
                                   Traffic* traffic = nullptr) {
  return detail::fit_on_ranks(search, X, comm, traffic);
}

/// Runs a KMeansSearch on the rows of every rank of `comm` (collective, same options on
/// every rank): every k a distributed KMeans fit; Calinski-Harabasz and Davies-Bouldin from
/// per-cluster sums over all rows (the single process's values to rounding); the silhouette,
/// which compares every pair of rows, only on a sample: options.silhouette.sample_size must
/// be > 0 (std::invalid_argument otherwise), and that many global rows, the ones the single
/// process would draw, are gathered on every rank and scored alike. Every rank ends with the
/// same rows and best model; best_model().labels() holds this rank's labels.
/// @code
/// emcluster::KMeansSearch<>::Options opts;
/// opts.score = emcluster::KMeansScore::calinski_harabasz;
/// emcluster::KMeansSearch<> search(opts);
/// emcluster::mpi::fit(search, X_local, MPI_COMM_WORLD);
/// @endcode
template <typename Scalar, typename Derived>
KMeansSearch<Scalar>& fit(KMeansSearch<Scalar>& search, const Eigen::MatrixBase<Derived>& X,
                          MPI_Comm comm, Traffic* traffic = nullptr) {
  return detail::fit_on_ranks(search, X, comm, traffic);
}

/// Learns the mean and standard deviation of every column over the rows of every rank of
/// `comm` (collective): the single-process two passes (the mean, then the centred sums of
/// squares with the corrected two-pass formula), each pass's column sums summed over the
/// ranks. n_samples_seen() is the global row count.
/// @code
/// emcluster::StandardScaler<> scaler;
/// emcluster::mpi::fit(scaler, X_local, MPI_COMM_WORLD);
/// Eigen::MatrixXd Z = scaler.transform(X_local);
/// @endcode
template <typename Scalar, typename Derived>
StandardScaler<Scalar>& fit(StandardScaler<Scalar>& scaler, const Eigen::MatrixBase<Derived>& X,
                            MPI_Comm comm, Traffic* traffic = nullptr) {
  return detail::fit_on_ranks(scaler, X, comm, traffic);
}

/// The contiguous slice of n rows that rank `rank` of `size` reads: [n r / p, n (r + 1) / p)
/// (first row and count; ranks differ by at most one row).
inline std::pair<Eigen::Index, Eigen::Index> slice_of(Eigen::Index n, int rank, int size) {
  const auto lo = static_cast<Eigen::Index>(static_cast<long double>(n) * rank / size);
  const auto hi = static_cast<Eigen::Index>(static_cast<long double>(n) * (rank + 1) / size);
  return {lo, hi - lo};
}

/// This rank's slice (slice_of) of the rows of a NumPy .npy file (float32 or float64, C or
/// Fortran order; 1-D arrays are one column), read without touching the other rows
/// (read_npy_rows). Collective: a file that cannot be read (missing, truncated, a header
/// that does not validate, a NaN in the slice is not checked here: the fits check) makes
/// every rank throw the same emcluster::data_file_error, naming the file and the byte offset.
/// @code
/// Eigen::MatrixXd X = emcluster::mpi::read_npy_slice<double>("data.npy", MPI_COMM_WORLD);
/// @endcode
template <typename Scalar>
RowMajorMatrix<Scalar> read_npy_slice(const std::string& path, MPI_Comm comm) {
  const MpiReducer reducer(comm, 0);
  RowMajorMatrix<Scalar> rows;
  detail::agreed(reducer, [&] {
    const NpyHeader h = read_npy_header(path);
    const auto slice = slice_of(h.rows, reducer.rank(), reducer.size());
    rows = read_npy_rows<Scalar>(path, slice.first, slice.second);
  });
  return rows;
}

/// This rank's slice of a raw file of little-endian float32 or float64 values, row-major,
/// `cols` per row (the row count is the file size over the row size; a size that is not a
/// whole number of rows is an error). Collective, errors as read_npy_slice.
/// @code
/// Eigen::MatrixXf X = emcluster::mpi::read_raw_slice<float>("data.f32", NpyDType::float32,
///                                                          16, MPI_COMM_WORLD);
/// @endcode
template <typename Scalar>
RowMajorMatrix<Scalar> read_raw_slice(const std::string& path, NpyDType dtype, Eigen::Index cols,
                                      MPI_Comm comm) {
  const MpiReducer reducer(comm, 0);
  RowMajorMatrix<Scalar> rows;
  detail::agreed(reducer, [&] {
    if (cols < 1) detail::fail("emcluster::mpi::read_raw_slice", "cols = ", cols, " must be >= 1");
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw data_file_error::at_file(path, "cannot open the file for reading");
    const auto bytes = static_cast<std::uint64_t>(in.tellg());
    const std::uint64_t row_bytes = npy_item_size(dtype) * static_cast<std::uint64_t>(cols);
    if (bytes % row_bytes != 0) {
      throw data_file_error::at_byte(
          path, bytes - bytes % row_bytes,
          detail::message("the file's ", bytes, " bytes are not a whole number of rows of ", cols,
                          " values of ", npy_item_size(dtype), " bytes (a truncated file?)"));
    }
    const auto slice =
        slice_of(static_cast<Eigen::Index>(bytes / row_bytes), reducer.rank(), reducer.size());
    rows = read_raw_rows<Scalar>(path, dtype, cols, slice.first, slice.second);
  });
  return rows;
}

}  // namespace mpi
}  // namespace emcluster
