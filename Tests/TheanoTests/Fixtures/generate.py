#!/usr/bin/env python3
"""Generates the numpy-computed expectations the op tests compare against.

Run from this folder: `python3 generate.py` (needs numpy). Writes ops.npz; each case stores its
inputs as `<case>.<dtype>.in<i>` and the expected result as `<case>.<dtype>.out`. The Swift tests
(OpFixtureTests.swift) build the same expressions by case name.
"""
import numpy as np

rng = np.random.default_rng(1234)
out = {}


def put(name, dtype, inputs, result):
    for i, a in enumerate(inputs):
        out[f"{name}.{dtype}.in{i}"] = np.asarray(a)
    out[f"{name}.{dtype}.out"] = np.asarray(result)


def real(shape, dtype, lo=-3.0, hi=3.0):
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def sigmoid(x):
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


def softplus(x):
    x64 = x.astype(np.float64)
    return (np.maximum(x64, 0) + np.log1p(np.exp(-np.abs(x64)))).astype(x.dtype)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)


def log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return (x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).astype(x.dtype)


UNARY = {
    "neg": (np.negative, None), "abs": (np.abs, None), "sign": (np.sign, None),
    "exp": (np.exp, None), "log": (np.log, (0.05, 5)), "log1p": (np.log1p, (-0.9, 3)),
    "expm1": (np.expm1, None), "sqrt": (np.sqrt, (0, 9)), "sqr": (np.square, None),
    "reciprocal": (np.reciprocal, (0.2, 3)), "tanh": (np.tanh, None), "sigmoid": (sigmoid, (-30, 30)),
    "softplus": (softplus, (-40, 40)), "relu": (lambda x: np.maximum(x, 0), None), "sin": (np.sin, None),
    "cos": (np.cos, None), "floor": (np.floor, None), "ceil": (np.ceil, None),
    "round": (np.round, None), "isnan": (np.isnan, None), "isinf": (np.isinf, None),
}
BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "intdiv": np.floor_divide, "mod": np.mod, "pow": np.power, "maximum": np.maximum,
    "minimum": np.minimum, "eq": np.equal, "neq": np.not_equal, "lt": np.less, "le": np.less_equal,
    "gt": np.greater, "ge": np.greater_equal,
}

for dt in ["float32", "float64"]:
    for name, (fn, rangeLH) in UNARY.items():
        lo, hi = rangeLH or (-3, 3)
        x = real((3, 4), dt, lo, hi)
        if name == "round":
            x[0, :4] = np.array([0.5, 1.5, -2.5, 2.5], dtype=dt)
        if name in ("isnan", "isinf"):
            x[0, 0], x[1, 1], x[2, 2] = np.nan, np.inf, -np.inf
        put(name, dt, [x], fn(x))
    for name, fn in BINARY.items():
        x = real((3, 4), dt)
        y = real((4,), dt, 0.5, 2.5) if name in ("truediv", "intdiv", "mod") else real((4,), dt)
        if name == "pow":
            x = real((3, 4), dt, 0.1, 3)
        if name in ("eq", "neq", "le", "ge"):
            y = x[1].copy()
        put(name, dt, [x, y], fn(x, y))
        # size-1 dimensions broadcasting both ways, and an empty array
        x1, y1 = real((1, 4), dt, 0.5, 2), real((3, 1), dt, 0.5, 2)
        put(name + "_bcast", dt, [x1, y1], fn(x1, y1))
        xe, ye = real((0, 4), dt), real((4,), dt, 0.5, 2)
        put(name + "_empty", dt, [xe, ye], fn(xe, ye))
    x, lo, hi = real((3, 4), dt), np.array(-1, dtype=dt), np.array(1.5, dtype=dt)
    put("clip", dt, [x, lo, hi], np.clip(x, lo, hi))
    c, a, b = rng.uniform(size=(3, 4)) > 0.5, real((3, 4), dt), real((4,), dt)
    put("switch", dt, [c, a, b], np.where(c, a, b))
    x = real((3, 4), dt) * 3
    put("cast_int32", dt, [x], x.astype(np.int32))

    # reductions on (3, 4, 5)
    x = real((3, 4, 5), dt)
    for red, fn in [("sum", np.sum), ("prod", np.prod), ("mean", np.mean), ("max", np.max), ("min", np.min)]:
        put(f"{red}_all", dt, [x], fn(x))
        put(f"{red}_ax1", dt, [x], fn(x, axis=1))
        put(f"{red}_axm1", dt, [x], fn(x, axis=-1))
        put(f"{red}_ax02_keep", dt, [x], fn(x, axis=(0, 2), keepdims=True))
    put("var_ax1", dt, [x], np.var(x, axis=1))
    put("std_all_ddof1", dt, [x], np.std(x, ddof=1))
    put("argmax_ax1", dt, [x], np.argmax(x, axis=1))
    put("argmin_axm1", dt, [x], np.argmin(x, axis=-1))
    put("argmax_none", dt, [x], np.argmax(x))
    b = x > 0
    put("all_ax0", dt, [b], np.all(b, axis=0))
    put("any_ax2", dt, [b], np.any(b, axis=2))
    put("sum_empty", dt, [real((0, 3), dt)], np.sum(real((0, 3), dt), axis=0))

    # shapes
    put("reshape", dt, [x], x.reshape(4, -1))
    put("flatten2", dt, [x], x.reshape(3, -1))
    put("dimshuffle", dt, [x], x.transpose(2, 0, 1)[:, None])
    put("transpose", dt, [x], x.T)
    put("concatenate", dt, [x, real((3, 2, 5), dt)], None)
    out[f"concatenate.{dt}.out"] = np.concatenate([out[f"concatenate.{dt}.in0"], out[f"concatenate.{dt}.in1"]], axis=1)
    a, b = real((2, 3), dt), real((2, 3), dt)
    put("stack", dt, [a, b], np.stack([a, b], axis=1))

    # indexing
    put("index_basic", dt, [x], x[1, 1:3, ::-2])
    put("index_negative", dt, [x], x[-1, :, -2])
    idx = np.array([2, 0, 2, -1])
    put("index_adv_rows", dt, [x, idx], x[idx])
    m = real((5, 4), dt)
    rows, cols = np.arange(5), np.array([0, 3, 1, 1, 2])
    put("index_adv_pairs", dt, [m, cols], m[rows, cols])
    v = real((4, 5), dt)
    put("set_basic", dt, [x, v], None)
    e = x.copy(); e[1] = v; out[f"set_basic.{dt}.out"] = e
    put("inc_adv_repeat", dt, [m, np.array([0, 2, 0]), real((3, 4), dt)], None)
    e = m.copy(); np.add.at(e, out[f"inc_adv_repeat.{dt}.in1"], out[f"inc_adv_repeat.{dt}.in2"])
    out[f"inc_adv_repeat.{dt}.out"] = e

    # linear algebra
    A, B, u, w = real((5, 4), dt), real((4, 3), dt), real((4,), dt), real((5,), dt)
    put("dot_mm", dt, [A, B], A @ B)
    put("dot_mv", dt, [A, u], A @ u)
    put("dot_vm", dt, [w, A], w @ A)
    put("dot_vv", dt, [u, u * 2], u @ (u * 2))
    T3, U3 = real((2, 5, 4), dt), real((2, 4, 3), dt)
    put("batched_dot", dt, [T3, U3], np.matmul(T3, U3))
    put("outer", dt, [u, w], np.outer(u, w))

    # nnet
    z = real((4, 6), dt) * 3
    put("softmax", dt, [z], softmax(z))
    put("log_softmax", dt, [z], log_softmax(z))
    y = np.array([0, 5, 2, 2], dtype=np.int32)
    put("cce_int", dt, [softmax(z), y], -np.log(softmax(z)[np.arange(4), y]))
    onehot = np.eye(6, dtype=dt)[y]
    put("cce_onehot", dt, [softmax(z), onehot], -(onehot * np.log(softmax(z))).sum(axis=-1))
    p, t = sigmoid(real((3, 4), dt)), (rng.uniform(size=(3, 4)) > 0.5).astype(dt)
    put("bce", dt, [p, t], -(t * np.log(p) + (1 - t) * np.log(1 - p)))
    logits, labels = real((5, 4), dt) * 10, np.array([3, 0, 1, 3, -1], dtype=np.int32)
    put("softmax_xent", dt, [logits, labels], -log_softmax(logits)[np.arange(5), labels])

# integer arithmetic (wrapping, floor division and modulo signs)
a = np.array([-7, -3, 0, 5, 100, 127], dtype=np.int8)
b = np.array([2, -2, 3, -3, 7, 1], dtype=np.int8)
with np.errstate(over="ignore"):
    for name in ["add", "sub", "mul", "intdiv", "mod", "maximum", "minimum", "lt"]:
        put(name, "int8", [a, b], BINARY[name](a, b))
ia = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
put("pow", "int32", [ia, np.array(3, dtype=np.int32)], ia ** 3)
put("sum_all", "int32", [ia], np.sum(ia))

# Ops added after the cases above draw from a generator of their own, so that those keep their
# values.
later = np.random.default_rng(20261203)
for dt in ["float32", "float64"]:
    x = later.uniform(-8, 8, size=(3, 4)).astype(dt)
    put("softsign", dt, [x], (x / (1 + np.abs(x))).astype(dt))

np.savez("ops.npz", **{k: v for k, v in out.items() if v is not None})
print(f"wrote {len(out)} arrays to ops.npz")
