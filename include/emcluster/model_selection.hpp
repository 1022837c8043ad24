/// @file model_selection.hpp
/// @brief Choosing the number of clusters and the model: a search over Gaussian mixtures
/// (k x covariance type x noise component, scored by BIC, ICL or AIC, as R's mclust's
/// mclustBIC) and a search over K-means (k, scored by the silhouette, Calinski-Harabasz or
/// Davies-Bouldin index). Each returns one row per candidate, the best model ready to use,
/// and the table as aligned text and as CSV.
///
/// This header gathers them: search_types.hpp (the criteria, scores and candidate rows),
/// mixture_search.hpp (GaussianMixtureSearch) and kmeans_search.hpp (KMeansSearch); it also
/// includes metrics.hpp.
///
/// @code
/// #include <emcluster/model_selection.hpp>
///
/// Eigen::MatrixXd Z = ...;                               // n x d, standardized
/// emcluster::GaussianMixtureSearch<>::Options opts;      // k = 1..9, all four types, BIC
/// opts.noise = emcluster::NoiseSearch::both;             // with and without a noise component
/// emcluster::GaussianMixtureSearch<> search(opts);
/// search.fit(Z);
/// std::cout << search.summary();                         // BIC by k and model, top three
/// const auto& best = search.best();                      // k, covariance type, noise, BIC, ...
/// Eigen::VectorXi labels = search.best_model().predict(Z);  // -1 for noise
/// @endcode
#pragma once

#include "kmeans_search.hpp"
#include "metrics.hpp"
#include "mixture_search.hpp"
#include "search_types.hpp"
