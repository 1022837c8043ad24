#!/usr/bin/env bash
# The CSV reading rate against numpy.loadtxt and Python's csv module (docs/performance.md):
# builds emcluster_bench_csv_read (Release, -O3 -march=native, in build/bench), writes a
# numeric CSV file (1 GiB, 8 columns by default), times emcluster::read_csv<double> (one
# thread, best of 3) and then each peer once on the same file, and prints MB/s and ratios.
# The file is read from the page cache after it has been written (every reader alike).
#
#   bench/run_csv_read.sh [--size-mb 1024] [--cols 8] [--reps 3] [--skip-csv-module] [--keep]
#   scripts/bench --csv [the same options]
#
# Needs cmake, a C++17 compiler, Eigen 3, libbenchmark-dev (the bench/ build needs it), and
# Debian's python3-numpy (/usr/bin/python3, or EMCLUSTER_BENCH_PYTHON). Peak memory: about
# 2x the file for emcluster, far more for the csv module (a Python float per value).
# The file goes to $TMPDIR (or /tmp) and is removed at the end unless --keep.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${EMCLUSTER_BENCH_BUILD_DIR:-$root/build/bench}"
python="${EMCLUSTER_BENCH_PYTHON:-/usr/bin/python3}"
size_mb=1024
cols=8
reps=3
keep=0
peer_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) size_mb="$2"; shift 2 ;;
    --cols) cols="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --skip-csv-module) peer_args+=(--skip-csv-module); shift ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_csv_read.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEMCLUSTER_BUILD_BENCHMARKS=ON \
  -DEMCLUSTER_BUILD_TESTS=OFF -DEMCLUSTER_BUILD_EXAMPLES=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --target emcluster_bench_csv_read -j2 >"$build/build_csv_read.log" 2>&1 ||
  { tail -50 "$build/build_csv_read.log"; exit 1; }
program="$build/bench/emcluster_bench_csv_read"

file="$(mktemp "${TMPDIR:-/tmp}/emcluster-csv-read.XXXXXX.csv")"
[ "$keep" -eq 1 ] || trap 'rm -f "$file"' EXIT
"$program" write "$file" --size-mb "$size_mb" --cols "$cols" >&2
results="$("$program" read "$file" --reps "$reps" | sed 's/^/emcluster::read_csv /')"
if [ -x "$python" ] && "$python" -c 'import numpy' 2>/dev/null; then
  results+=$'\n'"$("$python" "$root/bench/peer_csv_read.py" "$file" "${peer_args[@]}")"
else
  echo "no numpy at $python: the peers are skipped" >&2
fi

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (timings are only meaningful on an otherwise idle machine)"
awk -v bytes="$(stat -c %s "$file")" -v file="$file" '
  { name = $1; for (i = 2; i <= NF; ++i) { split($i, kv, "="); v[name, kv[1]] = kv[2] }
    names[++n] = name }
  END {
    printf "CSV read of %s: %.1f MB, %s rows x %s columns of float64\n", file, bytes / 1e6,
           v[names[1], "rows"], v[names[1], "cols"]
    printf "%-22s %10s %10s %18s %s\n", "reader", "seconds", "MB/s", "time / emcluster", "same values"
    base = v[names[1], "seconds"]
    ref = v[names[1], "checksum"] + 0
    for (i = 1; i <= n; ++i) {
      s = v[names[i], "seconds"]
      c = v[names[i], "checksum"] + 0
      diff = c - ref; if (diff < 0) diff = -diff
      scale = ref < 0 ? -ref : ref
      same = (v[names[i], "rows"] == v[names[1], "rows"] && diff <= 1e-9 * (scale + 1)) ? "yes (sums agree)" : "NO: sum " v[names[i], "checksum"]
      printf "%-22s %10.3f %10.1f %18.2f %s\n", names[i], s, bytes / 1e6 / s, s / base, same
    }
  }' <<<"$results"
