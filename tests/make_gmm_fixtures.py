#!/usr/bin/python3
"""Reference results of scikit-learn's GaussianMixture for tests/test_gaussian_mixture.cpp.

Regenerate (from the repository root, with Debian's python3-sklearn, scikit-learn 1.2.1):

    /usr/bin/python3 tests/make_gmm_fixtures.py

It rewrites, deterministically (fixed numpy seed):

    tests/data/gmm_sklearn_X.csv      240 x 3 data, one sample per line
    tests/data/gmm_sklearn_cases.txt  one block per case (see below)

The data are 3 overlapping, elongated Gaussian clusters in 3-D, rounded to 6 decimals; every
number is written with repr() (the shortest text that reads back as the same double). Each case
starts from explicit parameters, so no random initialisation is involved:

    GaussianMixture(n_components=3, covariance_type=<type>, tol=<tol>, reg_covar=<reg>,
                    max_iter=<max_iter>, weights_init=..., means_init=..., precisions_init=...)

With tol = 0 the test |change| < tol never holds and exactly max_iter EM iterations run. Every
iteration is an E-step under the current parameters (its mean log-likelihood is the lower
bound) followed by an M-step, so lower_bound_ belongs to the parameters before the last
M-step, and weights_/means_/covariances_ are those after it. Stored tokens:

    case <name> type <full|tied|diag|spherical> tol <tol> reg_covar <r> max_iter <m> k <k> d <d>
    weights_init <k>
    means_init <k*d, row by row>
    precisions_init <count> <numbers>   compact blocks, sklearn's shape flattened:
                                        full k*d*d, tied d*d, diag k*d, spherical k
    weights <k>                          weights_
    means <k*d>                          means_
    covariances <count> <numbers>        covariances_ flattened, same layout as the precisions
    precisions_cholesky <count> <nums>   precisions_cholesky_ flattened
    lower_bound <x>                      lower_bound_
    n_iter <int>                         n_iter_
    converged <0|1>                      converged_
    bic <x>                              bic(X)
    aic <x>                              aic(X)
    score_samples <n>                    score_samples(X)
    labels <n ints>                      predict(X)
    end
"""
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")


def make_data(rng):
    means = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -1.0], [1.0, 4.5, 2.0]])
    mixing = [
        np.array([[1.5, 0.0, 0.0], [0.9, 0.5, 0.0], [0.0, 0.3, 0.7]]),
        np.array([[0.6, 0.0, 0.0], [-0.4, 1.2, 0.0], [0.2, 0.0, 0.5]]),
        np.array([[1.0, 0.0, 0.0], [0.0, 0.4, 0.0], [0.7, -0.5, 1.1]]),
    ]
    counts = [100, 80, 60]
    parts = [m + rng.normal(size=(c, 3)) @ a.T for m, a, c in zip(means, mixing, counts)]
    X = np.vstack(parts)
    X = X[rng.permutation(X.shape[0])]
    return np.round(X, 6)


def fmt(values):
    return " ".join(repr(float(v)) for v in np.ravel(values))


def initial_precisions(cov_type, k, d, rng):
    """Deterministic, well-conditioned precisions in scikit-learn's shape for cov_type."""
    if cov_type == "full":
        out = []
        for _ in range(k):
            a = rng.normal(size=(d, d)) * 0.3
            cov = np.eye(d) * 1.5 + a @ a.T
            out.append(np.linalg.inv(cov))
        return np.array(out)
    if cov_type == "tied":
        a = rng.normal(size=(d, d)) * 0.3
        return np.linalg.inv(np.eye(d) * 2.0 + a @ a.T)
    if cov_type == "diag":
        return 1.0 / rng.uniform(0.8, 2.5, size=(k, d))
    return 1.0 / rng.uniform(0.8, 2.5, size=k)


def main():
    if sklearn.__version__ != "1.2.1":
        print(f"warning: scikit-learn {sklearn.__version__}, the fixtures were made with 1.2.1",
              file=sys.stderr)
    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.default_rng(20240612)
    X = make_data(rng)
    n, d = X.shape
    k = 3
    weights_init = np.array([0.25, 0.35, 0.40])
    means_init = np.round(X[[5, 50, 150]] + 0.5, 6)   # three data rows, nudged

    cases = []
    for cov_type in ["full", "tied", "diag", "spherical"]:
        prec = initial_precisions(cov_type, k, d, rng)
        cases.append((f"{cov_type}_iter5", cov_type, 0.0, 1e-6, 5, prec))
        cases.append((f"{cov_type}_tol", cov_type, 1e-3, 1e-6, 100, prec))
    cases.append(("full_reg", "full", 0.0, 0.1, 8, cases[0][5]))   # a large reg_covar

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "gmm_sklearn_X.csv"), "w") as f:
        for row in X:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    with open(os.path.join(OUT, "gmm_sklearn_cases.txt"), "w") as f:
        f.write(f"# made by tests/make_gmm_fixtures.py with scikit-learn {sklearn.__version__}, "
                f"numpy {np.__version__}\n")
        for name, cov_type, tol, reg, max_iter, prec in cases:
            gm = GaussianMixture(n_components=k, covariance_type=cov_type, tol=tol, reg_covar=reg,
                                 max_iter=max_iter, weights_init=weights_init,
                                 means_init=means_init, precisions_init=prec)
            gm.fit(X)
            f.write(f"case {name} type {cov_type} tol {tol!r} reg_covar {reg!r} "
                    f"max_iter {max_iter} k {k} d {d}\n")
            f.write("weights_init " + fmt(weights_init) + "\n")
            f.write("means_init " + fmt(means_init) + "\n")
            f.write(f"precisions_init {np.size(prec)} " + fmt(prec) + "\n")
            f.write("weights " + fmt(gm.weights_) + "\n")
            f.write("means " + fmt(gm.means_) + "\n")
            f.write(f"covariances {np.size(gm.covariances_)} " + fmt(gm.covariances_) + "\n")
            f.write(f"precisions_cholesky {np.size(gm.precisions_cholesky_)} "
                    + fmt(gm.precisions_cholesky_) + "\n")
            f.write(f"lower_bound {float(gm.lower_bound_)!r}\n")
            f.write(f"n_iter {int(gm.n_iter_)}\n")
            f.write(f"converged {int(gm.converged_)}\n")
            f.write(f"bic {float(gm.bic(X))!r}\n")
            f.write(f"aic {float(gm.aic(X))!r}\n")
            f.write("score_samples " + fmt(gm.score_samples(X)) + "\n")
            f.write("labels " + " ".join(str(int(v)) for v in gm.predict(X)) + "\n")
            f.write("end\n")
            print(f"{name}: n_iter {gm.n_iter_}, converged {gm.converged_}, "
                  f"lower_bound {gm.lower_bound_:.10g}, weights {np.round(gm.weights_, 4).tolist()}")


if __name__ == "__main__":
    main()
