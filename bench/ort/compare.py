#!/usr/bin/python3
"""Compare two .npy arrays: A (the result under test) against B (the reference).

Usage: compare.py A.npy B.npy [--rtol R] [--json]

Prints
    max_abs  = max |a - b|
    rel      = max |a - b| / max |b|        (the criterion: one scale for the
                                             whole tensor, so near-zero
                                             elements do not blow it up)
    elem_rel = max |a - b| / max(|b|, 1e-6) (elementwise, for information)
and exits 1 when rel > R (default 1e-4), 2 on a shape mismatch.
Works with any numpy (Debian's /usr/bin/python3 has one).
"""
import argparse
import json
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description="compare two .npy arrays")
    ap.add_argument("a")
    ap.add_argument("b", help="reference")
    ap.add_argument("--rtol", type=float, default=1e-4,
                    help="fail when max|a-b|/max|b| exceeds this (default 1e-4)")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    a, b = np.load(args.a), np.load(args.b)
    if a.shape != b.shape:
        print(f"shape mismatch: {a.shape} vs {b.shape}", file=sys.stderr)
        sys.exit(2)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    d = np.abs(a64 - b64)
    max_abs = float(d.max()) if d.size else 0.0
    scale = float(np.abs(b64).max()) if d.size else 0.0
    rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    elem_rel = float((d / np.maximum(np.abs(b64), 1e-6)).max()) if d.size else 0.0
    nan = bool(np.isnan(a64).any() or np.isnan(b64).any())
    ok = rel <= args.rtol and not nan
    r = {"shape": list(a.shape), "max_abs": max_abs, "max_abs_over_max_ref": rel,
         "max_elementwise_rel": elem_rel, "rtol": args.rtol, "nan": nan, "pass": ok}
    if args.json:
        print(json.dumps(r))
    else:
        print(f"shape {a.shape}  max|a-b| {max_abs:.6g}  max|a-b|/max|b| {rel:.6g}  "
              f"max elementwise rel {elem_rel:.6g}  (rtol {args.rtol:g}): "
              + ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
