#!/usr/bin/python3
"""Model-selection peer: the scikit-learn loop a user writes to choose k and the covariance
type, on the data of emcluster_bench_model_selection (bench/model_selection.cpp), which
starts it (with Debian's /usr/bin/python3, scikit-learn 1.2.1) as

    peer_sklearn_search.py x=<data.f64> n=<rows> d=<columns> ks=1,2,...,9 seed=0

and reads the one line it prints:

    RESULT time=<seconds of the loop> best_bic=<x> best=<type>,<k> fits=<cells> failed=<cells> blas=<...>

For every k and every covariance type (full, tied, diag, spherical) one
GaussianMixture(n_components=k, covariance_type=type, n_init=1, init_params="kmeans",
random_state=seed) with every other option at its default (tol 1e-3, reg_covar 1e-6,
max_iter 100), fitted and scored with bic(X); a fit that raises counts as failed. The time is
the whole loop, fits and BIC, reading the data not counted.
"""
import sys
import time
import warnings


def main():
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    warnings.simplefilter("ignore", ConvergenceWarning)
    n, d = int(args["n"]), int(args["d"])
    ks = [int(k) for k in args.get("ks", "1,2,3,4,5,6,7,8,9").split(",")]
    seed = int(args.get("seed", "0"))
    X = np.fromfile(args["x"], dtype=np.float64).reshape(n, d)
    names = {"full": "full", "tied": "tied", "diag": "diagonal", "spherical": "spherical"}
    best, best_bic, failed, fits = None, float("inf"), 0, 0
    start = time.perf_counter()
    for k in ks:
        for cov in ("full", "tied", "diag", "spherical"):
            fits += 1
            try:
                model = GaussianMixture(n_components=k, covariance_type=cov, n_init=1,
                                        init_params="kmeans", random_state=seed).fit(X)
                bic = model.bic(X)
            except (ValueError, np.linalg.LinAlgError):
                failed += 1
                continue
            if bic < best_bic:
                best, best_bic = "{},{}".format(names[cov], k), bic
    elapsed = time.perf_counter() - start
    try:
        import threadpoolctl
        blas = ",".join("{}:{}:threads={}".format(i.get("internal_api"), i.get("version"), i.get("num_threads"))
                        for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas") or "unknown"
    except ImportError:
        blas = "unknown"
    print("RESULT time={:.6f} best_bic={:.10g} best={} fits={} failed={} blas={}".format(
        elapsed, best_bic, best, fits, failed, blas))
    return 0


if __name__ == "__main__":
    sys.exit(main())
