/// @file detail/reducer.hpp
/// @brief Where the statistics of a fit are summed: the reducer concept, its single-process
/// implementation (LocalReducer, every operation a no-op) and the few steps written once on
/// top of it (checks agreed by every process, the global data magnitude, a row picked by its
/// mass across processes, rows shared by their owner).
///
/// Every fit is "per-block sufficient statistics -> combine -> update". Inside one process the
/// blocks' statistics are combined in chunk order (parallel.hpp); a reducer then combines the
/// statistics of every process holding a shard of the rows. A reducer is a class with:
///
///     static constexpr bool kDistributed;   // false: one process (every call below a no-op)
///     int rank() const; int size() const;   // this process, and how many there are
///     Eigen::Index local_rows() const;      // rows of this process
///     Eigen::Index row_offset() const;      // rows of the processes before this one
///     Eigen::Index total_rows() const;      // rows of all processes
///     void sum(double* v, std::size_t n) const;  // v <- elementwise sum over processes
///     void max(double* v, std::size_t n) const;  // v <- elementwise maximum
///     void min(double* v, std::size_t n) const;  // v <- elementwise minimum
///     std::vector<double> all_gather(std::vector<double> v) const;  // every process's v,
///                                                // concatenated in rank order (any lengths)
///     void agree(std::exception_ptr e) const;    // collective: when e is set on any process,
///                                                // every process throws the same exception
///
/// Every process receives the same bits from sum, max, min and all_gather, so every
/// decision taken on their results (convergence, the winner of the restarts, a relocated
/// centre) is the same everywhere and the processes stay in step through the collectives.
/// The MPI implementation lives in emcluster/mpi.hpp, the only header that includes <mpi.h>.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <exception>
#include <limits>
#include <utility>
#include <vector>

#include "validation.hpp"

namespace emcluster::detail {

/// The reducer of a single-process fit: one process holds every row, so every reduction is
/// the identity. Every member is an inline no-op (or returns its argument), so the code
/// written against a reducer compiles to the single-process code.
class LocalReducer {
 public:
  static constexpr bool kDistributed = false;

  explicit LocalReducer(Eigen::Index rows) : rows_(rows) {}

  int rank() const { return 0; }
  int size() const { return 1; }
  Eigen::Index local_rows() const { return rows_; }
  Eigen::Index row_offset() const { return 0; }
  Eigen::Index total_rows() const { return rows_; }

  void sum(double*, std::size_t) const {}
  void max(double*, std::size_t) const {}
  void min(double*, std::size_t) const {}
  std::vector<double> all_gather(std::vector<double> v) const { return v; }
  void agree(std::exception_ptr e) const {
    if (e) std::rethrow_exception(e);
  }

 private:
  Eigen::Index rows_;
};

/// What the distributed entry points call: the estimators' fits on a reducer (private to
/// the estimators, which befriend this struct; defined here, used by emcluster/mpi.hpp).
struct FitAccess {
  template <typename Model, typename Derived, typename Reducer>
  static Model& fit(Model& model, const Eigen::MatrixBase<Derived>& X, const double* w,
                    int weight_exp, const Reducer& reducer) {
    return model.fit_impl(X, w, weight_exp, reducer);
  }
};

/// Runs f(); when it throws on any process, every process throws the same exception (the one
/// of the lowest rank that failed). f must not call collectives.
template <typename Reducer, typename F>
void agreed(const Reducer& reducer, F&& f) {
  if constexpr (!Reducer::kDistributed) {
    f();
  } else {
    std::exception_ptr error;
    try {
      f();
    } catch (...) {
      error = std::current_exception();
    }
    reducer.agree(error);
  }
}

/// The checks of fit data on every process: a shard may be empty (0 rows) but all shards
/// together must hold at least `min_rows` rows (0: at least one), every shard the same
/// positive number of columns and only finite values. Returns the bounds of the largest |x|
/// over all shards (check_data).
template <typename Reducer, typename Derived>
Magnitude check_shard_data(const char* where, const char* name, const Eigen::MatrixBase<Derived>& X,
                           const Reducer& reducer) {
  if constexpr (!Reducer::kDistributed) {
    return check_data(where, name, X);
  } else {
    Magnitude m;
    agreed(reducer, [&] {
      if (X.rows() > 0) m = check_data(where, name, X);
    });
    double cols[2] = {static_cast<double>(X.cols()), -static_cast<double>(X.cols())};
    reducer.max(cols, 2);
    if (cols[0] != -cols[1]) {
      fail(where, name, " has ", X.cols(), " columns on this process but ", cols[0],
           " on another; every process must pass the same features");
    }
    if (reducer.total_rows() == 0 || X.cols() == 0) {
      fail(where, name, " is empty (", reducer.total_rows(), " x ", X.cols(),
           " over all processes); it needs at least one sample (row) and one feature (column)");
    }
    double bounds[2] = {m.lo, m.hi};
    reducer.max(bounds, 2);
    return Magnitude{bounds[0], bounds[1]};
  }
}

/// The exponent scale_exponent takes out of the data, from the largest |x| over all
/// processes.
template <typename Scalar, typename Reducer, typename Derived>
int shard_scale_exponent(const char* where, const Eigen::MatrixBase<Derived>& X, const Magnitude& m,
                         const Reducer& reducer) {
  if constexpr (!Reducer::kDistributed) {
    return scale_exponent<Scalar>(where, X, m);
  } else {
    // The exact pass of scale_exponent, made on every process when the bounds do not
    // settle it (the bounds are the same everywhere).
    double top = X.rows() > 0 ? max_abs(X) : 0.0;
    reducer.max(&top, 1);
    return scale_exponent<Scalar>(where, Eigen::MatrixXd::Constant(1, 1, top), m);
  }
}

/// Checked sample weights of a shard (n local entries, finite, non-negative) with a positive
/// total over all processes, divided by 2^e where normalize_weights would divide the weights
/// of all processes together; returns e.
template <typename Reducer>
int check_shard_weights(const char* where, Eigen::VectorXd& w, const Reducer& reducer) {
  agreed(reducer, [&] {
    for (Eigen::Index i = 0; i < w.size(); ++i) {
      if (!std::isfinite(w(i))) fail(where, "sample_weight[", i, "] is not finite");
      if (w(i) < 0) fail(where, "sample_weight[", i, "] = ", w(i), " is negative");
    }
  });
  double top = w.size() > 0 ? w.maxCoeff() : 0.0;
  reducer.max(&top, 1);
  if (!(top > 0)) fail(where, "sample_weight sums to zero; at least one weight must be positive");
  double total = w.sum();
  reducer.sum(&total, 1);
  int e = 0;
  std::frexp(top, &e);
  if (e >= -64 && e <= 64 && std::isfinite(total)) return 0;
  for (Eigen::Index i = 0; i < w.size(); ++i) w(i) = std::ldexp(w(i), -e);
  return e;
}

/// A row drawn by mass across processes: the processes' masses (one each, in rank order,
/// as all_gather returns them) are scanned with r in [0, total) as sample_by_mass scans
/// chunks; the process it lands on (or the last with positive mass, when rounding carries r
/// past the total) calls local_pick(r less the masses before it). Returns that row index on
/// the owning process and -1 elsewhere (or everywhere when every mass is zero).
template <typename Reducer, typename LocalPick>
Eigen::Index pick_by_process_mass(const Reducer& reducer, const std::vector<double>& masses,
                                  double r, LocalPick&& local_pick) {
  if constexpr (!Reducer::kDistributed) {
    (void)reducer;
    (void)masses;
    return local_pick(r);
  } else {
    int owner = -1, last_positive = -1;
    for (std::size_t q = 0; q < masses.size(); ++q) {
      if (!(masses[q] > 0)) continue;
      last_positive = static_cast<int>(q);
      if (r < masses[q]) {
        owner = static_cast<int>(q);
        break;
      }
      r -= masses[q];
    }
    if (owner < 0) {
      owner = last_positive;
      r = std::numeric_limits<double>::infinity();  // sample_by_mass: the last positive row
    }
    return owner == reducer.rank() ? local_pick(r) : Eigen::Index(-1);
  }
}

/// The process holding global row g (row_offsets: every process's first row, in rank order,
/// then the total), and g's index there.
inline std::pair<int, Eigen::Index> owner_of_row(const std::vector<double>& row_offsets,
                                                 Eigen::Index g) {
  int q = 0;
  while (q + 2 < static_cast<int>(row_offsets.size()) &&
         static_cast<double>(g) >= row_offsets[std::size_t(q) + 1])
    ++q;
  return {q, g - static_cast<Eigen::Index>(row_offsets[std::size_t(q)])};
}

/// Every process's first row (rank order), then the total: all_gather of the local counts.
template <typename Reducer>
std::vector<double> process_row_offsets(const Reducer& reducer) {
  const std::vector<double> counts =
      reducer.all_gather(std::vector<double>{static_cast<double>(reducer.local_rows())});
  std::vector<double> offsets(counts.size() + 1, 0.0);
  for (std::size_t q = 0; q < counts.size(); ++q) offsets[q + 1] = offsets[q] + counts[q];
  return offsets;
}

/// Makes rows held by single processes known to all: every process fills the rows it owns
/// and leaves the others zero; their sum over processes is every row exactly (x + 0 = x).
/// A no-op in a single process.
template <typename Reducer>
void share_owned_rows(const Reducer& reducer, Eigen::MatrixXd& rows) {
  reducer.sum(rows.data(), static_cast<std::size_t>(rows.size()));
}

}  // namespace emcluster::detail
