/// @file detail/mixture_stats.hpp
/// @brief The sufficient statistics of an EM step for a Gaussian mixture: their layout as one
/// flat buffer of doubles (MixtureStats), their accumulation block by block (accumulate_block)
/// and chunk by chunk (accumulate_chunks, and em_pass fusing it with the E-step), and their
/// combination in chunk order (combine).
///
/// A pass computes one MixtureStats per chunk of rows; the chunks depend only on the number of
/// rows and the statistics' size, never on the threads, and are combined in chunk order, so
/// the result is the same bits for any thread count. Because the statistics are a plain
/// buffer that sums elementwise, statistics computed elsewhere (another process's rows) are
/// combined the same way.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "../options.hpp"
#include "block_copy.hpp"
#include "mixture_estep.hpp"
#include "parallel.hpp"

namespace emcluster::detail {

/// Sufficient statistics of one chunk (and, combined, of all rows), in double.
///
/// Around fixed shifts s_j (the means of the current parameters): N_j = sum w r_ij,
/// F_j = sum w r_ij (x_i - s_j), and the second moments: `full` S_j = sum w r_ij (x_i - s_j)
/// (x_i - s_j)^T (lower triangle); `diagonal`/`spherical` its diagonal, one row per
/// component; `tied` T = sum_i w g_i (x_i - c)(x_i - c)^T with g_i = sum_j r_ij and c the
/// reference point. Plus the noise component's responsibility sum, sum w log p(x) and sum w.
///
/// All of it is one buffer `values` of size(type, k, d) doubles, laid out as
///
///     offset                       count         part
///     0                            k             resp_sum: N_j
///     k                            1             noise_resp_sum
///     k + 1                        k d           first: F, k x d, column-major
///     k + 1 + k d                  second_size   second moments, column-major: `full` k
///                                                blocks d x d (block j for component j),
///                                                `tied` one d x d, `diagonal`/`spherical`
///                                                one k x d (row j for component j)
///     size - 2                     1             log_likelihood
///     size - 1                     1             weight
///
/// so two chunks' statistics combine by one elementwise sum (add), and the accessors are
/// Eigen::Map views into the buffer.
struct MixtureStats {
  CovarianceType type = CovarianceType::full;
  Eigen::Index k = 0, d = 0;
  Eigen::VectorXd values;  ///< the buffer, laid out as above

  MixtureStats() = default;
  /// Zero statistics for k components in d dimensions.
  MixtureStats(CovarianceType covariance_type, Eigen::Index components, Eigen::Index features)
      : type(covariance_type),
        k(components),
        d(features),
        values(Eigen::VectorXd::Zero(size(covariance_type, components, features))) {}

  /// Doubles of the second moments.
  static Eigen::Index second_size(CovarianceType type, Eigen::Index k, Eigen::Index d) {
    switch (type) {
      case CovarianceType::full:
        return k * d * d;
      case CovarianceType::tied:
        return d * d;
      case CovarianceType::diagonal:
      case CovarianceType::spherical:
        break;
    }
    return k * d;
  }
  /// Doubles of the whole buffer.
  static Eigen::Index size(CovarianceType type, Eigen::Index k, Eigen::Index d) {
    return k + 1 + k * d + second_size(type, k, d) + 2;
  }
  /// Bytes one chunk's statistics take, as the chunking counts them (the buffer and one
  /// double more). The chunking, and so the order of every sum, depends on this value.
  static std::size_t bytes(CovarianceType type, Eigen::Index k, Eigen::Index d) {
    return sizeof(double) * static_cast<std::size_t>(size(type, k, d) + 1);
  }

  Eigen::Map<Eigen::VectorXd> resp_sum() { return {values.data(), k}; }
  Eigen::Map<const Eigen::VectorXd> resp_sum() const { return {values.data(), k}; }
  double& noise_resp_sum() { return values(k); }
  double noise_resp_sum() const { return values(k); }
  /// F, k x d.
  Eigen::Map<Eigen::MatrixXd> first() { return {values.data() + k + 1, k, d}; }
  Eigen::Map<const Eigen::MatrixXd> first() const { return {values.data() + k + 1, k, d}; }
  /// Second moments: S_j (d x d) for `full`; T (d x d) for `tied` and the k x d diagonals
  /// for `diagonal`/`spherical`, both with block = 0.
  Eigen::Map<Eigen::MatrixXd> second(Eigen::Index block) {
    return {values.data() + second_offset(block), second_rows(), d};
  }
  Eigen::Map<const Eigen::MatrixXd> second(Eigen::Index block) const {
    return {values.data() + second_offset(block), second_rows(), d};
  }
  double& log_likelihood() { return values(values.size() - 2); }
  double log_likelihood() const { return values(values.size() - 2); }
  double& weight() { return values(values.size() - 1); }
  double weight() const { return values(values.size() - 1); }

  /// Adds another chunk's statistics of the same shape (call in chunk order for
  /// reproducible bits).
  void add(const MixtureStats& other) { values += other.values; }

 private:
  Eigen::Index second_rows() const {
    return type == CovarianceType::diagonal || type == CovarianceType::spherical ? k : d;
  }
  Eigen::Index second_offset(Eigen::Index block) const { return k + 1 + k * d + block * d * d; }
};

/// Sums statistics over the processes of the reducer (LocalReducer: nothing to do). The
/// `full` and `tied` second moments are symmetric and the M-step reads only their lower
/// triangles, so only those travel: the buffer is packed to k + 1 + k d + b d (d + 1) / 2 + 2
/// doubles (b = k blocks for `full`, 1 for `tied`) for the one reduction, and unpacked with
/// each upper triangle mirrored from the summed lower one.
template <typename Reducer>
void sum_over_processes(MixtureStats& s, const Reducer& reducer) {
  if constexpr (Reducer::kDistributed) {
    if (s.type != CovarianceType::full && s.type != CovarianceType::tied) {
      reducer.sum(s.values.data(), static_cast<std::size_t>(s.values.size()));
      return;
    }
    const Eigen::Index d = s.d, head = s.k + 1 + s.k * s.d;
    const Eigen::Index blocks = s.type == CovarianceType::full ? s.k : 1;
    std::vector<double> packed;
    packed.reserve(static_cast<std::size_t>(head + blocks * d * (d + 1) / 2 + 2));
    packed.insert(packed.end(), s.values.data(), s.values.data() + head);
    for (Eigen::Index b = 0; b < blocks; ++b) {
      const auto S = s.second(b);
      for (Eigen::Index c = 0; c < d; ++c)
        for (Eigen::Index r = c; r < d; ++r) packed.push_back(S(r, c));
    }
    packed.push_back(s.log_likelihood());
    packed.push_back(s.weight());
    reducer.sum(packed.data(), packed.size());
    std::size_t at = 0;
    for (Eigen::Index i = 0; i < head; ++i) s.values(i) = packed[at++];
    for (Eigen::Index b = 0; b < blocks; ++b) {
      auto S = s.second(b);
      for (Eigen::Index c = 0; c < d; ++c)
        for (Eigen::Index r = c; r < d; ++r) S(r, c) = S(c, r) = packed[at++];
    }
    s.log_likelihood() = packed[at++];
    s.weight() = packed[at];
  } else {
    (void)s;
    (void)reducer;
  }
}

/// The chunks of rows of every pass accumulating MixtureStats over n rows.
inline std::vector<Chunk> stats_chunks(Eigen::Index n, CovarianceType type, Eigen::Index k,
                                       Eigen::Index d) {
  return make_chunks(n, MixtureStats::bytes(type, k, d));
}

/// Sum of the chunks' statistics in chunk order (at least one chunk).
inline MixtureStats combine(const std::vector<MixtureStats>& partial) {
  const MixtureStats& first = partial.front();
  MixtureStats total(first.type, first.k, first.d);
  for (const auto& p : partial) total.add(p);
  return total;
}

/// Sum of the chunks' statistics in chunk order, zero statistics of that shape without
/// chunks (a process that holds no rows).
inline MixtureStats combine(const std::vector<MixtureStats>& partial, CovarianceType type,
                            Eigen::Index k, Eigen::Index d) {
  MixtureStats total(type, k, d);
  for (const auto& p : partial) total.add(p);
  return total;
}

/// First moments F += D^T r and the lower triangle of S += D^T diag(r) D for a rows x d
/// block D: the plain reference of add_weighted_moments (and its path for d > 12): the
/// weighted block written once, then vectorised dot products over the rows for small d (each
/// a chain of dependent additions with two partial sums), one GEMM above.
template <typename Weights, typename FirstRow>
inline void add_weighted_moments_reference(const Eigen::MatrixXd& D, const Weights& r, FirstRow&& F,
                                           Eigen::Map<Eigen::MatrixXd> S,
                                           Eigen::MatrixXd& scratch) {
  const Eigen::Index d = D.cols();
  scratch = D.array().colwise() * r;
  F += scratch.colwise().sum();
  if (d > kDotMomentsMaxFeatures) {
    S.noalias() += scratch.transpose() * D;
    return;
  }
  for (Eigen::Index a = 0; a < d; ++a) {
    for (Eigen::Index b = 0; b <= a; ++b) S(a, b) += scratch.col(a).dot(D.col(b));
  }
}

// Packet code follows (see mixture_estep.hpp for the pragma).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
/// Calls f(std::integral_constant<int, v>()) for a run-time v in [Min, Max]: the dispatch from
/// a block's feature count to the kernel compiled for it. Nothing is called for v outside.
template <int Min, int Max, typename F>
inline void with_compiled_size(Eigen::Index v, F&& f) {
  if (v == Max) {
    f(std::integral_constant<int, Max>());
  } else if constexpr (Max > Min) {
    with_compiled_size<Min, Max - 1>(v, std::forward<F>(f));
  }
}

/// The sums add_weighted_moments_fixed computes for d = Dim, with D = x - shift: term e < Dim
/// is the first moment sum_i r_i D_ie (b[e] = -1); the rest are the lower triangle of the
/// second moments, row by row, sum_i r_i D_ia D_ib for (a[e], b[e]), b <= a.
template <int Dim>
struct MomentTerms {
  static constexpr int count = Dim + Dim * (Dim + 1) / 2;
  int a[count] = {}, b[count] = {};
  constexpr MomentTerms() {
    int e = 0;
    for (; e < Dim; ++e) {
      a[e] = e;
      b[e] = -1;
    }
    for (int r = 0; r < Dim; ++r) {
      for (int c = 0; c <= r; ++c, ++e) {
        a[e] = r;
        b[e] = c;
      }
    }
  }
};

/// Terms [E0, E1) of MomentTerms<Dim> added to sums[E0, E1): one sweep over the block x (rows
/// x Dim, column-major), a SIMD packet of rows at a time, centred on shift in registers, every
/// term its own partial sum. The few terms of a sweep (at most 15) keep their partial sums in
/// registers next to the Dim centred values and their weighted copies; more terms per sweep
/// would spill them to memory, where each update waits on the last (store forwarding), which
/// is slower than sweeping the block (in L1) again.
template <int Dim, int E0, int E1>
inline void moment_terms_sweep(const double* x, Eigen::Index rows, const double* shift,
                               Eigen::Index stride, const double* r, double* sums) {
  namespace ei = Eigen::internal;
  using Packet = ei::packet_traits<double>::type;
  constexpr Eigen::Index N = ei::unpacket_traits<Packet>::size;
  constexpr MomentTerms<Dim> terms{};
  constexpr int Q = E1 - E0;
  Eigen::Index i = 0;
  if constexpr (N > 1) {
    Packet acc[Q], centre[Dim];
    EMCLUSTER_UNROLL
    for (int q = 0; q < Q; ++q) acc[q] = ei::pset1<Packet>(0.0);
    EMCLUSTER_UNROLL
    for (int a = 0; a < Dim; ++a) centre[a] = ei::pset1<Packet>(shift[a * stride]);
    for (; i + N <= rows; i += N) {
      const Packet w = ei::ploadu<Packet>(r + i);
      Packet c[Dim], t[Dim];  // the terms' unused entries are never loaded (dead code)
      EMCLUSTER_UNROLL
      for (int a = 0; a < Dim; ++a) {
        c[a] = ei::psub(ei::ploadu<Packet>(x + a * rows + i), centre[a]);
        t[a] = ei::pmul(w, c[a]);
      }
      EMCLUSTER_UNROLL
      for (int q = 0; q < Q; ++q) {
        const int e = E0 + q;
        acc[q] = terms.b[e] < 0 ? ei::padd(acc[q], t[terms.a[e]])
                                : ei::pmadd(t[terms.a[e]], c[terms.b[e]], acc[q]);
      }
    }
    for (int q = 0; q < Q; ++q) sums[E0 + q] += ei::predux(acc[q]);
  }
  for (; i < rows; ++i) {
    for (int e = E0; e < E1; ++e) {
      const int a = terms.a[e], b = terms.b[e];
      const double t = r[i] * (x[a * rows + i] - shift[a * stride]);
      sums[e] += b < 0 ? t : t * (x[b * rows + i] - shift[b * stride]);
    }
  }
}

/// All terms of MomentTerms<Dim>, in sweeps of at most 15 (of equal size, as far as it goes).
template <int Dim, int E0 = 0>
inline void moment_terms(const double* x, Eigen::Index rows, const double* shift,
                         Eigen::Index stride, const double* r, double* sums) {
  constexpr int count = MomentTerms<Dim>::count;
  constexpr int sweeps = (count + 14) / 15;
  constexpr int size = (count + sweeps - 1) / sweeps;
  if constexpr (E0 < count) {
    constexpr int E1 = E0 + size < count ? E0 + size : count;
    moment_terms_sweep<Dim, E0, E1>(x, rows, shift, stride, r, sums);
    moment_terms<Dim, E1>(x, rows, shift, stride, r, sums);
  }
}

/// add_weighted_moments for d = Dim fixed at compile time (moment_terms), the sums of a block
/// added to F and the lower triangle of S.
template <int Dim, typename FirstRow>
inline void add_weighted_moments_fixed(const Eigen::MatrixXd& xd, const double* shift,
                                       Eigen::Index stride, const double* r, FirstRow&& F,
                                       Eigen::Map<Eigen::MatrixXd> S) {
  constexpr MomentTerms<Dim> terms{};
  double sums[MomentTerms<Dim>::count] = {};
  moment_terms<Dim>(xd.data(), xd.rows(), shift, stride, r, sums);
  for (int e = 0; e < MomentTerms<Dim>::count; ++e) {
    if (terms.b[e] < 0) {
      F(terms.a[e]) += sums[e];
    } else {
      S(terms.a[e], terms.b[e]) += sums[e];
    }
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// First moments F += D^T r and the lower triangle of S += D^T diag(r) D for the centred block
/// D = xd - shift (xd rows x d, r: rows weights, contiguous). Written for the multiply-add
/// units' throughput: for d <= kDotMomentsMaxFeatures a few sweeps over xd, centred in
/// registers, every sum its own register chain (add_weighted_moments_fixed), where the
/// reference writes D and runs dot products that are each latency-bound; above, D and the
/// reference's GEMM. The same values summed in another order: equal to
/// add_weighted_moments_reference up to rounding.
template <typename Shift, typename Weights, typename FirstRow>
inline void add_weighted_moments(const Eigen::MatrixXd& xd, const Shift& shift, const Weights& r,
                                 FirstRow&& F, Eigen::Map<Eigen::MatrixXd> S, Eigen::MatrixXd& diff,
                                 Eigen::MatrixXd& scratch) {
  const double* w = r.data();
  const double* c = shift.data();
  const Eigen::Index stride = shift.innerStride();  // a row of a column-major matrix: its rows
  const Eigen::Index d = xd.cols();
  if (d >= 1 && d <= kDotMomentsMaxFeatures) {
    with_compiled_size<1, kDotMomentsMaxFeatures>(d, [&](auto dim) {
      add_weighted_moments_fixed<decltype(dim)::value>(xd, c, stride, w, F, S);
    });
    return;
  }
  diff = xd.rowwise() - shift;
  add_weighted_moments_reference(diff, r, F, S, scratch);
}

/// The diagonal statistics of component j from a block xd (rows x d) and its weighted
/// responsibilities r (rows values): N_j += sum r, F_jf += sum r (x_f - s_jf) and
/// Q_jf += sum r (x_f - s_jf)^2 (the `diagonal`/`spherical` second moments, one row of the
/// k x d block). The plain reference of add_diagonal_moments: Eigen column sums, the centred
/// column an expression inside each (nothing of the block's size is written).
inline void add_diagonal_moments_reference(const Eigen::MatrixXd& xd, const double* r,
                                           const Eigen::MatrixXd& shifts, Eigen::Index j,
                                           MixtureStats& s) {
  const Eigen::Map<const Eigen::ArrayXd> w(r, xd.rows());
  auto first = s.first();
  auto second = s.second(0);
  s.resp_sum()(j) += w.sum();
  for (Eigen::Index f = 0; f < xd.cols(); ++f) {
    const auto centred = xd.col(f).array() - shifts(j, f);
    first(j, f) += (w * centred).sum();
    second(j, f) += ((w * centred) * centred).sum();
  }
}

// Packet code follows (see mixture_estep.hpp for the pragma).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
/// Features [f0, f0 + G) of add_diagonal_moments (and N_j when `count`), G fixed at compile
/// time so that the 2G + 1 partial sums stay in registers.
template <Eigen::Index G>
inline void add_diagonal_moments_fixed(const Eigen::MatrixXd& xd, const double* r,
                                       const Eigen::MatrixXd& shifts, Eigen::Index j,
                                       Eigen::Index f0, bool count, MixtureStats& s) {
  namespace ei = Eigen::internal;
  using Packet = ei::packet_traits<double>::type;
  constexpr Eigen::Index N = ei::unpacket_traits<Packet>::size;
  const Eigen::Index rows = xd.rows();
  const double* x = xd.data() + f0 * rows;
  constexpr Eigen::Index S = G > 0 ? G : 1;  // array sizes (no arrays of size zero)
  double shift[S], n_sum = 0, f_sum[S], q_sum[S];
  for (Eigen::Index a = 0; a < G; ++a) {
    shift[a] = shifts(j, f0 + a);
    f_sum[a] = q_sum[a] = 0;
  }
  Eigen::Index i = 0;
  if constexpr (N > 1) {
    Packet pn = ei::pset1<Packet>(0.0), ps[S], pf[S], pq[S];
    for (Eigen::Index a = 0; a < G; ++a) {
      ps[a] = ei::pset1<Packet>(shift[a]);
      pf[a] = pq[a] = ei::pset1<Packet>(0.0);
    }
    for (; i + N <= rows; i += N) {
      const Packet w = ei::ploadu<Packet>(r + i);
      if (count) pn = ei::padd(pn, w);
      for (Eigen::Index a = 0; a < G; ++a) {
        const Packet c = ei::psub(ei::ploadu<Packet>(x + a * rows + i), ps[a]);
        const Packet t = ei::pmul(w, c);
        pf[a] = ei::padd(pf[a], t);
        pq[a] = ei::pmadd(t, c, pq[a]);
      }
    }
    n_sum = ei::predux(pn);
    for (Eigen::Index a = 0; a < G; ++a) {
      f_sum[a] = ei::predux(pf[a]);
      q_sum[a] = ei::predux(pq[a]);
    }
  }
  for (; i < rows; ++i) {
    n_sum += r[i];
    for (Eigen::Index a = 0; a < G; ++a) {
      const double c = x[a * rows + i] - shift[a];
      f_sum[a] += r[i] * c;
      q_sum[a] += r[i] * c * c;
    }
  }
  if (count) s.resp_sum()(j) += n_sum;
  auto first = s.first();
  auto second = s.second(0);
  for (Eigen::Index a = 0; a < G; ++a) {
    first(j, f0 + a) += f_sum[a];
    second(j, f0 + a) += q_sum[a];
  }
}

/// add_diagonal_moments_reference, written for the throughput of the multiply-add units:
/// each of the reference's 2d + 1 column sums is a chain of dependent additions (an Eigen
/// reduction keeps two partial sums), so it runs at the adder's latency; here a SIMD packet of
/// rows at a time updates 2g + 1 independent partial sums held in registers, g <= 8 features
/// per sweep over the block. The same values summed in another order: equal to the reference
/// up to rounding.
inline void add_diagonal_moments(const Eigen::MatrixXd& xd, const double* r,
                                 const Eigen::MatrixXd& shifts, Eigen::Index j, MixtureStats& s) {
  const Eigen::Index d = xd.cols();
  constexpr Eigen::Index kGroup = 8;
  for (Eigen::Index f0 = 0; f0 == 0 || f0 < d; f0 += kGroup) {  // once when d = 0: N_j alone
    const bool count = f0 == 0;                                 // N_j in the first sweep only
    with_compiled_size<0, kGroup>(std::min(kGroup, d - f0), [&](auto g) {
      add_diagonal_moments_fixed<decltype(g)::value>(xd, r, shifts, j, f0, count, s);
    });
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Adds one block to the statistics. xd: the block in double (rows x d); resp: rows x k (or
/// k + 1 with a noise column), already multiplied by the sample weights; shifts: k x d (the
/// current means); reference: c for `tied`.
inline void accumulate_block(const Eigen::MatrixXd& xd, const Eigen::MatrixXd& resp,
                             const Eigen::MatrixXd& shifts, const Eigen::RowVectorXd& reference,
                             MixtureStats& s, EmWorkspace& ws, Eigen::MatrixXd& scratch) {
  const Eigen::Index k = shifts.rows(), d = shifts.cols();
  const CovarianceType type = s.type;
  auto resp_sum = s.resp_sum();
  auto first = s.first();
  for (Eigen::Index j = 0; j < k; ++j) {
    const auto r = resp.col(j).array();  // a view: no copy of the column
    switch (type) {
      case CovarianceType::full:
        resp_sum(j) += r.sum();
        add_weighted_moments(xd, shifts.row(j), r, first.row(j), s.second(j), ws.diff, scratch);
        break;
      case CovarianceType::diagonal:
      case CovarianceType::spherical:
        add_diagonal_moments(xd, resp.col(j).data(), shifts, j, s);
        break;
      case CovarianceType::tied:
        resp_sum(j) += r.sum();
        for (Eigen::Index f = 0; f < d; ++f)
          first(j, f) += (r * (xd.col(f).array() - shifts(j, f))).sum();
        break;
    }
  }
  if (type == CovarianceType::tied) {
    // T += (x - c)^T diag(g) (x - c), g the row's total Gaussian responsibility.
    ws.scale = resp.leftCols(k).rowwise().sum().array();
    Eigen::RowVectorXd unused = Eigen::RowVectorXd::Zero(d);
    add_weighted_moments(xd, reference, ws.scale, unused, s.second(0), ws.diff, scratch);
  }
  if (resp.cols() > k) s.noise_resp_sum() += resp.col(k).sum();
}

/// One pass over the rows accumulating MixtureStats around `shifts` (and `reference` for
/// tied), one per chunk of stats_chunks(). `fill(chunk, begin, end, xd, resp, lse, ws)` writes
/// the block's responsibilities (rows x columns, unweighted) and, optionally, the per-row
/// log-likelihood (leave lse empty when there is none).
template <typename Derived, typename Fill>
std::vector<MixtureStats> accumulate_chunks(const Eigen::MatrixBase<Derived>& X, const double* w,
                                            CovarianceType type, const Eigen::MatrixXd& shifts,
                                            const Eigen::RowVectorXd& reference, Fill&& fill) {
  const Eigen::Index n = X.rows(), d = X.cols(), k = shifts.rows();
  const auto chunks = stats_chunks(n, type, k, d);
  std::vector<MixtureStats> partial(chunks.size());
  for_each_chunk(chunks, [&](std::size_t c, const Chunk& chunk) {
    MixtureStats& s = partial[c];
    s = MixtureStats(type, k, d);
    Eigen::MatrixXd xd, resp, scratch;
    Eigen::VectorXd lse;
    EmWorkspace ws;
    for_each_block(chunk, [&](Eigen::Index begin, Eigen::Index end) {
      const Eigen::Index rows = end - begin;
      xd = X.derived().middleRows(begin, rows).template cast<double>();
      lse.resize(0);
      fill(c, begin, end, xd, resp, lse, ws);
      if (w) {
        const Eigen::Map<const Eigen::VectorXd> wb(w + begin, rows);
        for (Eigen::Index j = 0; j < resp.cols(); ++j) resp.col(j).array() *= wb.array();
        if (lse.size() == rows) s.log_likelihood() += wb.dot(lse);
        s.weight() += wb.sum();
      } else {
        if (lse.size() == rows) s.log_likelihood() += lse.sum();
        s.weight() += static_cast<double>(rows);
      }
      accumulate_block(xd, resp, shifts, reference, s, ws, scratch);
    });
  });
  return partial;
}

/// accumulate_chunks, combined: the statistics of all rows.
template <typename Derived, typename Fill>
MixtureStats accumulate_pass(const Eigen::MatrixBase<Derived>& X, const double* w,
                             CovarianceType type, const Eigen::MatrixXd& shifts,
                             const Eigen::RowVectorXd& reference, Fill&& fill) {
  return combine(accumulate_chunks(X, w, type, shifts, reference, std::forward<Fill>(fill)), type,
                 shifts.rows(), X.cols());
}

/// The hot loop of EM: for every block of rows, the E-step (weighted log-densities,
/// log-sum-exp, responsibilities) fused with the M-step's sufficient statistics around the
/// current means (and the reference c for tied), so that each row is read once per
/// iteration and nothing of size n x k exists. Returns the chunks' statistics (to combine),
/// and through `bad_row` the first row whose density is zero under every component (or -1);
/// the statistics are then unusable.
template <typename Derived>
std::vector<MixtureStats> em_pass(const Eigen::MatrixBase<Derived>& X, const double* w,
                                  const MixtureDensity& density, Eigen::Index& bad_row) {
  const auto n_chunks = stats_chunks(X.rows(), density.params.type, density.k(), X.cols()).size();
  // Per chunk, so that the first bad row is reported whatever the threads.
  std::vector<Eigen::Index> bad(n_chunks, -1);
  std::vector<MixtureStats> partial = accumulate_chunks(
      X, w, density.params.type, density.params.means, density.reference,
      [&](std::size_t c, Eigen::Index begin, Eigen::Index, const Eigen::MatrixXd& xd,
          Eigen::MatrixXd& resp, Eigen::VectorXd& lse, EmWorkspace& ws) {
        density.log_prob(xd, resp, ws);
        const Eigen::Index bad_in_block = log_prob_to_responsibilities(resp, ws);
        if (bad_in_block >= 0 && bad[c] < 0) bad[c] = begin + bad_in_block;
        if (bad[c] >= 0) {
          resp.setZero();
          return;
        }
        lse = ws.lse.matrix();
      });
  bad_row = -1;
  for (Eigen::Index b : bad) {
    if (b >= 0) {
      bad_row = b;
      break;
    }
  }
  return partial;
}

}  // namespace emcluster::detail
