#!/usr/bin/python3
"""Writes the NPY fixtures of tests/test_data_files.cpp into tests/data/npy/ with numpy.

Run with Debian's Python (numpy 1.24): /usr/bin/python3 tests/make_data_file_fixtures.py
Good files hold v(i, j) = (i * cols + j) / 3 - 1.25, which the test recomputes in double (and
rounds to float for the float32 files, as numpy's astype does). Broken files are good files
edited so that each breaks one rule the reader checks.
"""
import io
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "npy")


def values(rows, cols):
    return np.array([[(i * cols + j) / 3.0 - 1.25 for j in range(cols)] for i in range(rows)])


def save(name, arr, **kw):
    with open(os.path.join(OUT, name), "wb") as f:
        np.lib.format.write_array(f, arr, allow_pickle=True, **kw)


def raw(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def saved(arr, **kw):
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, allow_pickle=True, **kw)
    return b.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    x = values(5, 3)
    # Good files.
    save("c_f8.npy", x)
    save("f_f8.npy", np.asfortranarray(x))
    save("c_f4.npy", x.astype("<f4"))
    save("f_f4.npy", np.asfortranarray(x.astype("<f4")))
    save("vector_f8.npy", values(1, 7)[0])
    save("v2_f8.npy", x, version=(2, 0))
    save("v3_f8.npy", x, version=(3, 0))
    save("empty_rows_f8.npy", np.zeros((0, 3)))
    x.astype("<f8").tofile(os.path.join(OUT, "raw_f8.bin"))
    x.astype("<f4").tofile(os.path.join(OUT, "raw_f4.bin"))
    big = np.array([[1.0, 2.0], [1e300, -3.0]])
    save("float_overflow_f8.npy", big)  # fine as double, an error as float
    # Integer arrays, read exactly: i(i, j) = (i * cols + j) - 2 (signed) or + 3 (unsigned).
    ints = np.arange(6).reshape(3, 2)
    for dtype in ("|i1", "<i2", "<i4", "<i8"):
        save("int_" + dtype[1:] + ".npy", (ints - 2).astype(dtype))
    for dtype in ("|u1", "<u2", "<u4", "<u8"):
        save("int_" + dtype[1:] + ".npy", (ints + 3).astype(dtype))
    save("int_f_i4.npy", np.asfortranarray((ints - 2).astype("<i4")))
    # Exact in double, not in float: 2^24 + 1. Exact in neither: 2^53 + 1, 2^64 - 1.
    save("int_float_inexact.npy", np.array([[1, 2 ** 24 + 1]], dtype="<i4"))
    save("int_double_inexact.npy", np.array([[1], [2 ** 53 + 1]], dtype="<i8"))
    save("uint_max.npy", np.array([[2 ** 64 - 1]], dtype="<u8"))

    # Broken files.
    save("big_endian.npy", x.astype(">f8"))
    save("big_endian_int.npy", np.arange(6, dtype=">i4").reshape(3, 2))
    save("bool.npy", np.zeros((2, 2), dtype="|b1"))
    save("object.npy", np.array([[1, "a"], [2, "b"]], dtype=object))
    save("three_d.npy", np.zeros((2, 2, 2)))
    save("zero_d.npy", np.array(1.5))
    save("structured.npy", np.zeros(3, dtype=[("a", "<f8"), ("b", "<f8")]))
    save("complex.npy", np.zeros((2, 2), dtype="<c16"))
    save("float16.npy", np.zeros((2, 2), dtype="<f2"))
    nan = x.copy()
    nan[1, 2] = np.nan
    save("nan.npy", nan)
    inf = x.copy()
    inf[3, 0] = -np.inf
    save("inf_f4.npy", inf.astype("<f4"))
    good = saved(x)
    raw("truncated.npy", good[:-5])
    raw("trailing_bytes.npy", good + b"\0" * 8)
    raw("header_only.npy", good[:128])
    # The header claims a shape far larger than the file: refused before any allocation.
    raw("huge_shape.npy", huge_shape(good))
    raw("empty.npy", b"")
    raw("bad_magic.npy", b"\x93NUMPZ" + good[6:])
    raw("version_4.npy", good[:6] + b"\x04\x00" + good[8:])
    raw("header_garbage.npy", good.replace(b"'fortran_order': False", b"'fortran_order': Maybe"))
    raw("missing_key.npy", good.replace(b"'fortran_order': False, ", b"" .ljust(24)))
    raw("header_len_lies.npy", good[:8] + b"\xff\xff" + good[10:])


def huge_shape(good):
    """The good file with its shape replaced by (1e12, 1e6), the header kept the same length."""
    old = b"'shape': (5, 3), }"
    new = b"'shape': (1000000000000, 1000000), }"
    header_end = good.index(b"\n") + 1
    header = good[10:header_end].replace(old, new)
    header = header.rstrip(b" \n")
    header = header + b" " * (header_end - 10 - len(header) - 1) + b"\n"
    assert len(header) == header_end - 10
    return good[:10] + header + good[header_end:]


if __name__ == "__main__":
    main()
