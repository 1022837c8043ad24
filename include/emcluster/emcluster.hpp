/// @file emcluster.hpp
/// @brief All of emcluster in one include.
///
/// @code
/// #include <emcluster/emcluster.hpp>
///
/// auto data = emcluster::make_article_data();                    // 1830 x 2 and true labels
/// Eigen::MatrixXd Z = emcluster::StandardScaler<>().fit_transform(data.X);
/// emcluster::KMeans<>::Options opts;
/// opts.n_clusters = 3;
/// Eigen::VectorXi labels = emcluster::KMeans<>(opts).fit_predict(Z);
/// double ari = emcluster::adjusted_rand_score(data.labels, labels);
/// @endcode
///
/// Each header can also be included on its own; they include what they use.
#pragma once

#include "datasets.hpp"
#include "exceptions.hpp"
#include "gaussian_mixture.hpp"
#include "internal_metrics.hpp"
#include "kmeans.hpp"
#include "metrics.hpp"
#include "minibatch_kmeans.hpp"
#include "model_selection.hpp"
#include "options.hpp"
#include "pipeline.hpp"
#include "preprocessing.hpp"
#include "version.hpp"
