#!/usr/bin/env bash
# The distributed benchmarks of docs/scaling.md, on one machine (run it on an idle one):
# builds bench/mpi_bench.cpp with mpicxx and prints one JSON line per run to stdout (and to
# build/mpi-bench/results.jsonl).
#   1. 2 ranks x 1 thread against 1 rank x 2 threads: K-means on 1M x 16 (k = 16) and
#      1M x 2 (k = 3), the full mixture on 1M x 2 (k = 3) and 1M x 16 (k = 16), 20 iterations
#      (once each; REPS=N runs N rounds of it, interleaved)
#   2. weak scaling: 250k rows per rank, ranks 1, 2, 4 (more ranks than cores are
#      oversubscribed: shown as measured), one thread per rank
#   3. the collective alone: reduce + broadcast of the K-means buffer (k (d + 1) + 2 = 274
#      doubles for k = d = 16) and of the full mixture's, its covariance sums packed to their
#      lower triangles (k + 1 + k d + k d (d + 1) / 2 + 2 = 2451)
#   4. k-means|| against greedy k-means++ seeding on 200k x 128, k = 256 (one rank, all threads)
#
#   bench/run_mpi.sh            (MPI_BENCH_ITERS=N to change the iteration count)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=build/mpi-bench
mkdir -p "$out"
mpicxx -std=c++17 -O3 -DNDEBUG -fopenmp -I include -I /usr/include/eigen3 bench/mpi_bench.cpp \
  -o "$out/mpi_bench"
iters="${MPI_BENCH_ITERS:-20}"
results="$out/results.jsonl"
: >"$results"
cores="$(nproc)"
run() {  # ranks threads args...
  local ranks="$1" threads="$2"
  shift 2
  # --oversubscribe only where there are more ranks than cores: with it Open MPI's waiting
  # ranks yield their core in every collective (mpi_yield_when_idle), which measured 1.3-1.7x
  # slower iterations at 2 ranks on 2 cores, in bursts.
  local over=()
  [ "$ranks" -gt "$cores" ] && over=(--oversubscribe)
  OMP_NUM_THREADS="$threads" mpiexec "${over[@]}" --bind-to none -n "$ranks" \
    -x OMP_NUM_THREADS "$out/mpi_bench" "$@" | tee -a "$results"
}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# 1. Ranks against threads on the same two cores (REPS rounds, interleaved: the machine's
#    noise shows as the spread of the rounds).
for ((rep = 0; rep < ${REPS:-1}; rep++)); do
  for shape in "kmeans --cols 16 -k 16" "kmeans --cols 2 -k 3" "mixture --cols 2 -k 3" \
    "mixture --cols 16 -k 16"; do
    # shellcheck disable=SC2086
    run 1 2 $shape --rows 1000000 --iters "$iters"
    # shellcheck disable=SC2086
    run 2 1 $shape --rows 1000000 --iters "$iters"
  done
done
# 2. Weak scaling.
for ranks in 1 2 4; do
  run "$ranks" 1 kmeans --rows-per-rank 250000 --cols 16 -k 16 --iters "$iters"
  run "$ranks" 1 mixture --rows-per-rank 250000 --cols 2 -k 3 --iters "$iters"
done
# 3. The collective alone.
for ranks in 2 4; do
  run "$ranks" 1 allreduce --doubles 274
  run "$ranks" 1 allreduce --doubles 2451
done
# 4. Seeding.
run 1 2 seeding --rows 200000 --cols 128 -k 256
