/// @file detail/model_file_models.hpp
/// @brief detail::ModelAccess: what each estimator writes to a model file (its options and
/// fitted state) and how a file's fields are validated and turned back into an estimator.
/// Reading builds a new estimator and commits it through the estimator's own commit
/// function, so everything derived from the saved state is computed as the fit computed it.
/// Needs nlohmann-json; only io.hpp includes it.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../exceptions.hpp"
#include "../gaussian_mixture.hpp"
#include "../kmeans.hpp"
#include "../minibatch_kmeans.hpp"
#include "../options.hpp"
#include "../pipeline.hpp"
#include "../preprocessing.hpp"
#include "model_access.hpp"
#include "model_file_json.hpp"
#include "random.hpp"

namespace emcluster::detail {

template <typename E>
using EnumNames = std::vector<std::pair<const char*, E>>;

inline const EnumNames<KMeansInit>& kmeans_init_names() {
  static const EnumNames<KMeansInit> names = {{"kmeans_plus_plus", KMeansInit::kmeans_plus_plus},
                                              {"random_samples", KMeansInit::random_samples},
                                              {"random_box", KMeansInit::random_box},
                                              {"explicit_centers", KMeansInit::explicit_centers}};
  return names;
}
inline const EnumNames<KMeansAlgorithm>& kmeans_algorithm_names() {
  static const EnumNames<KMeansAlgorithm> names = {{"automatic", KMeansAlgorithm::automatic},
                                                   {"lloyd", KMeansAlgorithm::lloyd},
                                                   {"hamerly", KMeansAlgorithm::hamerly}};
  return names;
}
inline const EnumNames<AssignKernel>& assign_kernel_names() {
  static const EnumNames<AssignKernel> names = {{"automatic", AssignKernel::automatic},
                                                {"direct", AssignKernel::direct},
                                                {"gemm", AssignKernel::gemm}};
  return names;
}
inline const EnumNames<CovarianceType>& covariance_type_names() {
  static const EnumNames<CovarianceType> names = {{"full", CovarianceType::full},
                                                  {"tied", CovarianceType::tied},
                                                  {"diagonal", CovarianceType::diagonal},
                                                  {"spherical", CovarianceType::spherical}};
  return names;
}
inline const EnumNames<GaussianMixtureInit>& mixture_init_names() {
  static const EnumNames<GaussianMixtureInit> names = {
      {"kmeans", GaussianMixtureInit::kmeans},
      {"kmeans_plus_plus", GaussianMixtureInit::kmeans_plus_plus},
      {"random_responsibilities", GaussianMixtureInit::random_responsibilities},
      {"random_points", GaussianMixtureInit::random_points},
      {"explicit_parameters", GaussianMixtureInit::explicit_parameters}};
  return names;
}

/// The estimator's name in a file ("estimator") and its scalar type.
template <typename Model>
struct EstimatorName;
template <typename S>
struct EstimatorName<KMeans<S>> {
  static constexpr const char* value = "KMeans";
};
template <typename S>
struct EstimatorName<MiniBatchKMeans<S>> {
  static constexpr const char* value = "MiniBatchKMeans";
};
template <typename S>
struct EstimatorName<GaussianMixture<S>> {
  static constexpr const char* value = "GaussianMixture";
};
template <typename S>
struct EstimatorName<StandardScaler<S>> {
  static constexpr const char* value = "StandardScaler";
};
template <typename M>
struct EstimatorName<Pipeline<M>> {
  static constexpr const char* value = "Pipeline";
};

/// Largest |scale exponent| a file may give (the library's stay within about 1100).
inline constexpr int kMaxScaleExponent = 1100;

struct ModelAccess {
  // ------------------------------------------------------------------------------------------
  // Writing

  template <typename S>
  static OrderedJson options_json(const KMeans<S>& m) {
    const auto& o = m.options_;
    OrderedJson j;
    j["n_clusters"] = o.n_clusters;
    j["init"] = enum_name(o.init, kmeans_init_names());
    j["initial_centers"] = write_matrix(o.initial_centers, "options.initial_centers");
    j["n_init"] = o.n_init;
    j["max_iter"] = o.max_iter;
    j["tol"] = finite_for_file(o.tol, "options.tol");
    j["seed"] = o.seed;
    j["n_local_trials"] = o.n_local_trials;
    j["algorithm"] = enum_name(o.algorithm, kmeans_algorithm_names());
    j["kernel"] = enum_name(o.kernel, assign_kernel_names());
    return j;
  }

  template <typename S>
  static OrderedJson options_json(const MiniBatchKMeans<S>& m) {
    const auto& o = m.options_;
    OrderedJson j;
    j["n_clusters"] = o.n_clusters;
    j["init"] = enum_name(o.init, kmeans_init_names());
    j["initial_centers"] = write_matrix(o.initial_centers, "options.initial_centers");
    j["batch_size"] = o.batch_size;
    j["max_iter"] = o.max_iter;
    j["n_init"] = o.n_init;
    j["init_size"] = o.init_size;
    j["reassignment_ratio"] = finite_for_file(o.reassignment_ratio, "options.reassignment_ratio");
    j["max_no_improvement"] = o.max_no_improvement;
    j["tol"] = finite_for_file(o.tol, "options.tol");
    j["compute_labels"] = o.compute_labels;
    j["seed"] = o.seed;
    j["kernel"] = enum_name(o.kernel, assign_kernel_names());
    return j;
  }

  template <typename S>
  static OrderedJson options_json(const GaussianMixture<S>& m) {
    const auto& o = m.options_;
    OrderedJson j;
    j["n_components"] = o.n_components;
    j["covariance_type"] = enum_name(o.covariance_type, covariance_type_names());
    j["tol"] = finite_for_file(o.tol, "options.tol");
    j["reg_covar"] = finite_for_file(o.reg_covar, "options.reg_covar");
    j["max_iter"] = o.max_iter;
    j["n_init"] = o.n_init;
    j["init"] = enum_name(o.init, mixture_init_names());
    j["initial_weights"] = write_vector(o.initial_weights, "options.initial_weights");
    j["initial_means"] = write_matrix(o.initial_means, "options.initial_means");
    OrderedJson precisions = OrderedJson::array();
    for (const auto& p : o.initial_precisions) {
      precisions.push_back(write_matrix(p, "options.initial_precisions"));
    }
    j["initial_precisions"] = std::move(precisions);
    j["warm_start"] = o.warm_start;
    j["seed"] = o.seed;
    j["noise_component"] = o.noise_component;
    j["noise_low"] = write_vector(o.noise_low, "options.noise_low");
    j["noise_high"] = write_vector(o.noise_high, "options.noise_high");
    j["initial_noise_weight"] =
        finite_for_file(o.initial_noise_weight, "options.initial_noise_weight");
    return j;
  }

  template <typename S>
  static OrderedJson options_json(const StandardScaler<S>& m) {
    OrderedJson j;
    j["with_mean"] = m.options_.with_mean;
    j["with_std"] = m.options_.with_std;
    return j;
  }

  /// What KMeans and MiniBatchKMeans share: the centres in the fit's units and the rest (the
  /// training labels when asked).
  template <typename Model, typename S>
  static void centroid_state(const KMeansEstimator<Model, S>& m, OrderedJson& j,
                             bool training_labels) {
    j["n_features"] = m.prepared_.d();
    j["scale_exponent"] = m.scale_exp_;
    j["centers"] = write_matrix(m.prepared_.centers, "the centres");
    if (training_labels) {
      OrderedJson labels = OrderedJson::array();
      for (Eigen::Index i = 0; i < m.labels_.size(); ++i) labels.push_back(m.labels_(i));
      j["labels"] = std::move(labels);
    }
    j["inertia"] = finite_for_file(m.inertia_, "the inertia");
    j["inertia_exponent"] = m.inertia_exp_;
    j["n_iter"] = m.n_iter_;
  }

  template <typename S>
  static OrderedJson state_json(const KMeans<S>& m, bool training_labels) {
    if (!m.fitted_) return nullptr;
    OrderedJson j;
    centroid_state(m, j, training_labels);
    j["converged"] = m.converged_;
    return j;
  }

  template <typename S>
  static OrderedJson state_json(const MiniBatchKMeans<S>& m, bool training_labels) {
    if (!m.fitted_) return nullptr;
    OrderedJson j;
    centroid_state(m, j, training_labels);
    j["counts"] = write_vector(m.counts_, "the counts");
    j["rows_since_reassignment"] = m.since_reassign_;
    j["n_steps"] = m.n_steps_;
    const Random::State rs = m.rng_.state();
    OrderedJson r;
    r["engine"] = rs.engine;
    r["spare"] = finite_for_file(rs.spare, "the random state");
    r["has_spare"] = rs.has_spare;
    j["random_state"] = std::move(r);
    return j;
  }

  /// Covariances or precision factors in scikit-learn's shapes: full k x d x d, tied d x d,
  /// diagonal k x d, spherical k.
  static OrderedJson blocks_json(CovarianceType type, const std::vector<Eigen::MatrixXd>& blocks,
                                 const char* what) {
    switch (type) {
      case CovarianceType::full: {
        OrderedJson out = OrderedJson::array();
        for (const auto& b : blocks) out.push_back(write_matrix(b, what));
        return out;
      }
      case CovarianceType::tied:
        return write_matrix(blocks.at(0), what);
      case CovarianceType::diagonal: {
        OrderedJson out = OrderedJson::array();
        for (const auto& b : blocks) out.push_back(write_vector(b.col(0), what));
        return out;
      }
      case CovarianceType::spherical:
        break;
    }
    OrderedJson out = OrderedJson::array();
    for (const auto& b : blocks) out.push_back(finite_for_file(b(0, 0), what));
    return out;
  }

  template <typename S>
  static OrderedJson state_json(const GaussianMixture<S>& m, bool /*no training labels*/) {
    if (!m.fitted_) return nullptr;
    const MixtureParams& p = m.params_;
    OrderedJson j;
    j["n_features"] = p.d();
    j["scale_exponent"] = m.exponent_;
    j["weights"] = write_vector(p.weights, "the weights");
    j["noise_weight"] = finite_for_file(p.noise_weight, "the noise weight");
    j["means"] = write_matrix(p.means, "the means");
    j["covariances"] = blocks_json(p.type, p.covariances, "the covariances");
    j["precisions_cholesky"] =
        blocks_json(p.type, p.precisions_cholesky, "the precision Cholesky factors");
    if (m.box_.enabled) {
      j["noise_low"] = write_vector(m.box_.low, "the noise box");
      j["noise_high"] = write_vector(m.box_.high, "the noise box");
    }
    j["lower_bound"] = finite_for_file(m.lower_bound_, "the lower bound");
    j["n_iter"] = m.n_iter_;
    j["converged"] = m.converged_;
    return j;
  }

  template <typename S>
  static OrderedJson state_json(const StandardScaler<S>& m, bool /*no training labels*/) {
    if (!m.fitted_) return nullptr;
    const Eigen::Index d = m.factor_.size();
    OrderedJson j;
    j["n_features"] = d;
    j["n_samples_seen"] = m.n_samples_;
    OrderedJson exponents = OrderedJson::array();
    for (Eigen::Index f = 0; f < d; ++f) exponents.push_back(-std::ilogb(m.factor_(f)));
    j["exponents"] = std::move(exponents);
    j["scaled_mean"] = write_vector(m.scaled_mean_, "the scaled means");
    j["scaled_var"] = write_vector(m.scaled_var_, "the scaled variances");
    j["scaled_std"] = write_vector(m.scaled_std_, "the scaled standard deviations");
    return j;
  }

  /// The estimator's part of a file: "options" and "state" (null when not fitted), or for a
  /// Pipeline its two steps, each an object with "estimator", "options" and "state".
  template <typename Model>
  static void write_body(const Model& m, OrderedJson& j, bool training_labels) {
    j["options"] = options_json(m);
    j["state"] = state_json(m, training_labels);
  }
  template <typename Model>
  static void write_body(const Pipeline<Model>& p, OrderedJson& j, bool training_labels) {
    OrderedJson scaler;
    scaler["estimator"] = EstimatorName<typename Pipeline<Model>::Scaler>::value;
    write_body(p.scaler_, scaler, training_labels);
    OrderedJson model;
    model["estimator"] = EstimatorName<Model>::value;
    write_body(p.model_, model, training_labels);
    j["scaler"] = std::move(scaler);
    j["model"] = std::move(model);
  }

  // ------------------------------------------------------------------------------------------
  // Reading: every field checked, into a new estimator; the caller moves it into the target.

  /// The number of features of a state, with k * d * dd values at most kMaxModelValues.
  static Eigen::Index read_features(const Field& f, Eigen::Index k, Eigen::Index dd_power) {
    const std::int64_t d = read_int(f, 1, std::numeric_limits<std::int64_t>::max());
    const std::int64_t values = checked_values(k, d, dd_power == 2 ? d : 1);
    if (values < 0) {
      f.fail(message(d, " features with ", k, " components or clusters need ",
                     dd_power == 2 ? "k d^2" : "k d", " = ",
                     static_cast<double>(k) * static_cast<double>(d) *
                         (dd_power == 2 ? static_cast<double>(d) : 1.0),
                     " values, more than a model file may hold (", kMaxModelValues,
                     "): refused before allocating"));
    }
    return static_cast<Eigen::Index>(d);
  }

  /// Runs an estimator's own option check; its std::invalid_argument becomes a file error
  /// at /options.
  template <typename F>
  static void check_options(const Field& options, F&& check) {
    try {
      check();
    } catch (const std::invalid_argument& e) {
      options.fail(message("invalid options: ", e.what()));
    }
  }

  /// A Scalar matrix option of k x d (or empty).
  static void check_shape(const Field& f, const Eigen::MatrixXd& M, Eigen::Index rows,
                          Eigen::Index cols) {
    if (M.size() != 0 && (M.rows() != rows || M.cols() != cols)) {
      f.fail(message("is ", M.rows(), " x ", M.cols(), " but the model has ", rows, " x ", cols));
    }
  }

  struct CentroidState {
    Eigen::MatrixXd centers;  // in the fit's units
    Eigen::VectorXi labels;
    double inertia = 0;
    int scale_exp = 0, inertia_exp = 0, n_iter = 0;
  };

  template <typename S>
  static CentroidState read_centroid_state(Fields& s, Eigen::Index k, Eigen::Index d, bool f32) {
    CentroidState c;
    c.scale_exp = read_int32(s("scale_exponent"), -kMaxScaleExponent, kMaxScaleExponent);
    const Field centers = s("centers");
    c.centers = read_matrix(centers, k, d, f32);
    const double largest = static_cast<double>(std::numeric_limits<S>::max());
    for (Eigen::Index i = 0; i < k; ++i) {
      for (Eigen::Index j = 0; j < d; ++j) {
        if (!(std::abs(std::ldexp(c.centers(i, j), c.scale_exp)) <= largest)) {
          centers.item(static_cast<std::size_t>(i))
              .item(static_cast<std::size_t>(j))
              .fail(message("times 2^scale_exponent (", c.scale_exp, ") is beyond the range of ",
                            std::is_same<S, float>::value ? "float" : "double"));
        }
      }
    }
    // The distances are computed from the centres' squared norms in the model's type: they
    // must be finite (centres of 1e308 in double, 1e20 in float are not).
    for (Eigen::Index i = 0; i < k; ++i) {
      const S norm = c.centers.row(i).template cast<S>().squaredNorm();
      if (!std::isfinite(norm)) {
        centers.item(static_cast<std::size_t>(i))
            .fail(message("the squared norm of centre ", i, " is beyond the range of ",
                          std::is_same<S, float>::value ? "float" : "double",
                          " (the model computes its distances from it)"));
      }
    }
    // The labels of the fit's samples: optional (save_model with training_labels = false).
    if (s.has("labels")) {
      const Field labels = s("labels");
      const std::size_t n = read_array(labels);
      c.labels.resize(static_cast<Eigen::Index>(n));
      for (std::size_t i = 0; i < n; ++i) {
        c.labels(static_cast<Eigen::Index>(i)) =
            static_cast<int>(read_int(labels.item(i), 0, static_cast<std::int64_t>(k) - 1));
      }
    }
    const Field inertia = s("inertia");
    c.inertia = read_double(inertia);
    if (c.inertia < 0) inertia.fail(message(c.inertia, " is negative"));
    c.inertia_exp =
        read_int32(s("inertia_exponent"), -4 * kMaxScaleExponent, 4 * kMaxScaleExponent);
    c.n_iter = read_int32(s("n_iter"), 0, INT_MAX);
    return c;
  }

  template <typename S>
  static KMeans<S> read(Fields& body, bool f32, const KMeans<S>& target) {
    const Field options = body("options");
    Fields o(options);
    typename KMeans<S>::Options opt;
    opt.n_clusters = read_int(o("n_clusters"), 1, kMaxModelValues);
    opt.init = read_enum(o("init"), kmeans_init_names());
    const Field initial = o("initial_centers");
    const Eigen::MatrixXd initial_centers = read_any_matrix(initial, f32);
    opt.initial_centers = initial_centers.cast<S>();
    opt.n_init = read_int32(o("n_init"), 0, INT_MAX);
    opt.max_iter = read_int32(o("max_iter"), 1, INT_MAX);
    opt.tol = read_double(o("tol"));
    opt.seed = read_uint64(o("seed"));
    opt.n_local_trials = read_int32(o("n_local_trials"), 0, INT_MAX);
    opt.algorithm = read_enum(o("algorithm"), kmeans_algorithm_names());
    opt.kernel = read_enum(o("kernel"), assign_kernel_names());
    o.finish();
    opt.callback = target.options_.callback;  // functions are not saved: the target's stays
    KMeans<S> m(std::move(opt));
    const Field state = body("state");
    const Eigen::Index k = m.options_.n_clusters;
    if (state.json().is_null()) {
      check_options(options,
                    [&] { m.check_options(k, std::max<Eigen::Index>(1, initial_centers.cols())); });
      return m;
    }
    Fields s(state);
    const Eigen::Index d = read_features(s("n_features"), k, 1);
    check_shape(initial, initial_centers, k, d);
    check_options(options, [&] { m.check_options(k, d); });
    CentroidState c = read_centroid_state<S>(s, k, d, f32);
    const bool converged = read_bool(s("converged"));
    s.finish();
    m.commit(PreparedCenters<S>(c.centers), std::move(c.labels), c.inertia, c.scale_exp,
             c.inertia_exp - 2 * c.scale_exp);
    m.n_iter_ = c.n_iter;
    m.converged_ = converged;
    return m;
  }

  template <typename S>
  static MiniBatchKMeans<S> read(Fields& body, bool f32, const MiniBatchKMeans<S>& target) {
    const Field options = body("options");
    Fields o(options);
    typename MiniBatchKMeans<S>::Options opt;
    opt.n_clusters = read_int(o("n_clusters"), 1, kMaxModelValues);
    opt.init = read_enum(o("init"), kmeans_init_names());
    const Field initial = o("initial_centers");
    const Eigen::MatrixXd initial_centers = read_any_matrix(initial, f32);
    opt.initial_centers = initial_centers.cast<S>();
    opt.batch_size = read_int(o("batch_size"), 1, std::numeric_limits<std::int64_t>::max());
    opt.max_iter = read_int32(o("max_iter"), 1, INT_MAX);
    opt.n_init = read_int32(o("n_init"), 1, INT_MAX);
    opt.init_size = read_int(o("init_size"), 0, std::numeric_limits<std::int64_t>::max());
    opt.reassignment_ratio = read_double(o("reassignment_ratio"));
    opt.max_no_improvement = read_int32(o("max_no_improvement"), 0, INT_MAX);
    opt.tol = read_double(o("tol"));
    opt.compute_labels = read_bool(o("compute_labels"));
    opt.seed = read_uint64(o("seed"));
    opt.kernel = read_enum(o("kernel"), assign_kernel_names());
    o.finish();
    opt.callback = target.options_.callback;
    MiniBatchKMeans<S> m(std::move(opt));
    const char* where = "MiniBatchKMeans";
    const Field state = body("state");
    const Eigen::Index k = m.options_.n_clusters;
    if (state.json().is_null()) {
      check_options(options, [&] {
        m.check_options(where, k, std::max<Eigen::Index>(1, initial_centers.cols()));
      });
      return m;
    }
    Fields s(state);
    const Eigen::Index d = read_features(s("n_features"), k, 1);
    check_shape(initial, initial_centers, k, d);
    check_options(options, [&] { m.check_options(where, k, d); });
    CentroidState c = read_centroid_state<S>(s, k, d, f32);
    typename MiniBatchKMeans<S>::State st;
    const Field counts = s("counts");
    st.counts = read_vector(counts, k, false);
    for (Eigen::Index j = 0; j < k; ++j) {
      if (st.counts(j) < 0) counts.item(static_cast<std::size_t>(j)).fail("a count is negative");
    }
    // Rows since the last reassignment: reset once they reach 10 k (so below that), steps
    // far below the largest long (a step adds one).
    st.since_reassign = static_cast<long>(
        read_int(s("rows_since_reassignment"), 0,
                 MiniBatchKMeans<S>::kReassignRowsPerCluster * static_cast<std::int64_t>(k) - 1));
    const long n_steps = static_cast<long>(read_int(s("n_steps"), 1, std::int64_t(1) << 62));
    const Field random = s("random_state");
    Fields r(random);
    Random::State rs;
    const Field engine = r("engine");
    const std::size_t words = Random::engine_state_size();
    if (read_array(engine) != words) {
      engine.fail(message("has ", engine.json().size(), " numbers, but this build's ",
                          "std::mt19937_64 state has ", words,
                          " (a file written with another standard library?)"));
    }
    for (std::size_t i = 0; i < words; ++i) rs.engine.push_back(read_uint64(engine.item(i)));
    rs.spare = read_double(r("spare"));
    rs.has_spare = read_bool(r("has_spare"));
    r.finish();
    Random rng(0);
    if (!rng.restore(rs)) engine.fail("not a state of std::mt19937_64");
    s.finish();
    m.commit(std::move(st), PreparedCenters<S>(c.centers), std::move(c.labels), c.inertia, n_steps,
             rng, c.scale_exp, c.inertia_exp - 2 * c.scale_exp);
    m.n_iter_ = c.n_iter;
    return m;
  }

  /// A covariance block of `type`, in compact form, checked.
  static Eigen::MatrixXd check_covariance(const Field& f, Eigen::MatrixXd c, CovarianceType type) {
    if (type == CovarianceType::full || type == CovarianceType::tied) {
      const double largest = c.cwiseAbs().maxCoeff();
      for (Eigen::Index i = 0; i < c.rows(); ++i) {
        if (!(c(i, i) > 0)) f.fail(message("diagonal entry ", i, " is ", c(i, i), ", not > 0"));
        for (Eigen::Index j = 0; j < i; ++j) {
          if (std::abs(c(i, j) - c(j, i)) > 1e-6 * largest) {
            f.fail(message("is not symmetric: entries (", i, ", ", j, ") and (", j, ", ", i,
                           ") differ by more than 1e-6 times the largest entry"));
          }
        }
      }
      if (Eigen::LLT<Eigen::MatrixXd>(c).info() != Eigen::Success) {
        f.fail("is not positive definite");
      }
    } else {
      for (Eigen::Index i = 0; i < c.size(); ++i) {
        if (!(c(i) > 0)) f.fail(message("a variance is ", c(i), ", not > 0"));
      }
    }
    return c;
  }

  /// A precision Cholesky block, checked: upper triangular with a positive diagonal (full,
  /// tied), positive entries (diagonal, spherical).
  static Eigen::MatrixXd check_precision(const Field& f, Eigen::MatrixXd p, CovarianceType type) {
    if (type == CovarianceType::full || type == CovarianceType::tied) {
      for (Eigen::Index i = 0; i < p.rows(); ++i) {
        if (!(p(i, i) > 0)) f.fail(message("diagonal entry ", i, " is ", p(i, i), ", not > 0"));
        for (Eigen::Index j = 0; j < i; ++j) {
          if (p(i, j) != 0) {
            f.fail(message("entry (", i, ", ", j, ") below the diagonal is ", p(i, j),
                           ": a precision Cholesky factor is upper triangular"));
          }
        }
      }
    } else {
      for (Eigen::Index i = 0; i < p.size(); ++i) {
        if (!(p(i) > 0)) f.fail(message("an entry is ", p(i), ", not > 0"));
      }
    }
    return p;
  }

  /// Covariances or precision factors from scikit-learn's shapes into compact blocks.
  template <typename Check>
  static std::vector<Eigen::MatrixXd> read_blocks(const Field& f, CovarianceType type,
                                                  Eigen::Index k, Eigen::Index d, Check check) {
    std::vector<Eigen::MatrixXd> blocks;
    switch (type) {
      case CovarianceType::full:
        read_array(f, k);
        for (Eigen::Index j = 0; j < k; ++j) {
          const Field b = f.item(static_cast<std::size_t>(j));
          blocks.push_back(check(b, read_matrix(b, d, d, false), type));
        }
        break;
      case CovarianceType::tied:
        blocks.push_back(check(f, read_matrix(f, d, d, false), type));
        break;
      case CovarianceType::diagonal:
        read_array(f, k);
        for (Eigen::Index j = 0; j < k; ++j) {
          const Field b = f.item(static_cast<std::size_t>(j));
          blocks.push_back(check(b, Eigen::MatrixXd(read_vector(b, d, false)), type));
        }
        break;
      case CovarianceType::spherical:
        read_array(f, k);
        for (Eigen::Index j = 0; j < k; ++j) {
          const Field b = f.item(static_cast<std::size_t>(j));
          blocks.push_back(check(b, Eigen::MatrixXd::Constant(1, 1, read_double(b)), type));
        }
        break;
    }
    return blocks;
  }

  /// Tolerance on |sum of the weights (and the noise weight) - 1| in a file.
  static constexpr double kWeightSumTolerance = 1e-8;
  /// Tolerance on the precision Cholesky factors against the covariances: each block may
  /// differ from the factor computed from its covariance (as the fit computes it) by this
  /// much times the block's largest entry. The rounding of a double computation stays far
  /// below it (about 1e-16 times the square root of the condition number).
  static constexpr double kPrecisionTolerance = 1e-6;

  /// Refuses precision factors that do not belong to the covariances (one edited without the
  /// other would make sample() and predict() use different models).
  static void check_consistent(const Field& precisions, const MixtureParams& p, Eigen::Index k) {
    const std::size_t blocks = p.type == CovarianceType::tied ? 1 : static_cast<std::size_t>(k);
    for (std::size_t b = 0; b < blocks; ++b) {
      const Field f = p.type == CovarianceType::tied ? precisions : precisions.item(b);
      Eigen::MatrixXd expected;
      try {
        expected = precision_cholesky_from_covariance(
            p.covariances[b], p.type, static_cast<Eigen::Index>(b), 0.0, "load_model");
      } catch (const numerical_error&) {
        f.fail("its covariance has no precision factor (not positive definite)");
      }
      const double largest = expected.cwiseAbs().maxCoeff();
      const double gap = (p.precisions_cholesky[b] - expected).cwiseAbs().maxCoeff();
      if (!(gap <= kPrecisionTolerance * largest)) {
        f.fail(
            message("does not match its covariance: it differs from the factor computed from "
                    "the covariance by ",
                    gap, ", more than 1e-6 times its largest entry (", largest,
                    "); was one edited without the other?"));
      }
    }
  }

  template <typename S>
  static GaussianMixture<S> read(Fields& body, bool f32, const GaussianMixture<S>& target) {
    const Field options = body("options");
    Fields o(options);
    typename GaussianMixture<S>::Options opt;
    opt.n_components = read_int(o("n_components"), 1, kMaxModelValues);
    opt.covariance_type = read_enum(o("covariance_type"), covariance_type_names());
    opt.tol = read_double(o("tol"));
    opt.reg_covar = read_double(o("reg_covar"));
    opt.max_iter = read_int32(o("max_iter"), 1, INT_MAX);
    opt.n_init = read_int32(o("n_init"), 1, INT_MAX);
    opt.init = read_enum(o("init"), mixture_init_names());
    opt.initial_weights = read_any_vector(o("initial_weights"), f32).cast<S>();
    opt.initial_means = read_any_matrix(o("initial_means"), f32).cast<S>();
    const Field precisions = o("initial_precisions");
    const std::size_t blocks = read_array(precisions);
    if (blocks > static_cast<std::size_t>(opt.n_components)) {
      precisions.fail(message("has ", blocks, " blocks, more than n_components"));
    }
    for (std::size_t b = 0; b < blocks; ++b) {
      opt.initial_precisions.push_back(read_any_matrix(precisions.item(b), f32).cast<S>());
    }
    opt.warm_start = read_bool(o("warm_start"));
    opt.seed = read_uint64(o("seed"));
    opt.noise_component = read_bool(o("noise_component"));
    opt.noise_low = read_any_vector(o("noise_low"), false);
    opt.noise_high = read_any_vector(o("noise_high"), false);
    opt.initial_noise_weight = read_double(o("initial_noise_weight"));
    o.finish();
    opt.callback = target.options_.callback;
    GaussianMixture<S> m(std::move(opt));
    const auto& mo = m.options_;
    const Eigen::Index k = mo.n_components;
    const CovarianceType type = mo.covariance_type;
    const char* where = "GaussianMixture";
    const Field state = body("state");
    if (state.json().is_null()) {
      Eigen::Index d = std::max(mo.initial_means.cols(), mo.noise_low.size());
      if (d == 0 && !mo.initial_precisions.empty()) d = mo.initial_precisions[0].rows();
      check_options(options,
                    [&] { check_mixture_options(mo, k, std::max<Eigen::Index>(d, 1), where); });
      return m;
    }
    Fields s(state);
    const Eigen::Index d = read_features(
        s("n_features"), k, type == CovarianceType::full || type == CovarianceType::tied ? 2 : 1);
    check_options(options, [&] { check_mixture_options(mo, k, d, where); });
    const int e = read_int32(s("scale_exponent"), -kMaxScaleExponent, kMaxScaleExponent);
    MixtureParams p;
    p.type = type;
    const Field weights = s("weights");
    p.weights = read_vector(weights, k, false);
    for (Eigen::Index j = 0; j < k; ++j) {
      if (!(p.weights(j) > 0 && p.weights(j) <= 1)) {
        weights.item(static_cast<std::size_t>(j))
            .fail(message("weight ", p.weights(j), " is not in (0, 1]"));
      }
    }
    const Field noise_weight = s("noise_weight");
    p.noise_weight = read_double(noise_weight);
    // (1 where the noise took every sample: the Gaussians keep the M-step's tiny weights.)
    if (mo.noise_component && !(p.noise_weight > 0 && p.noise_weight <= 1)) {
      noise_weight.fail(message(p.noise_weight, " is not in (0, 1]"));
    }
    if (!mo.noise_component && p.noise_weight != 0) {
      noise_weight.fail(message(p.noise_weight, " is not 0, but the model has no noise component"));
    }
    const double sum = p.weights.sum() + p.noise_weight;
    if (!(std::abs(sum - 1.0) <= kWeightSumTolerance)) {
      weights.fail(
          message("the weights and the noise weight sum to ", sum, ", not 1 (tolerance 1e-8)"));
    }
    p.means = read_matrix(s("means"), k, d, false);
    p.covariances = read_blocks(s("covariances"), type, k, d, &check_covariance);
    const Field precisions_field = s("precisions_cholesky");
    p.precisions_cholesky = read_blocks(precisions_field, type, k, d, &check_precision);
    check_consistent(precisions_field, p, k);
    NoiseBox box;
    if (mo.noise_component) {
      const Field low_field = s("noise_low");
      const Field high_field = s("noise_high");
      const Eigen::VectorXd low = read_vector(low_field, d, false);
      const Eigen::VectorXd high = read_vector(high_field, d, false);
      for (Eigen::Index f = 0; f < d; ++f) {
        if (!(low(f) < high(f)) || !std::isfinite(high(f) - low(f))) {
          high_field.item(static_cast<std::size_t>(f))
              .fail(message("the noise box needs noise_low < noise_high with a finite width, got ",
                            low(f), " and ", high(f)));
        }
      }
      box = make_noise_box(Eigen::MatrixXd(), low, high, where, LocalReducer(0));
      if (!std::isfinite(box.log_density)) {
        low_field.fail("the noise box's volume is beyond the range of double");
      }
    }
    const double lower_bound = read_double(s("lower_bound"));
    const int n_iter = read_int32(s("n_iter"), 0, INT_MAX);
    const bool converged = read_bool(s("converged"));
    s.finish();
    try {
      m.commit(std::move(p), box, e, lower_bound, n_iter, converged);
    } catch (const numerical_error& err) {
      file_fail(s.field().path() + "/means", err.what());
    }
    return m;
  }

  template <typename S>
  static StandardScaler<S> read(Fields& body, bool /*f32: the state is in double*/,
                                const StandardScaler<S>&) {
    Fields o(body("options"));
    typename StandardScaler<S>::Options opt;
    opt.with_mean = read_bool(o("with_mean"));
    opt.with_std = read_bool(o("with_std"));
    o.finish();
    StandardScaler<S> m(opt);
    const Field state = body("state");
    if (state.json().is_null()) return m;
    Fields s(state);
    const Eigen::Index d = read_features(s("n_features"), 1, 1);
    const Eigen::Index n =
        read_int(s("n_samples_seen"), 1, std::numeric_limits<std::int64_t>::max());
    const Field exponents = s("exponents");
    read_array(exponents, d);
    Eigen::VectorXi e(d);
    for (Eigen::Index f = 0; f < d; ++f) {
      e(f) = read_int32(exponents.item(static_cast<std::size_t>(f)),
                        std::numeric_limits<double>::min_exponent - 1,
                        std::numeric_limits<double>::max_exponent - 2);
    }
    const Field mean_field = s("scaled_mean"), var_field = s("scaled_var"),
                std_field = s("scaled_std");
    const Eigen::VectorXd mean = read_vector(mean_field, d, false);
    const Eigen::VectorXd var = read_vector(var_field, d, false);
    const Eigen::VectorXd sd = read_vector(std_field, d, false);
    for (Eigen::Index f = 0; f < d; ++f) {
      const auto i = static_cast<std::size_t>(f);
      // The data times 2^-e lie in (-2, 2): so do their mean, and their variance is below 4.
      if (!(std::abs(mean(f)) <= 2)) mean_field.item(i).fail("not in [-2, 2]");
      if (!(var(f) >= 0 && var(f) <= 4)) var_field.item(i).fail("not in [0, 4]");
      // The standard deviation of a column, or 2^-e for a constant one (1 in its units).
      if (sd(f) != std::sqrt(var(f)) && sd(f) != std::ldexp(1.0, -e(f))) {
        std_field.item(i).fail(
            "neither the square root of scaled_var nor 2^-exponent (a constant feature)");
      }
    }
    s.finish();
    m.commit(e, mean, var, sd, n);
    return m;
  }

  template <typename Model>
  static Pipeline<Model> read(Fields& body, bool f32, const Pipeline<Model>& target) {
    using Scaler = typename Pipeline<Model>::Scaler;
    Pipeline<Model> p;
    {
      Fields step(body("scaler"));
      const Field name = step("estimator");
      if (read_string(name) != EstimatorName<Scaler>::value) {
        name.fail(message("the first step of a Pipeline is a ", EstimatorName<Scaler>::value));
      }
      p.scaler_ = read(step, f32, target.scaler_);
      step.finish();
    }
    {
      Fields step(body("model"));
      const Field name = step("estimator");
      const std::string got = read_string(name);
      if (got != EstimatorName<Model>::value) {
        name.fail(
            message("the file's model is ", quoted(got), ", not ", EstimatorName<Model>::value));
      }
      p.model_ = read(step, f32, target.model_);
      step.finish();
    }
    return p;
  }
};

}  // namespace emcluster::detail
