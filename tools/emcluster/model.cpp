// predict, score and sample: a saved model (any estimator, float32 or float64) on DATA.
#include <emcluster/exceptions.hpp>
#include <emcluster/gaussian_mixture.hpp>
#include <emcluster/io.hpp>
#include <emcluster/kmeans.hpp>
#include <emcluster/minibatch_kmeans.hpp>
#include <emcluster/pipeline.hpp>

#include <Eigen/Core>

#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "commands.hpp"

namespace emcluster_cli {
namespace {

// ---- predict, score, sample: a saved model ----------------------------------------------

/// Calls f with the loaded model of the file, whatever its estimator and scalar type.
template <class F>
void with_model(const std::string& path, F&& f) {
  const auto info = emcluster::read_model_info(path);
  const bool f32 = info.scalar == "float32";
  const std::string& e = info.estimator;
  const std::string& inner = info.model_estimator;
  using namespace emcluster;
  const auto dispatch = [&](auto tag) {
    using S = decltype(tag);
    if (e == "KMeans") return f(load_model<KMeans<S>>(path));
    if (e == "MiniBatchKMeans") return f(load_model<MiniBatchKMeans<S>>(path));
    if (e == "GaussianMixture") return f(load_model<GaussianMixture<S>>(path));
    if (e == "Pipeline" && inner == "KMeans") return f(load_model<Pipeline<KMeans<S>>>(path));
    if (e == "Pipeline" && inner == "MiniBatchKMeans") {
      return f(load_model<Pipeline<MiniBatchKMeans<S>>>(path));
    }
    if (e == "Pipeline" && inner == "GaussianMixture") {
      return f(load_model<Pipeline<GaussianMixture<S>>>(path));
    }
    throw model_file_error(path + ": a " + e +
                           " model cannot cluster (expected KMeans, MiniBatchKMeans, "
                           "GaussianMixture or a Pipeline of one)");
  };
  if (f32) {
    dispatch(float{});
  } else {
    dispatch(double{});
  }
}

template <class M>
struct IsMixture : std::false_type {};
template <class S>
struct IsMixture<emcluster::GaussianMixture<S>> : std::true_type {};
template <class S>
struct IsMixture<emcluster::Pipeline<emcluster::GaussianMixture<S>>> : std::true_type {};

template <class M>
const auto& mixture_of(const M& m) {
  if constexpr (std::is_same<M, emcluster::GaussianMixture<typename M::Matrix::Scalar>>::value) {
    return m;
  } else {
    return m.model();
  }
}

template <class M>
using ScalarOf = typename M::Matrix::Scalar;

}  // namespace

int run_predict(const PredictArgs& a) {
  with_model(a.model, [&](const auto& model) {
    using M = std::decay_t<decltype(model)>;
    using S = ScalarOf<M>;
    const Data<S> data = read_data<S>(a.data);
    if constexpr (IsMixture<M>::value) {
      if (a.proba) {
        const auto& mix = mixture_of(model);
        write_output(a.out, model.predict_proba(data.X),
                     probability_header(mix.n_components(), mix.options().noise_component));
        return;
      }
    } else {
      if (a.proba) {
        throw emcluster::model_file_error(a.model +
                                          ": --proba needs a Gaussian mixture; this model is "
                                          "a K-means model (use predict without --proba)");
      }
    }
    write_output(a.out, model.predict(data.X), {"label"});
  });
  return 0;
}

int run_score(const PredictArgs& a) {
  with_model(a.model, [&](const auto& model) {
    using M = std::decay_t<decltype(model)>;
    using S = ScalarOf<M>;
    const Data<S> data = read_data<S>(a.data);
    const double score = model.score(data.X);
    std::printf("rows %ld\n", static_cast<long>(data.X.rows()));
    if constexpr (IsMixture<M>::value) {
      std::printf("mean log-likelihood %.17g\n", score);
      if constexpr (std::is_same<M, emcluster::GaussianMixture<S>>::value) {
        std::printf("BIC %.17g\nAIC %.17g\n", model.bic(data.X), model.aic(data.X));
      }
    } else {
      std::printf("inertia %.17g\n", -score);
    }
  });
  return 0;
}

int run_sample(const SampleArgs& a) {
  with_model(a.model, [&](const auto& model) {
    using M = std::decay_t<decltype(model)>;
    using S = ScalarOf<M>;
    if constexpr (IsMixture<M>::value) {
      const auto& mix = mixture_of(model);
      auto [points, components] = mix.sample(a.n, a.seed);
      Eigen::MatrixXd out(points.rows(), points.cols() + 1);
      if constexpr (!std::is_same<M, emcluster::GaussianMixture<S>>::value) {
        points = model.scaler().inverse_transform(points);  // back to the data's units
      }
      out.leftCols(points.cols()) = points.template cast<double>();
      out.col(points.cols()) = components.template cast<double>();
      std::vector<std::string> header;
      for (Eigen::Index j = 0; j < points.cols(); ++j) header.push_back("x" + std::to_string(j));
      header.push_back("component");
      write_output(a.out, out, header);
    } else {
      throw emcluster::model_file_error(a.model +
                                        ": sample needs a Gaussian mixture; this model is a "
                                        "K-means model");
    }
  });
  return 0;
}

}  // namespace emcluster_cli
