#!/usr/bin/env python3
"""Fits the float32 exp kernel's polynomial (Backend/Native/CPrelude.swift, th_expf_series).

e^r on |r| <= ln2/2 is approximated as 1 + r + r^2 q(r), q of degree 4, minimising the largest
relative error: weighted least squares on a dense grid, with Lawson-style reweighting towards
the minimax solution. Degree 6 in all gives 3e-9 relative error (0.05 ulp), one multiply-add
less than the degree-7 Taylor series it replaced at a similar accuracy.

Run: python3 scripts/fit_expf.py   (numpy only; prints the coefficients of r^2 .. r^6)
"""
import numpy as np

half_ln2 = np.log(2) / 2
r = np.linspace(-half_ln2 * 1.0005, half_ln2 * 1.0005, 40001)
y = np.exp(r)
A = np.stack([r ** (j + 2) for j in range(5)], axis=1)
w = np.ones_like(r)
best = None
for _ in range(300):
    scale = w / y                                  # relative error
    c, *_ = np.linalg.lstsq(A * scale[:, None], (y - 1 - r) * scale, rcond=None)
    err = (1 + r + A @ c - y) / y
    worst = np.abs(err).max()
    if best is None or worst < best[0]:
        best = (worst, c)
    w = w * (np.abs(err) / worst + 1e-4) ** 0.5
    w /= w.mean()
worst, c = best
print(f"max relative error {worst:.3g} ({worst / 2**-24:.3f} float ulp)")
for j, v in enumerate(c):
    print(f"r^{j + 2}: {float(v)!r}f")
