"""The GPU targets' workloads in eager PyTorch on the same GPU, for scripts/gpu-check's ratios.

Timings only, so the data are random arrays of MNIST's shapes, kept on the GPU as our shared
variables are. One JSON line per workload; seconds are medians where a workload repeats.
usage: python3 bench/gpu/torch_gpu.py [--device cuda]
"""
import argparse, json, time
import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--device", default="cuda")
args = ap.parse_args()
dev = torch.device(args.device)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
g = torch.Generator(device="cpu").manual_seed(1234)


def emit(**row):
    row["framework"] = "pytorch " + torch.__version__
    print(json.dumps(row, sort_keys=True), flush=True)


def sync():
    torch.cuda.synchronize(dev)


def median(f, repeats=9):
    times = []
    for _ in range(repeats):
        sync(); t = time.perf_counter(); f(); sync()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


X = torch.rand(50000, 784, generator=g).to(dev)
Y = torch.randint(0, 10, (50000,), generator=g).to(dev)

# Logistic regression: 74 epochs of 83 minibatches of 600, SGD 0.13 (the tutorial's training).
W = torch.zeros(784, 10, device=dev, requires_grad=True)
b = torch.zeros(10, device=dev, requires_grad=True)
def logreg_epoch():
    for i in range(50000 // 600):
        x, y = X[i * 600:(i + 1) * 600], Y[i * 600:(i + 1) * 600]
        loss = F.cross_entropy(x @ W + b, y)
        gW, gb = torch.autograd.grad(loss, (W, b))
        with torch.no_grad():
            W.sub_(0.13 * gW); b.sub_(0.13 * gb)
logreg_epoch()
sync(); t = time.perf_counter()
for _ in range(74): logreg_epoch()
sync()
emit(workload="logreg", epochs=74, seconds=time.perf_counter() - t)

# MLP: one epoch of 2500 minibatches of 20, 784-500-10 tanh, L2 1e-4, SGD 0.01.
W1 = (torch.rand(784, 500, generator=g) * 0.1 - 0.05).to(dev).requires_grad_()
b1 = torch.zeros(500, device=dev, requires_grad=True)
W2 = torch.zeros(500, 10, device=dev, requires_grad=True)
b2 = torch.zeros(10, device=dev, requires_grad=True)
params = [W1, b1, W2, b2]
def mlp_epoch():
    for i in range(50000 // 20):
        x, y = X[i * 20:(i + 1) * 20], Y[i * 20:(i + 1) * 20]
        h = torch.tanh(x @ W1 + b1)
        loss = F.cross_entropy(h @ W2 + b2, y) + 1e-4 * ((W1 ** 2).sum() + (W2 ** 2).sum())
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, gp in zip(params, grads): p.sub_(0.01 * gp)
mlp_epoch()
emit(workload="mlp_epoch", batch=20, seconds=median(mlp_epoch, 3))

# LeNet: one SGD step on a minibatch of 500 (20 and 50 5x5 filters, 2x2 max pooling, 500 tanh).
c1 = (torch.randn(20, 1, 5, 5, generator=g) * 0.1).to(dev).requires_grad_()
c2 = (torch.randn(50, 20, 5, 5, generator=g) * 0.05).to(dev).requires_grad_()
f1 = (torch.randn(800, 500, generator=g) * 0.05).to(dev).requires_grad_()
f2 = torch.zeros(500, 10, device=dev, requires_grad=True)
lenet = [c1, c2, f1, f2]
def lenet_step(i=[0]):
    k = i[0] = (i[0] + 1) % 100
    x = X[k * 500:(k + 1) * 500].view(500, 1, 28, 28)
    y = Y[k * 500:(k + 1) * 500]
    h = torch.tanh(F.max_pool2d(F.conv2d(x, c1), 2))
    h = torch.tanh(F.max_pool2d(F.conv2d(h, c2), 2)).flatten(1)
    loss = F.cross_entropy(torch.tanh(h @ f1) @ f2, y)
    grads = torch.autograd.grad(loss, lenet)
    with torch.no_grad():
        for p, gp in zip(lenet, grads): p.sub_(0.1 * gp)
for _ in range(3): lenet_step()
emit(workload="lenet_minibatch", batch=500, seconds=median(lenet_step, 21))

# SGEMM 8192² (no TF32).
A = torch.rand(8192, 8192, generator=g).to(dev)
B = torch.rand(8192, 8192, generator=g).to(dev)
s = median(lambda: A @ B, 5)
emit(workload="sgemm", n=8192, seconds=s, gflops=2 * 8192 ** 3 / s / 1e9)
del A, B

# exp(-a)*tanh(a)+a**2 over 1e8 float32, beside a device-to-device copy of the same array.
a = torch.rand(100_000_000, generator=g).to(dev)
out = torch.empty_like(a)
s = median(lambda: torch.exp(-a) * torch.tanh(a) + a ** 2, 5)
c = median(lambda: out.copy_(a), 5)
emit(workload="elemwise", n=100_000_000, seconds=s, copy_seconds=c, copy_gbps=2 * 4e8 / c / 1e9)
