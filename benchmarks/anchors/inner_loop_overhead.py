"""Why our MAML meta-step is slower than learn2learn's on a CPU: the same task, three inner loops.

    .venv/bin/python benchmarks/anchors/inner_loop_overhead.py [--tasks 2] [--repeats 20]

One meta-batch of 5-way 1-shot, 15-query Omniglot-sized tasks (Conv-4, 28 px, our batch-statistics norm),
second-order MAML (or first-order with --first-order) with 2 inner steps at lr 0.4 and a zero head, timed
three ways:
  1. the engine: MAML.meta_objective (torch.func.grad inside a loop over tasks, one backward at the end);
  2. the same maths with torch.autograd.grad (create_graph unless first order) and functional_call, one
     backward per task
     (learn2learn's pattern, without its module cloning);
  3. as 2 but one backward at the end (isolates the torch.func.grad cost from the backward schedule);
  4. as 2 on the same weights with PyTorch's fused nn.BatchNorm2d in training mode (what learn2learn runs)
     instead of our BatchStatNorm2d written from primitive ops (needed for correct vmap second-order
     gradients, see KNOWN_TRAPS).
Prints milliseconds per meta-step (median) and whether the meta-gradients agree (all parameters together).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call

from fewshot_studio.core.algorithms import get_method
from fewshot_studio.core.backbones import get_backbone

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))


def autograd_task_loss(backbone, params, buffers, xs, ys, xq, yq, ways, dim, lr=0.4, steps=2, first_order=False):
    fast = dict(params)
    w = xs.new_zeros(ways, dim, requires_grad=True)
    b = xs.new_zeros(ways, requires_grad=True)
    for _ in range(steps):
        logits = functional_call(backbone, (fast, buffers), (xs,)) @ w.T + b
        names = list(fast)
        grads = torch.autograd.grad(F.cross_entropy(logits, ys), [fast[k] for k in names] + [w, b],
                                    create_graph=not first_order)
        fast = {k: fast[k] - lr * g for k, g in zip(names, grads)}
        w, b = w - lr * grads[-2], b - lr * grads[-1]
    return F.cross_entropy(functional_call(backbone, (fast, buffers), (xq,)) @ w.T + b, yq)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--first-order", action="store_true", help="first-order MAML (fomaml) instead")
    args = ap.parse_args()
    torch.manual_seed(0)
    fo = args.first_order
    method = get_method("fomaml" if fo else "maml")(batched="loop")
    backbone = method.prepare_backbone(get_backbone("conv4").build("random")).train()
    n, ways = args.tasks, 5
    xs, xq = torch.randn(n, ways, 3, 28, 28), torch.randn(n, ways * 15, 3, 28, 28)
    ys, yq = torch.arange(ways).repeat(n, 1), torch.arange(ways).repeat_interleave(15).repeat(n, 1)
    params = dict(backbone.named_parameters())
    buffers = dict(backbone.named_buffers())
    dim = backbone(xs[0][:1]).shape[-1]

    def engine():
        loss, _, _ = method.meta_objective(backbone, xs, ys, xq, yq, ways)
        return torch.autograd.grad(loss, list(params.values()))

    def per_task():
        total = [torch.zeros_like(p) for p in params.values()]
        for i in range(n):
            loss = autograd_task_loss(backbone, params, buffers, xs[i], ys[i], xq[i], yq[i], ways, dim,
                                      first_order=fo) / n
            for t, g in zip(total, torch.autograd.grad(loss, list(params.values()))):
                t += g
        return total

    def one_backward():
        loss = sum(autograd_task_loss(backbone, params, buffers, xs[i], ys[i], xq[i], yq[i], ways, dim,
                                      first_order=fo) for i in range(n)) / n
        return torch.autograd.grad(loss, list(params.values()))

    plain = get_backbone("conv4").build("random").train()  # nn.BatchNorm2d, as learn2learn runs it
    plain.load_state_dict({k: v for k, v in backbone.state_dict().items()}, strict=False)
    p_params, p_buffers = dict(plain.named_parameters()), dict(plain.named_buffers())

    def per_task_native_bn():
        total = [torch.zeros_like(p) for p in p_params.values()]
        for i in range(n):
            loss = autograd_task_loss(plain, p_params, p_buffers, xs[i], ys[i], xq[i], yq[i], ways, dim,
                                      first_order=fo) / n
            for t, g in zip(total, torch.autograd.grad(loss, list(p_params.values()))):
                t += g
        return total

    results = {}
    for name, fn in (("engine (torch.func.grad loop)", engine), ("autograd.grad, backward per task", per_task),
                     ("autograd.grad, one backward", one_backward),
                     ("per task, native nn.BatchNorm2d", per_task_native_bn)):
        fn()
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            grads = fn()
            times.append(time.perf_counter() - t)
        results[name] = grads
        print(f"{name:36s} {1000 * statistics.median(times):7.1f} ms per meta-step ({n} tasks)")
    ref = results["engine (torch.func.grad loop)"]
    for name, grads in results.items():
        err = (sum((a - b).norm() ** 2 for a, b in zip(grads, ref)) ** 0.5 /
               sum(b.norm() ** 2 for b in ref) ** 0.5).item()
        print(f"  {name}: relative difference to the engine's meta-gradient {err:.1e}")


if __name__ == "__main__":
    main()
