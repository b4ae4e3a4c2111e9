"""One meta-step's backward pass, a chunk of the meta-batch at a time.

Building the whole meta-batch in one autograd graph and calling ``backward`` once keeps every task's
activations alive together: Conv-4 on 5-way 1-shot 28-pixel tasks, meta-batch 32, peaked at 2.7 GB of
resident memory for MAML where learn2learn, which calls ``backward`` per task, needs 0.22 GB. Here the
meta-batch is cut into chunks of :meth:`.algorithms.MetaLearner.meta_chunk` tasks (one task on a CPU; the
whole batch where a method vmaps over tasks on a GPU), and each chunk's loss, weighted by its share of the
batch, is back-propagated before the next chunk runs. The gradients accumulated in ``.grad`` are those of
the mean loss over the whole batch (every method's ``meta_objective`` is a mean over its tasks). Under
DistributedDataParallel, gradients are all-reduced once, with the last chunk (``no_sync`` before it).
"""

from __future__ import annotations

from contextlib import nullcontext

import torch


def chunk_bounds(total: int, size: int) -> list[tuple[int, int]]:
    """[(start, stop), ...] covering range(total) in pieces of ``size`` (the last may be shorter)."""
    size = max(1, min(total, size))
    return [(i, min(total, i + size)) for i in range(0, total, size)]


def meta_backward(model, chunk: int, xs, ys, xq, yq, ways: int, view=None) -> tuple[float, float]:
    """Accumulate into ``.grad`` the gradient of the mean meta-loss over the batch (xs: (B, ...) and so on),
    ``chunk`` tasks per backward pass; returns the batch's (loss to report, accuracy) as floats.

    ``view``, when given, turns a chunk's stored images (xs[i:j], xq[i:j]: uint8) into model inputs just before
    the chunk runs, so that only one chunk's float inputs exist at a time (a meta-batch of 32 Omniglot tasks is
    30 MB of them, and the allocator kept the high-water mark of every copy).

    ``model`` is :class:`.meta_train.MetaObjective` or its DistributedDataParallel wrapper. A non-finite
    loss is returned as it is (the caller refuses to step on it); the values are read once, at the end, so
    that a GPU is not synchronised per chunk.
    """
    total = xs.shape[0]
    bounds = chunk_bounds(total, chunk)
    # Each chunk's weighted report and accuracy are copied into one buffer made before the first chunk runs: a
    # pair of small tensors kept per chunk lands in the holes the chunk's activations leave on the heap, and glibc
    # cannot reuse those holes for the next chunk (ProtoNet 5-shot, meta-batch 32: peak resident set 427 MB
    # above the start against 178 with the buffer, one probe each: BENCHMARKS.md, item 4).
    dtype = xs.dtype if xs.is_floating_point() else torch.get_default_dtype()  # uint8 xs: view makes floats
    stats = torch.zeros(2, len(bounds), dtype=dtype, device=xs.device)
    for n, (i, j) in enumerate(bounds):
        last = n == len(bounds) - 1
        sync = nullcontext() if last or not hasattr(model, "no_sync") else model.no_sync()
        with sync:
            cs, cq = (xs[i:j], xq[i:j]) if view is None else (view(xs[i:j]), view(xq[i:j]))
            loss, report, acc = model(cs, ys[i:j], cq, yq[i:j], ways)
            weight = (j - i) / total
            (loss * weight if len(bounds) > 1 else loss).backward()
        stats[0, n], stats[1, n] = report.detach() * weight, acc.detach() * weight
        del cs, cq, loss, report, acc  # not alive while the next chunk's inputs and activations are made
    report, acc = stats.sum(1).tolist()
    return report, acc
