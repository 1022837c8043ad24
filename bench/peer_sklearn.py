#!/usr/bin/python3
"""Comparison worker: scikit-learn's KMeans and GaussianMixture on the driver's data.

Started by emcluster_compare (bench/compare.cpp) in its own process, with Debian's
/usr/bin/python3. Arguments are key=value pairs (see bench/worker.hpp):

  task=info                      versions and the BLAS numpy uses (threadpoolctl)
  task=gemm   gemm=f32:RxDxK,...  numpy's (the peers' BLAS's) GEMM rate A @ B.T, A R x D and
      B K x D, at the given shapes and on the largest square up to 2048^3 that takes under
      50 ms (2048 with OpenBLAS on a recent CPU), best of 7 repetitions of at least
      20 ms (2 when they take over a second): "RESULT gemm.f32.RxDxK=<flops/s> ..."
      (bench/ceilings.hpp measures Eigen's)
  task=lloyd  x= dtype= n= d= k= init= iters= reps= budget= out=
      KMeans(init=<given centres>, n_init=1, max_iter=iters, tol=0, algorithm="lloyd")
  task=e2e    x= dtype= n= d= k= reps= budget= out=
      KMeans(n_clusters=k, n_init=10, random_state=0), every other option at its default
  task=gmm    x= dtype=f64 n= d= k= gmm= cov= iters= reps= budget= out=
      GaussianMixture(weights_init/means_init/precisions_init = the given parameters,
      max_iter=iters, tol=0, init_params="random_from_data": the cheapest initialisation,
      whose result the given parameters replace)

Prints one line "RESULT time=<median seconds per fit> iters=... peak_mb=..." and writes the
final parameters as raw float64 to `out` (centres; or weights, means, full covariances).
"""
import os
import statistics
import sys
import time
import warnings


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def blas_description():
    import threadpoolctl
    libs = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    if not libs:
        # threadpoolctl does not recognise a plain reference libblas: name what is mapped.
        with open("/proc/self/maps") as f:
            paths = {l.split()[-1] for l in f if l.split()[-1].rsplit("/", 1)[-1].startswith(("libblas", "libopenblas"))}
        return "unknown:" + ",".join(sorted(paths)) if paths else "none"
    i = libs[0]
    return "{}:{}:{}:threads={}:{}".format(i.get("internal_api"), i.get("architecture"), i.get("version"),
                                            i.get("num_threads"), i.get("filepath"))


def timed_runs(reps, budget, fit):
    times, spent = [], 0.0
    for _ in range(reps):
        t0 = time.perf_counter()
        model = fit()
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
        if spent >= budget:
            break
    return times, model


def gemm_rates(shapes):
    import numpy as np
    fields = []
    squares = []
    for dtype in (np.float32, np.float64):  # the largest square up to 2048 that takes < 50 ms
        side = 256
        A = np.ones((side * 8, side * 8), dtype=dtype)
        while side < 2048:
            a = A[:side * 2, :side * 2]
            t0 = time.perf_counter()
            a @ a
            if time.perf_counter() - t0 > 0.05:
                break
            side *= 2
        name = "f32" if dtype == np.float32 else "f64"
        squares.append("{}:{}x{}x{}".format(name, side, side, side))
    for s in shapes + squares:
        dtype = np.float32 if s.startswith("f32") else np.float64
        rows, d, k = (int(v) for v in s[4:].split("x"))
        rng = np.random.default_rng(0)
        A = rng.standard_normal((rows, d)).astype(dtype)
        B = rng.standard_normal((k, d)).astype(dtype)
        D = np.empty((rows, k), dtype=dtype)
        repeat, best, rep, spent = 1, float("inf"), 0, 0.0
        while rep < 7 and not (rep >= 2 and spent > 1.0):  # a slow BLAS: 2 repetitions
            t0 = time.perf_counter()
            for _ in range(repeat):
                np.matmul(A, B.T, out=D)
            dt = time.perf_counter() - t0
            spent += dt
            if dt < 0.02:
                repeat, best, rep = repeat * 2, float("inf"), 0
                continue
            best, rep = min(best, dt), rep + 1
        fields.append("gemm.{}.{}={:.6g}".format(s[:3], s[4:], 2.0 * rows * d * k * repeat / best))
    return fields


def main():
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    task = args["task"]
    import numpy as np
    import sklearn
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", FutureWarning)
    if task == "info":
        print("RESULT sklearn={} numpy={} blas={} coretype={}".format(
            sklearn.__version__, np.__version__, blas_description(),
            os.environ.get("OPENBLAS_CORETYPE", "unset")))
        return 0
    if task == "gemm":
        shapes = [s for s in args.get("gemm", "").split(",") if s]
        print("RESULT " + " ".join(gemm_rates(shapes)) + " blas=" + blas_description())
        return 0
    baseline = status_kb("VmRSS")  # after the imports, before any data
    dtype = np.float32 if args["dtype"] == "f32" else np.float64
    n, d, k = int(args["n"]), int(args["d"]), int(args["k"])
    reps, budget = int(args["reps"]), float(args.get("budget", "10"))
    X = np.fromfile(args["x"], dtype=dtype).reshape(n, d)

    if task == "lloyd":
        C0 = np.fromfile(args["init"], dtype=np.float64).reshape(k, d).astype(dtype)
        iters = int(args["iters"])
        times, model = timed_runs(reps, budget, lambda: KMeans(
            n_clusters=k, init=C0, n_init=1, max_iter=iters, tol=0, algorithm="lloyd").fit(X))
        out = model.cluster_centers_.astype(np.float64)
    elif task == "e2e":
        times, model = timed_runs(reps, budget, lambda: KMeans(n_clusters=k, n_init=10, random_state=0).fit(X))
        out = model.cluster_centers_.astype(np.float64)
    elif task == "gmm":
        cov = args["cov"]
        P = np.fromfile(args["gmm"], dtype=np.float64)
        w0 = P[:k]
        m0 = P[k:k + k * d].reshape(k, d)
        S0 = P[k + k * d:].reshape(k, d, d)
        if cov == "full":
            prec0 = np.linalg.inv(S0)
        elif cov == "diag":
            prec0 = 1.0 / np.diagonal(S0, axis1=1, axis2=2)
        else:
            prec0 = 1.0 / S0[:, 0, 0]
        cov_type = {"full": "full", "diag": "diag", "spherical": "spherical"}[cov]
        iters = int(args["iters"])
        times, model = timed_runs(reps, budget, lambda: GaussianMixture(
            n_components=k, covariance_type=cov_type, tol=0, max_iter=iters, init_params="random_from_data",
            weights_init=w0, means_init=m0, precisions_init=prec0, random_state=0).fit(X))
        covs = model.covariances_
        if cov == "diag":
            covs = np.stack([np.diag(c) for c in covs])
        elif cov == "spherical":
            covs = np.stack([c * np.eye(d) for c in covs])
        out = np.concatenate([model.weights_.ravel(), model.means_.ravel(), covs.ravel()]).astype(np.float64)
    else:
        print("peer_sklearn: unknown task " + task, file=sys.stderr)
        return 2
    out.tofile(args["out"])
    peak_mb = (status_kb("VmHWM") - baseline) / 1024.0
    print("RESULT time={:.9g} iters={} reps={} peak_mb={:.1f} blas={}".format(
        statistics.median(times), int(model.n_iter_), len(times), peak_mb, blas_description()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
