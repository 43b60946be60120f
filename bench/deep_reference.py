#!/usr/bin/env python3
"""An independent JAX implementation of the short schedules of the two deep tutorials, to tell
what error they reach with another implementation and other random numbers than ours.

  sda: 784-1000-1000-1000-10 sigmoid stack, dAs with tied weights, corruption 0.1/0.2/0.3,
       pre-training lr 0.001 batch 1, fine-tuning lr 0.1 batch 1 (classic SdA.py settings)
  dbn: same stack, RBMs pre-trained with CD-1 lr 0.01 batch 10, fine-tuning lr 0.1 batch 10
       (classic DBN.py settings)

Both: weights U(+-4*sqrt(6/(fan_in+fan_out))), zero biases, a zero-initialised softmax layer;
one validation per fine-tuning epoch and the test error at the best validation, as the
classic early-stopping loop reports it. Pixels are value/256 as in mnist.pkl.gz.

usage: /tmp/anchors-venv/bin/python bench/deep_reference.py {sda,dbn} [--pretrain-epochs 1]
           [--finetune-epochs 2] [--seed S] [--anchors ../shared/anchors]
Prints one JSON line. It uses the anchors' MNIST loader (common.load_mnist) and JAX on the CPU.
"""
import argparse, json, os, sys, time

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("model", choices=["sda", "dbn"])
ap.add_argument("--pretrain-epochs", type=int, default=1)
ap.add_argument("--finetune-epochs", type=int, default=2)
ap.add_argument("--seed", type=int, default=None)
ap.add_argument("--anchors", default=os.path.join(here, "..", "..", "shared", "anchors"))
args = ap.parse_args()
sys.path.insert(0, os.path.abspath(args.anchors))
import common  # noqa: E402
import numpy as np  # noqa: E402
import jax, jax.numpy as jnp  # noqa: E402

sda = args.model == "sda"
batch = 1 if sda else 10
pre_lr, fine_lr = (0.001, 0.1) if sda else (0.01, 0.1)
seed = args.seed if args.seed is not None else (89677 if sda else 123)
(trx, trY), (vax, vaY), (tex, teY) = common.load_mnist(div=256.0)
rng = np.random.RandomState(seed)
sizes = [784, 1000, 1000, 1000]
Ws, bs = [], []
for n_in, n_out in zip(sizes[:-1], sizes[1:]):
    bound = 4 * np.sqrt(6.0 / (n_in + n_out))
    Ws.append(jnp.asarray(rng.uniform(-bound, bound, (n_in, n_out)), jnp.float32))
    bs.append(jnp.zeros(n_out, jnp.float32))
key = jax.random.PRNGKey(rng.randint(2 ** 30))
X = jnp.asarray(trx)
n_batches = X.shape[0] // batch


def below(x, i):
    """The input of layer i: the mean activations of the layers below."""
    for W, b in zip(Ws[:i], bs[:i]):
        x = jax.nn.sigmoid(x @ W + b)
    return x


def da_cost(p, x, key, level):
    W, bh, bv = p
    keep = jax.random.bernoulli(key, 1.0 - level, x.shape).astype(x.dtype)
    y = jax.nn.sigmoid((x * keep) @ W + bh)
    z = jax.nn.sigmoid(y @ W.T + bv)
    return jnp.mean(-jnp.sum(x * jnp.log(z) + (1 - x) * jnp.log(1 - z), axis=1))


def rbm_grads(p, v0, key):
    """CD-1: the gradient of mean F(v0) - mean F(v1), the chain end held constant."""
    W, hb, vb = p
    k1, k2 = jax.random.split(key)
    ph0 = jax.nn.sigmoid(v0 @ W + hb)
    h0 = jax.random.bernoulli(k1, ph0).astype(v0.dtype)
    v1 = jax.random.bernoulli(k2, jax.nn.sigmoid(h0 @ W.T + vb)).astype(v0.dtype)
    ph1 = jax.nn.sigmoid(v1 @ W + hb)
    n = v0.shape[0]
    gW = (v1.T @ ph1 - v0.T @ ph0) / n
    ghb = jnp.mean(ph1 - ph0, axis=0)
    gvb = jnp.mean(v1 - v0, axis=0)
    # The classic monitor of CD: the reconstruction log-likelihood of the data.
    a = h0 @ W.T + vb
    cost = -jnp.mean(jnp.sum(v0 * jax.nn.softplus(-a) + (1 - v0) * jax.nn.softplus(a), axis=1))
    return (gW, ghb, gvb), cost


t0 = time.perf_counter()
pre_costs = []
levels = [0.1, 0.2, 0.3]
for i in range(3):
    p = (Ws[i], bs[i], jnp.zeros(sizes[i], jnp.float32))
    H = jax.jit(below, static_argnums=1)(X, i)

    @jax.jit
    def epoch(p, key, H=H, i=i):
        def body(j, carry):
            p, key, total = carry
            key, sub = jax.random.split(key)
            x = jax.lax.dynamic_slice_in_dim(H, j * batch, batch)
            if sda:
                c, g = jax.value_and_grad(da_cost)(p, x, sub, levels[i])
            else:
                g, c = rbm_grads(p, x, sub)
            return tuple(a - pre_lr * b for a, b in zip(p, g)), key, total + c
        return jax.lax.fori_loop(0, n_batches, body, (p, key, 0.0))

    costs = []
    for e in range(args.pretrain_epochs):
        p, key, total = epoch(p, key)
        costs.append(float(total) / n_batches)
        print(f"pre-training layer {i}, epoch {e}, cost {costs[-1]:.4f}", file=sys.stderr, flush=True)
    Ws[i], bs[i] = p[0], p[1]
    pre_costs.append(costs)
pre_seconds = time.perf_counter() - t0

params = (tuple(Ws), tuple(bs), jnp.zeros((1000, 10), jnp.float32), jnp.zeros(10, jnp.float32))


def logits(p, x):
    Ws, bs, V, c = p
    for W, b in zip(Ws, bs):
        x = jax.nn.sigmoid(x @ W + b)
    return x @ V + c


def nll(p, x, y):
    return -jnp.mean(jax.nn.log_softmax(logits(p, x))[jnp.arange(y.shape[0]), y])


Y = jnp.asarray(trY)


@jax.jit
def finetune_epoch(p):
    def body(j, p):
        x = jax.lax.dynamic_slice_in_dim(X, j * batch, batch)
        y = jax.lax.dynamic_slice_in_dim(Y, j * batch, batch)
        g = jax.grad(nll)(p, x, y)
        return jax.tree_util.tree_map(lambda a, b: a - fine_lr * b, p, g)
    return jax.lax.fori_loop(0, n_batches, body, p)


@jax.jit
def error(p, x, y):
    return jnp.mean(jnp.argmax(logits(p, x), axis=1) != y)


t1 = time.perf_counter()
best, test = float("inf"), float("nan")
for e in range(args.finetune_epochs):
    params = finetune_epoch(params)
    v = float(error(params, vax, vaY)) * 100
    if v < best:
        best, test = v, float(error(params, tex, teY)) * 100
    print(f"epoch {e + 1}, validation error {v:.2f} %, test error of the best {test:.2f} %", file=sys.stderr, flush=True)
print(json.dumps(dict(model=args.model, system="jax-reference", seed=seed, pretrain_epochs=args.pretrain_epochs,
                      finetune_epochs=args.finetune_epochs, pretrain_costs=pre_costs, best_validation=round(best, 3),
                      test=round(test, 3), pretrain_seconds=round(pre_seconds, 1),
                      finetune_seconds=round(time.perf_counter() - t1, 1))), flush=True)
