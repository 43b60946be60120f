#!/usr/bin/env python3
"""Generates conv.npz: conv2d and pool2d expectations computed with scipy and numpy.

Run from this folder: `python3 generate_conv.py` (needs numpy and scipy). Each case stores
`<case>.x`, `<case>.w` (convolutions) and `<case>.out`; ConvTests.swift holds the matching
geometry of every case by name. Convolutions go through scipy.signal.convolve2d /
correlate2d on the zero-padded image with the dilated filter, then take every stride-th output,
so they share no code with the Swift implementation (im2col + GEMM).
"""
import numpy as np
from scipy.signal import convolve2d, correlate2d

rng = np.random.default_rng(2026)
out = {}


def dilate(k, d):
    kh, kw = k.shape
    r = np.zeros(((kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1), k.dtype)
    r[::d[0], ::d[1]] = k
    return r


def conv(x, w, pad, stride=(1, 1), dil=(1, 1), flip=True):
    B, C, H, W = x.shape
    F = w.shape[0]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    res = None
    for n in range(B):
        for f in range(F):
            acc = 0
            for c in range(C):
                k = dilate(w[f, c].astype(np.float64), dil)
                acc = acc + (convolve2d if flip else correlate2d)(xp[n, c], k, mode="valid")
            acc = acc[::stride[0], ::stride[1]]
            if res is None:
                res = np.zeros((B, F) + acc.shape)
            res[n, f] = acc
    return res.astype(x.dtype)


def extent(k, d):
    return (k - 1) * d + 1


CONV = {
    # name: x shape, w shape, border, stride, dilation, flip
    "valid": ((2, 3, 7, 6), (4, 3, 3, 2), "valid", (1, 1), (1, 1), True),
    "full": ((1, 2, 5, 5), (3, 2, 3, 3), "full", (1, 1), (1, 1), True),
    "half": ((2, 2, 6, 7), (2, 2, 3, 5), "half", (1, 1), (1, 1), True),
    "pad_stride_corr": ((2, 1, 9, 8), (3, 1, 4, 3), (2, 1), (2, 3), (1, 1), False),
    "dilated": ((1, 2, 10, 9), (2, 2, 3, 2), "valid", (1, 1), (2, 3), True),
    "stride_over_filter": ((1, 1, 11, 10), (2, 1, 2, 2), "valid", (3, 4), (1, 1), False),
    "full_stride_dilated": ((2, 2, 5, 6), (2, 2, 2, 3), "full", (2, 1), (2, 1), True),
}
for name, (xs, ws, border, stride, dil, flip) in CONV.items():
    for dt in ["float64", "float32"] if name == "valid" else ["float64"]:
        x = rng.uniform(-1, 1, xs).astype(dt)
        w = rng.uniform(-1, 1, ws).astype(dt)
        ex = (extent(ws[2], dil[0]), extent(ws[3], dil[1]))
        if border == "valid": pad = (0, 0)
        elif border == "full": pad = (ex[0] - 1, ex[1] - 1)
        elif border == "half": pad = (ex[0] // 2, ex[1] // 2)
        else: pad = border
        key = f"conv_{name}.{dt}"
        out[key + ".x"], out[key + ".w"] = x, w
        out[key + ".out"] = conv(x, w, pad, stride, dil, flip)

# scipy's own modes as a cross-check of the border rules
x = rng.uniform(-1, 1, (1, 1, 6, 5)); w = rng.uniform(-1, 1, (1, 1, 3, 3))
out["conv_scipy_full.float64.x"], out["conv_scipy_full.float64.w"] = x, w
out["conv_scipy_full.float64.out"] = convolve2d(x[0, 0], w[0, 0], mode="full")[None, None]
out["conv_scipy_same.float64.x"], out["conv_scipy_same.float64.w"] = x, w
out["conv_scipy_same.float64.out"] = convolve2d(x[0, 0], w[0, 0], mode="same")[None, None]


def pool(x, ws, st, pad, ignore_border, mode):
    """Theano's Pool.perform semantics, written as plain loops."""
    H, W = x.shape[-2:]

    def length(n, w, s, p):
        if ignore_border:
            return max(0, (n + 2 * p - w) // s + 1)
        return (n - 1) // s + 1 if s >= w else max(0, (n - 1 - w + s) // s) + 1

    oh, ow = length(H, ws[0], st[0], pad[0]), length(W, ws[1], st[1], pad[1])
    flat = x.reshape((-1, H, W))
    res = np.zeros((flat.shape[0], oh, ow))
    for q in range(flat.shape[0]):
        for i in range(oh):
            for j in range(ow):
                r0, c0 = i * st[0] - pad[0], j * st[1] - pad[1]
                r1, c1 = r0 + ws[0], c0 + ws[1]
                region = flat[q, max(r0, 0):min(r1, H), max(c0, 0):min(c1, W)]
                if mode == "max":
                    res[q, i, j] = region.max()
                elif mode == "average_exc_pad":
                    res[q, i, j] = region.mean()
                else:
                    count = (min(r1, H + pad[0]) - r0) * (min(c1, W + pad[1]) - c0)
                    res[q, i, j] = region.sum() / count
    return res.reshape(x.shape[:-2] + (oh, ow)).astype(x.dtype)


POOL = {
    # name: x shape, window, stride, padding, ignore_border, mode
    "max_2x2": ((2, 3, 6, 6), (2, 2), (2, 2), (0, 0), True, "max"),
    "max_odd_partial": ((2, 2, 7, 5), (2, 2), (2, 2), (0, 0), False, "max"),
    "max_overlap": ((1, 2, 7, 8), (3, 3), (1, 2), (0, 0), True, "max"),
    "max_nonsquare_pad": ((2, 1, 7, 9), (3, 2), (2, 2), (1, 1), True, "max"),
    "max_stride_over_window": ((1, 1, 11, 9), (2, 2), (3, 4), (0, 0), False, "max"),
    "max_rank3_overlap_partial": ((3, 7, 6), (3, 2), (2, 1), (0, 0), False, "max"),
    "avg_inc_pad": ((2, 2, 7, 6), (3, 3), (2, 2), (1, 2), True, "average_inc_pad"),
    "avg_exc_pad": ((2, 2, 7, 6), (3, 3), (2, 2), (1, 2), True, "average_exc_pad"),
    "avg_partial": ((1, 2, 7, 5), (2, 3), (2, 2), (0, 0), False, "average_exc_pad"),
    "avg_inc_partial": ((1, 2, 7, 5), (2, 3), (2, 2), (0, 0), False, "average_inc_pad"),
}
for name, (xs, ws, st, pad, ib, mode) in POOL.items():
    for dt in ["float64", "float32"] if name == "max_2x2" else ["float64"]:
        x = rng.uniform(-1, 1, xs).astype(dt)
        key = f"pool_{name}.{dt}"
        out[key + ".x"] = x
        out[key + ".out"] = pool(x, ws, st, pad, ib, mode)

# The classic tutorial's example input (numpy.random.RandomState(1).rand(3, 2, 5, 5)).
out["pool_tutorial.x"] = np.random.RandomState(1).rand(3, 2, 5, 5)

np.savez("conv.npz", **out)
print(f"wrote {len(out)} arrays to conv.npz")
