#!/usr/bin/env python3
"""Random graphs for the differential fuzzer, with NumPy's answers.

Each line of the output is one case: its inputs (dtype, shape, values, and which lengths are
declared static), its nodes (an op over earlier values, with attributes), NumPy's value of the
last node, and whether its gradient is checked (float64 graphs of smooth ops only).

The graph is built by evaluating it as it grows: an op is applied only where its domain holds
(log of positives, division by nonzero values, reductions of non-empty axes for max/min), so
every case is valid and NumPy's value is the expected one.

    python3 generate_fuzz.py                       # the fixed set the test suite runs (fuzz.jsonl)
    python3 generate_fuzz.py --graphs 20000 --seed 7 --out /tmp/fuzz.jsonl
"""
import argparse
import json
import os

import numpy as np

DTYPES = ["float32", "float64", "int32", "int64", "bool"]
FLOATS = ["float32", "float64"]
INTS = ["int32", "int64"]

# Ops whose gradient is smooth almost everywhere and finite differences can check.
SMOOTH_UNARY = ["neg", "exp", "log", "log1p", "expm1", "sqrt", "sqr", "tanh", "sigmoid", "softplus",
                "sin", "cos", "reciprocal", "softsign"]
KINKED_UNARY = ["abs", "sign", "floor", "ceil", "relu"]
SMOOTH_BINARY = ["add", "sub", "mul", "truediv", "pow"]
COMPARE = ["eq", "neq", "lt", "le", "gt", "ge"]
LOGIC = ["and", "or", "xor"]


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0, x)


UNARY = {
    "neg": np.negative, "exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1,
    "sqrt": np.sqrt, "sqr": np.square, "tanh": np.tanh, "sigmoid": sigmoid, "softplus": softplus,
    "sin": np.sin, "cos": np.cos, "reciprocal": np.reciprocal, "abs": np.abs, "sign": np.sign,
    "floor": np.floor, "ceil": np.ceil, "relu": lambda x: np.maximum(x, 0),
    "softsign": lambda x: x / (1 + np.abs(x)),
}
BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide, "pow": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "intdiv": np.floor_divide, "mod": np.mod,
    "eq": np.equal, "neq": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal, "and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor,
}


class Builder:
    def __init__(self, rng):
        self.rng = rng
        self.inputs = []   # dicts
        self.values = []   # numpy arrays, inputs first then nodes
        self.nodes = []
        self.slots = []    # ("input", k) or ("node", k) for each value, in order
        self.smooth = True

    # -- inputs ---------------------------------------------------------------------------
    def shape(self, ndim=None):
        rng = self.rng
        ndim = rng.integers(0, 4) if ndim is None else ndim
        dims = []
        for _ in range(ndim):
            r = rng.random()
            dims.append(0 if r < 0.05 else 1 if r < 0.3 else int(rng.integers(2, 5)))
        return dims

    def values_of(self, dtype, shape, positive=False):
        rng = self.rng
        n = int(np.prod(shape)) if shape else 1
        if dtype in FLOATS:
            v = rng.uniform(0.2, 2.5, n) if positive else rng.uniform(-2.5, 2.5, n)
            if rng.random() < 0.2:   # repeated values: ties for max, min, argmax, sort-like ops
                v = np.round(v * 2) / 2
        elif dtype in INTS:
            v = rng.integers(1, 6, n) if positive else rng.integers(-5, 6, n)
        else:
            v = rng.random(n) < 0.5
        return np.array(v, dtype=dtype).reshape(shape)

    def add_input(self, dtype, shape, positive=False):
        value = self.values_of(dtype, shape, positive)
        # Length-1 dimensions are declared static (broadcastable) half of the time, as
        # `row`/`col` variables are, and left unknown otherwise (broadcast only at run time).
        static = [bool(d == 1 and self.rng.random() < 0.5) for d in shape]
        self.inputs.append({"dtype": dtype, "shape": list(shape), "static": static,
                            "data": encode(value)})
        self.values.append(value)
        self.slots.append(("input", len(self.inputs) - 1))
        return len(self.values) - 1

    # -- nodes ----------------------------------------------------------------------------
    def add(self, op, args, value, **attrs):
        value = np.asarray(value)
        node = {"op": op, "args": args}
        node.update(attrs)
        self.nodes.append(node)
        self.values.append(value)
        self.slots.append(("node", len(self.nodes) - 1))
        self.last = len(self.values) - 1
        return self.last

    def add_index_input(self, dtype, values):
        self.inputs.append({"dtype": dtype, "shape": [len(values)], "static": [False], "data": encode(values)})
        self.values.append(np.asarray(values).astype(dtype))
        self.slots.append(("input", len(self.inputs) - 1))
        return len(self.values) - 1

    def renumbered(self):
        """Nodes whose arguments count inputs first, then nodes (as the runner numbers them)."""
        ids = [k if kind == "input" else len(self.inputs) + k for kind, k in self.slots]
        return [dict(n, args=[ids[a] for a in n["args"]]) for n in self.nodes]

    def pick(self, kinds=None, min_ndim=0, max_ndim=4):
        choices = [i for i, v in enumerate(self.values)
                   if (kinds is None or str(v.dtype) in kinds) and min_ndim <= v.ndim <= max_ndim]
        return int(self.rng.choice(choices)) if choices else None

    def broadcast_partner(self, i, dtype):
        """A new input whose shape broadcasts with value i (length-1 axes, fewer axes)."""
        shape = list(self.values[i].shape)
        partner = [1 if self.rng.random() < 0.3 else d for d in shape]
        drop = int(self.rng.integers(0, len(partner) + 1))
        return self.add_input(dtype, partner[drop:])


def encode(a):
    a = np.asarray(a)
    if a.dtype == np.bool_:
        return [int(x) for x in a.reshape(-1)]   # 0/1: every value decodes as a number
    if a.dtype.kind in "iu":
        return [int(x) for x in a.reshape(-1)]
    return [float(x) for x in a.reshape(-1)]


def promote(a, b):
    return str(np.result_type(a.dtype, b.dtype))


def step(b):
    """Adds one random node to the graph; returns False when the op did not apply."""
    rng = b.rng
    family = rng.choice(["unary", "binary", "compare", "select", "cast", "reduce", "argreduce",
                         "shape", "index", "product", "nnet", "concat", "conv", "pool"],
                        p=[.16, .16, .06, .05, .05, .12, .04, .09, .09, .07, .04, .03, .02, .02])
    if family == "conv":
        return conv_step(b)
    if family == "pool":
        return pool_step(b)
    if family == "unary":
        i = b.pick(FLOATS + INTS)
        if i is None:
            return False
        v = b.values[i]
        ops = SMOOTH_UNARY + KINKED_UNARY if v.dtype.kind == "f" else ["neg", "abs", "sign", "sqr"]
        op = str(rng.choice(ops))
        if op in ("log", "sqrt") and not (v > 0.05).all():
            return False
        if op == "log1p" and not (v > -0.9).all():
            return False
        if op == "reciprocal" and not (np.abs(v) > 0.1).all():
            return False
        if op in ("floor", "ceil") and (np.abs(v - np.round(v)) < 1e-3).any():
            return False
        with np.errstate(all="ignore"):
            out = UNARY[op](v)
        if op in KINKED_UNARY:
            b.smooth = False
        b.add(op, [i], out)
        return True
    if family == "binary":
        i = b.pick(FLOATS + INTS)
        if i is None:
            return False
        v = b.values[i]
        floats = v.dtype.kind == "f"
        op = str(rng.choice(SMOOTH_BINARY + ["maximum", "minimum"] if floats
                            else ["add", "sub", "mul", "maximum", "minimum", "intdiv", "mod", "truediv"]))
        partner_dtype = str(v.dtype) if rng.random() < 0.7 else str(rng.choice(FLOATS + INTS))
        if op in ("intdiv", "mod") and partner_dtype not in INTS:
            partner_dtype = str(v.dtype)
        j = b.broadcast_partner(i, partner_dtype)
        w = b.values[j]
        if op in ("truediv", "intdiv", "mod"):
            w = np.where(np.abs(w) < 0.5, np.asarray(1, w.dtype), w)
            b.values[j] = w.astype(w.dtype)
            b.inputs[-1]["data"] = encode(b.values[j])
        if op == "pow":
            if not (v > 0.1).all():
                return False
            w = np.clip(w, -2, 2) if w.dtype.kind == "f" else np.clip(w, -2, 2).astype(w.dtype)
            b.values[j] = w
            b.inputs[-1]["data"] = encode(w)
            if w.dtype.kind != "f":
                return False
        if rng.random() < 0.5:
            i, j, v, w = j, i, w, v
            if op == "pow":
                return False
        with np.errstate(all="ignore"):
            out = BINARY[op](v, w)
        if op in ("maximum", "minimum", "intdiv", "mod"):
            b.smooth = False
        b.add(op, [i, j], out)
        return True
    if family == "compare":
        i = b.pick(FLOATS + INTS)
        if i is None:
            return False
        j = b.broadcast_partner(i, str(b.values[i].dtype))
        op = str(rng.choice(COMPARE))
        out = BINARY[op](b.values[i], b.values[j])
        if rng.random() < 0.4:
            k = b.broadcast_partner(len(b.values) - 1 - 0, "bool")
            b.add(op, [i, j], out)
            op2 = str(rng.choice(LOGIC))
            b.add(op2, [len(b.values) - 1, k], BINARY[op2](out, b.values[k]))
        else:
            b.add(op, [i, j], out)
        b.smooth = False
        return True
    if family == "select":
        i = b.pick(FLOATS + INTS)
        if i is None:
            return False
        v = b.values[i]
        c = b.broadcast_partner(i, "bool")
        j = b.broadcast_partner(i, str(v.dtype))
        b.add("select", [c, i, j], np.where(b.values[c], v, b.values[j]))
        return True
    if family == "cast":
        i = b.pick(None)
        v = b.values[i]
        to = str(rng.choice(DTYPES))
        if v.dtype.kind == "f" and to in INTS and (np.abs(v) > 1e6).any():
            return False
        if to in INTS or to == "bool" or to == "float32":
            b.smooth = False   # steps, or float32 rounding that finite differences would measure
        b.add("cast", [i], v.astype(to), dtype=to)
        return True
    if family in ("reduce", "argreduce"):
        i = b.pick(None, min_ndim=1)
        if i is None:
            return False
        v = b.values[i]
        if family == "argreduce":
            op = str(rng.choice(["argmax", "argmin"]))
            axis = int(rng.integers(-v.ndim, v.ndim)) if rng.random() < 0.8 else None
            if v.dtype == np.bool_ or v.size == 0 or (axis is not None and v.shape[axis] == 0):
                return False
            f = np.argmax if op == "argmax" else np.argmin
            b.smooth = False
            b.add(op, [i], f(v, axis=axis), axis=axis)
            return True
        ops = ["sum", "prod", "mean", "max", "min"] if v.dtype != np.bool_ else ["sum", "all", "any"]
        op = str(rng.choice(ops))
        r = rng.random()
        if r < 0.5:
            axis = int(rng.integers(-v.ndim, v.ndim))
        elif r < 0.75 and v.ndim > 1:
            axis = sorted(int(a) for a in rng.choice(v.ndim, size=int(rng.integers(1, v.ndim + 1)), replace=False))
        else:
            axis = None
        keep = bool(rng.random() < 0.4)
        np_axis = tuple(axis) if isinstance(axis, list) else axis
        reduced = [v.shape[a] for a in (range(v.ndim) if axis is None else np.atleast_1d(axis))]
        if op in ("max", "min", "mean") and 0 in reduced:
            return False
        if op == "prod" and v.dtype.kind == "f" and (np.abs(v) > 3).any():
            return False
        f = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "max": np.max, "min": np.min,
             "all": np.all, "any": np.any}[op]
        out = f(v, axis=np_axis, keepdims=keep)
        if op in ("max", "min"):
            b.smooth = False
        b.add(op, [i], out, axis=axis, keepdims=keep)
        return True
    if family == "shape":
        i = b.pick(None)
        v = b.values[i]
        kind = rng.choice(["reshape", "dimshuffle", "flatten"])
        if kind == "reshape":
            n = v.size
            target = factor(rng, n)
            if target is None:
                return False
            spec = list(target)
            if n > 0 and spec and rng.random() < 0.5:
                spec[int(rng.integers(0, len(spec)))] = -1
            b.add("reshape", [i], v.reshape(target), shape=spec)
            return True
        if kind == "flatten":
            if v.ndim == 0:
                return False
            nd = int(rng.integers(1, v.ndim + 1))
            out = v.reshape(v.shape[:nd - 1] + (int(np.prod(v.shape[nd - 1:])),))
            b.add("flatten", [i], out, ndim=nd)
            return True
        perm = list(rng.permutation(v.ndim))
        # Drop some length-1 axes, insert broadcastable ones.
        pattern = [int(p) for p in perm if not (v.shape[p] == 1 and rng.random() < 0.3)]
        dropped = [p for p in range(v.ndim) if p not in pattern]
        if any(v.shape[p] != 1 for p in dropped):
            return False
        if rng.random() < 0.4 and len(pattern) < 4:
            pattern.insert(int(rng.integers(0, len(pattern) + 1)), "x")
        out = np.transpose(v, [p for p in pattern if p != "x"] + dropped).reshape(
            [v.shape[p] for p in pattern if p != "x"])
        out = out.reshape([1 if p == "x" else v.shape[p] for p in pattern])
        # dropped axes are length 1 and the transpose put them last: reshape removes them
        b.add("dimshuffle", [i], out, pattern=pattern)
        return True
    if family == "index":
        i = b.pick(None, min_ndim=1)
        if i is None:
            return False
        v = b.values[i]
        kind = rng.choice(["slice", "integer", "advanced", "adv_inc", "set", "inc"], p=[.3, .15, .15, .15, .1, .15])
        if kind in ("slice", "integer", "set", "inc"):
            items, key = [], []
            for d in range(int(rng.integers(1, v.ndim + 1))):
                n = v.shape[d]
                if kind == "integer" and d == 0:
                    if n == 0:
                        return False
                    k = int(rng.integers(-n, n))
                    items.append({"index": k})
                    key.append(k)
                    continue
                start = int(rng.integers(-n - 1, n + 2)) if rng.random() < 0.6 else None
                stop = int(rng.integers(-n - 1, n + 2)) if rng.random() < 0.6 else None
                stepv = int(rng.choice([1, 1, 2, -1, -2, 3])) if rng.random() < 0.5 else None
                items.append({"start": start, "stop": stop, "step": stepv})
                key.append(slice(start, stop, stepv))
            out = v[tuple(key)]
            if kind == "slice" or kind == "integer":
                b.add("subtensor", [i], out, items=items)
                return True
            if out.ndim == 0 and kind in ("set", "inc"):
                pass
            j = b.add_input(str(v.dtype) if v.dtype != np.bool_ else "bool", list(out.shape))
            new = v.copy()
            if kind == "set":
                new[tuple(key)] = b.values[j]
            else:
                if v.dtype == np.bool_:
                    return False
                new[tuple(key)] += b.values[j]
            b.add(kind + "_subtensor", [i, j], new, items=items)
            return True
        n = v.shape[0]
        if n == 0:
            return False
        count = int(rng.integers(0, 5))
        idx = rng.integers(-n, n, count)
        j = b.add_index_input("int64", idx)
        if kind == "advanced" or v.dtype == np.bool_:
            b.add("advanced_subtensor", [i, j], v[idx])
            return True
        if rng.random() < 0.4:
            # Assignment through distinct indices (with repeats the winner is unspecified).
            unique = np.unique(np.mod(idx, n))
            b.values[j] = unique.astype("int64")
            b.inputs[-1]["shape"] = [len(unique)]
            b.inputs[-1]["data"] = encode(unique)
            k = b.add_input(str(v.dtype), [len(unique)] + list(v.shape[1:]))
            new = v.copy()
            new[unique] = b.values[k]
            b.add("advanced_set_subtensor", [i, j, k], new)
            return True
        k = b.add_input(str(v.dtype), [count] + list(v.shape[1:]))
        new = v.copy()
        np.add.at(new, idx, b.values[k])
        b.add("advanced_inc_subtensor", [i, j, k], new)
        return True
    if family == "product":
        i = b.pick(FLOATS, min_ndim=1, max_ndim=2)
        if i is None:
            return False
        v = b.values[i]
        dt = str(v.dtype)
        k = v.shape[-1]
        if v.ndim == 2 and rng.random() < 0.3:
            # C + s·dot(A, B) or y + s·dot(A, x): the gemm, gemv and ger rewrites, with the
            # accumulator broadcasting against the product (a row, a column, or mutually).
            n = [1, 2, 3, 4][int(rng.integers(0, 4))]
            j = b.add_input(dt, [k, n])
            p = v @ b.values[j]
            c = b.add_input(dt, [int(rng.choice([1, p.shape[0]])), int(rng.choice([1, p.shape[1], 3]))])
            cv = b.values[c]
            try:
                out = cv + 0.5 * p
            except ValueError:
                return False
            d = b.add("dot", [i, j], p)
            s = b.add_input(dt, [])
            b.values[s] = np.array(0.5, dtype=dt)
            b.inputs[-1]["data"] = [0.5]
            m = b.add("mul", [s, d], b.values[s] * p)
            b.add("add", [c, m], cv + b.values[m])
            return True
        if v.ndim == 1 and rng.random() < 0.3:
            j = b.add_input(dt, [int(rng.integers(0, 4))])
            o = np.outer(v, b.values[j])
            c = b.add_input(dt, list(o.shape))
            d = b.add("outer", [i, j], o)
            b.add("sub", [c, d], b.values[c] - o)
            return True
        shape = [k] if rng.random() < 0.4 else [k, int(rng.integers(0, 5))]
        j = b.add_input(dt if rng.random() < 0.8 else str(rng.choice(FLOATS)), shape)
        b.add("dot", [i, j], np.dot(v, b.values[j]))
        return True
    if family == "nnet":
        i = b.pick(FLOATS, min_ndim=2, max_ndim=2)
        if i is None:
            return False
        v = b.values[i]
        if v.shape[1] == 0:
            return False
        op = str(rng.choice(["softmax", "log_softmax", "cross_entropy", "binary_crossentropy"]))
        if op == "binary_crossentropy":
            p = sigmoid(v)
            if not ((p > 1e-3) & (p < 1 - 1e-3)).all():
                return False
            t = b.add_input(str(v.dtype), list(v.shape))
            b.values[t] = (b.values[t] > 0).astype(v.dtype)
            b.inputs[-1]["data"] = encode(b.values[t])
            s = b.add("sigmoid", [i], p)
            b.add("binary_crossentropy", [s, t], -(b.values[t] * np.log(p) + (1 - b.values[t]) * np.log(1 - p)))
            return True
        z = v - v.max(axis=1, keepdims=True)
        e = np.exp(z)
        sm = e / e.sum(axis=1, keepdims=True)
        if op == "softmax":
            b.add("softmax", [i], sm.astype(v.dtype))
        elif op == "log_softmax":
            b.add("log_softmax", [i], (z - np.log(e.sum(axis=1, keepdims=True))).astype(v.dtype))
        else:
            labels = rng.integers(0, v.shape[1], v.shape[0])
            j = b.add_index_input("int32", labels)
            s = b.add("softmax", [i], sm.astype(v.dtype))
            picked = sm[np.arange(v.shape[0]), labels]
            b.add("categorical_crossentropy", [s, j], (-np.log(picked)).astype(v.dtype))
        return True
    if family == "concat":
        i = b.pick(None, min_ndim=1)
        if i is None:
            return False
        v = b.values[i]
        axis = int(rng.integers(0, v.ndim))
        shape = list(v.shape)
        shape[axis] = int(rng.integers(0, 4))
        j = b.add_input(str(v.dtype), shape)
        b.add("concatenate", [i, j], np.concatenate([v, b.values[j]], axis=axis), axis=axis)
        return True
    return False


def conv_reference(x, w, border, stride, flip):
    """Theano's conv2d: a real convolution (flipped filters) unless `flip` is false."""
    kh, kw = w.shape[2], w.shape[3]
    pad = {"valid": (0, 0), "full": (kh - 1, kw - 1), "half": (kh // 2, kw // 2)}[border]
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    if flip:
        w = w[:, :, ::-1, ::-1]
    oh = (xp.shape[2] - kh) // stride[0] + 1 if xp.shape[2] >= kh else 0
    ow = (xp.shape[3] - kw) // stride[1] + 1 if xp.shape[3] >= kw else 0
    out = np.zeros((x.shape[0], w.shape[0], oh, ow), dtype=np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
            out[:, :, i, j] = np.einsum("bcuv,fcuv->bf", patch.astype(np.float64), w.astype(np.float64))
    return out.astype(np.result_type(x.dtype, w.dtype))


def conv_step(b):
    rng = b.rng
    dt = str(rng.choice(FLOATS))
    shape = [int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(2, 7)), int(rng.integers(2, 7))]
    i = b.pick([dt], min_ndim=4, max_ndim=4)
    if i is None or b.values[i].shape[1] == 0:
        i = b.add_input(dt, shape)
    x = b.values[i]
    k = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
    j = b.add_input(dt, [int(rng.integers(1, 3)), x.shape[1]] + k)
    border = str(rng.choice(["valid", "full", "half"]))
    stride = [int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2]))]
    flip = bool(rng.random() < 0.7)
    b.add("conv2d", [i, j], conv_reference(x, b.values[j], border, stride, flip),
          border=border, stride=stride, flip=flip)
    return True


def pool_length(n, w, s, ignore_border):
    """Theano's pooling output length (no padding)."""
    if ignore_border:
        return 0 if n < w else (n - w) // s + 1
    if n == 0:
        return 0
    return (n - 1) // s + 1 if s >= w else max(0, (n - 1 - w + s) // s) + 1


def pool_step(b):
    rng = b.rng
    i = b.pick(FLOATS, min_ndim=2, max_ndim=4)
    if i is None:
        return False
    x = b.values[i]
    if 0 in x.shape:
        return False
    win = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
    stride = [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
    ignore = bool(rng.random() < 0.5)
    mode = str(rng.choice(["max", "average_exc_pad"] + (["average_inc_pad"] if ignore else [])))
    h, w = x.shape[-2], x.shape[-1]
    oh, ow = pool_length(h, win[0], stride[0], ignore), pool_length(w, win[1], stride[1], ignore)
    out = np.zeros(x.shape[:-2] + (oh, ow), dtype=x.dtype)
    for r in range(oh):
        for c in range(ow):
            window = x[..., r * stride[0]:r * stride[0] + win[0], c * stride[1]:c * stride[1] + win[1]]
            if mode == "max":
                out[..., r, c] = window.max(axis=(-2, -1))
            elif mode == "average_exc_pad":
                out[..., r, c] = window.mean(axis=(-2, -1))
            else:
                out[..., r, c] = window.sum(axis=(-2, -1)) / (win[0] * win[1])
    if mode == "max":
        b.smooth = False
    b.add("pool2d", [i], out, window=win, stride=stride, ignore_border=ignore, mode=mode)
    return True


def factor(rng, n):
    """A random shape of up to 3 axes with n elements."""
    if n == 0:
        return [0, int(rng.integers(1, 4))] if rng.random() < 0.5 else [0]
    dims = []
    left = n
    for _ in range(int(rng.integers(0, 3))):
        divisors = [d for d in range(1, left + 1) if left % d == 0]
        d = int(rng.choice(divisors))
        dims.append(d)
        left //= d
    dims.append(left)
    rng.shuffle(dims)
    return dims


def case(rng, index):
    for _ in range(100):
        b = Builder(rng)
        dtype = str(rng.choice(DTYPES, p=[.3, .35, .15, .1, .1]))
        b.add_input(dtype, b.shape())
        steps = int(rng.integers(1, 6))
        done = 0
        for _ in range(steps * 4):
            if step(b):
                done += 1
            if done == steps:
                break
        if not b.nodes:
            continue
        out = b.values[b.last]
        if out.dtype.kind == "f" and (not np.isfinite(out).all() or (np.abs(out) > 1e6).any()):
            continue
        values = [v for v in b.values if v.dtype.kind == "f" and v.size]
        if any(not np.isfinite(v).all() for v in values):
            continue
        scale = max([1.0] + [float(np.abs(v).max()) for v in values])
        float_inputs = [k for k, inp in enumerate(b.inputs) if inp["dtype"] == "float64"]
        grad = bool(b.smooth and out.dtype == np.float64 and float_inputs and out.size > 0
                    and all(inp["dtype"] in ("float64", "int32", "int64", "bool") for inp in b.inputs))
        return {"id": index, "inputs": b.inputs, "nodes": b.renumbered(), "scale": scale, "grad": grad,
                "expected": {"dtype": str(out.dtype), "shape": list(out.shape), "data": encode(out)}}
    raise RuntimeError("no case")


def main():
    np.seterr(all="ignore")   # overflowing intermediates are rejected, not warned about
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--graphs", type=int, default=600)
    p.add_argument("--seed", type=int, default=20261203)
    p.add_argument("--out", default=os.path.join(here, "fuzz.jsonl"))
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    with open(args.out, "w") as f:
        for k in range(args.graphs):
            f.write(json.dumps(case(rng, k), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
