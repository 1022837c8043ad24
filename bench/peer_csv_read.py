#!/usr/bin/python3
"""Peers of bench/csv_read.cpp: times numpy.loadtxt and Python's csv module (each value
through float(), rows collected into a list, then one numpy array) reading the same file once.

    /usr/bin/python3 bench/peer_csv_read.py FILE [--skip-csv-module]

Prints one line per peer: "name seconds=S rows=N cols=D checksum=C".
"""
import csv
import sys
import time

import numpy as np


def main():
    path = sys.argv[1]
    skip_csv = "--skip-csv-module" in sys.argv[2:]
    t0 = time.perf_counter()
    x = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    s = time.perf_counter() - t0
    print(f"numpy.loadtxt seconds={s:.4f} rows={x.shape[0]} cols={x.shape[1]} "
          f"checksum={x.sum():.17g}", flush=True)
    del x
    if skip_csv:
        return
    t0 = time.perf_counter()
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        rows = [[float(v) for v in row] for row in reader]
    x = np.array(rows, dtype=np.float64)
    s = time.perf_counter() - t0
    print(f"python-csv seconds={s:.4f} rows={x.shape[0]} cols={x.shape[1]} "
          f"checksum={x.sum():.17g}", flush=True)


if __name__ == "__main__":
    main()
