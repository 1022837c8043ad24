#!/usr/bin/python3
"""Reference results of scikit-learn's Lloyd K-means for tests/test_kmeans.cpp.

Regenerate (from the repository root, with Debian's python3-sklearn, scikit-learn 1.2.1):

    /usr/bin/python3 tests/make_kmeans_fixtures.py

It rewrites, deterministically (fixed numpy seed, no threading effects at this size):

    tests/data/kmeans_sklearn_X.csv        300 x 3 data, one sample per line
    tests/data/kmeans_sklearn_weights.csv  300 sample weights, one per line
    tests/data/kmeans_sklearn_cases.txt    one block per case (see below)

The data are 4 overlapping Gaussian blobs in 3-D, rounded to 6 decimals so that the files
stay small; every number is written with repr(), the shortest text that reads back as the
same double (full precision, like %.17g). Each case runs

    KMeans(n_clusters=k, init=<init array>, n_init=1, algorithm="lloyd", tol=tol,
           max_iter=300).fit(X, sample_weight=w or None)

and stores, as whitespace-separated tokens:

    case <name> weighted <0|1> tol <tol> k <k> d <d>
    init <k*d numbers, row by row>
    centers <k*d numbers, row by row>      cluster_centers_
    inertia <number>                       inertia_
    n_iter <int>                           n_iter_
    labels <n ints>                        labels_
    end

Notes on scikit-learn 1.2 semantics the C++ side must match: its absolute tolerance is
tol * mean(np.var(X, axis=0)) (unweighted, even with sample weights); it stops on unchanged
labels or on a total squared centre shift <= that tolerance, then re-assigns once; an empty
cluster takes the sample farthest from its centre (the "far" cases start one centre far away
from all data, so exactly one cluster is empty in the first iteration and the relocation is
deterministic).
"""
import os
import sys

import numpy as np
import sklearn
from sklearn.cluster import KMeans

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")


def make_data(rng):
    means = np.array([[0.0, 0.0, 0.0], [3.0, 1.0, 0.5], [0.5, 3.5, 1.0], [2.5, 2.5, 3.5]])
    counts = [90, 80, 70, 60]
    parts = [m + rng.normal(size=(c, 3)) * np.array([1.0, 0.8, 1.2]) for m, c in zip(means, counts)]
    X = np.vstack(parts)
    X = X[rng.permutation(X.shape[0])]
    return np.round(X, 6)


def fmt(values):
    return " ".join(repr(float(v)) for v in np.ravel(values))


def main():
    if sklearn.__version__ != "1.2.1":
        print(f"warning: scikit-learn {sklearn.__version__}, the fixtures were made with 1.2.1",
              file=sys.stderr)
    rng = np.random.default_rng(20240611)
    X = make_data(rng)
    n, d = X.shape
    w = np.round(rng.uniform(0.2, 3.0, size=n), 4)

    k = 4
    init_rows = X[[3, 17, 42, 101]].copy()        # four data rows: a plain start
    far = init_rows.copy()
    far[3] = [40.0, -35.0, 50.0]                  # far from all data: empty in iteration 1
    cases = [
        ("rows_tol", False, 1e-4, init_rows),
        ("rows_tol0", False, 0.0, init_rows),
        ("rows_tol3e-3", False, 3e-3, init_rows),     # stops on the shift, before labels settle
        ("far_tol0", False, 0.0, far),
        ("weighted_tol", True, 1e-4, init_rows),
        ("weighted_tol1e-3", True, 1e-3, init_rows),  # stops on the shift, before labels settle
        ("weighted_far_tol0", True, 0.0, far),
    ]

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "kmeans_sklearn_X.csv"), "w") as f:
        for row in X:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    with open(os.path.join(OUT, "kmeans_sklearn_weights.csv"), "w") as f:
        for v in w:
            f.write(repr(float(v)) + "\n")
    with open(os.path.join(OUT, "kmeans_sklearn_cases.txt"), "w") as f:
        f.write(f"# made by tests/make_kmeans_fixtures.py with scikit-learn {sklearn.__version__}, "
                f"numpy {np.__version__}\n")
        for name, weighted, tol, init in cases:
            km = KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd", tol=tol, max_iter=300)
            km.fit(X, sample_weight=w if weighted else None)
            f.write(f"case {name} weighted {int(weighted)} tol {tol!r} k {k} d {d}\n")
            f.write("init " + fmt(init) + "\n")
            f.write("centers " + fmt(km.cluster_centers_) + "\n")
            f.write(f"inertia {float(km.inertia_)!r}\n")
            f.write(f"n_iter {int(km.n_iter_)}\n")
            f.write("labels " + " ".join(str(int(v)) for v in km.labels_) + "\n")
            f.write("end\n")
            print(f"{name}: n_iter {km.n_iter_}, inertia {km.inertia_:.10g}, "
                  f"cluster sizes {np.bincount(km.labels_, minlength=k).tolist()}")


if __name__ == "__main__":
    main()
