#!/usr/bin/env bash
# Builds emcluster_bench_model_selection (Release, -O3 -march=native, in build/bench) and runs
# it: GaussianMixtureSearch against R's mclust (mclustBIC) and a scikit-learn loop on the
# article's shape with 18,300 rows, then against scikit-learn alone on 1M rows.
#
#   bench/run_model_selection.sh [--quick] [--n N] [--large N] [--reps R] [--no-mclust] ...
#
# Arguments go to the program (see bench/model_selection.cpp). Needs cmake, a C++17
# compiler, Eigen 3 and libbenchmark-dev (the bench/ build needs it); for the peers r-cran-mclust
# with Rscript and Debian's python3-sklearn (/usr/bin/python3). When scripts/bench has fetched
# OpenBLAS for the peers (build/bench/openblas), scikit-learn gets it here too. The 1M run
# takes many minutes for scikit-learn; the timings mean something only on an idle machine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${EMCLUSTER_BENCH_BUILD_DIR:-$root/build/bench}"
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEMCLUSTER_BUILD_BENCHMARKS=ON \
  -DEMCLUSTER_BUILD_TESTS=OFF -DEMCLUSTER_BUILD_EXAMPLES=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --target emcluster_bench_model_selection -j"$(nproc 2>/dev/null || echo 2)" \
  >"$build/build_model_selection.log" 2>&1 || { tail -50 "$build/build_model_selection.log"; exit 1; }

blas_args=()
dir="$(find "$build/openblas" -path '*openblas-pthread/libblas.so.3' -printf '%h\n' 2>/dev/null | head -1 || true)"
[ -n "$dir" ] && blas_args=(--blas-dir "$dir")
exec "$build/bench/emcluster_bench_model_selection" "${blas_args[@]}" "$@"
