"""How far a CPU row is from the machine's limit: FLOPs counted once, the box's peaks measured.

- `count(fn)`: FLOPs of one call by `torch.utils.flop_counter`'s per-op formulas (2 x multiply-
  adds; backward and R1's double backward included), and the convolution shapes it ran. A
  dispatch mode rather than `FlopCounterMode` itself, whose module hooks reject R1's
  `autograd.grad(create_graph=True)` (the same counter as bench/train_throughput.py).
- `matmul_peak()`: GFLOP/s of a large fp32 matmul at the current thread count.
- `conv_peak(shapes)`: the best GFLOP/s of those convolutions alone (forward), i.e. what oneDNN
  reaches at the row's own shapes: a ceiling nearer to the row than the matmul's.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

ConvShape = tuple  # (input shape, weight shape, stride, padding, transposed, groups, dtype)


class FlopCount(TorchDispatchMode):
    """FLOPs (torch.utils.flop_counter formulas) and convolution shapes of what runs inside."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0
        self.convs: Counter[ConvShape] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func._overloadpacket in flop_registry:
            self.flops += flop_registry[func._overloadpacket](*args, **kwargs, out_val=out)
        if func._overloadpacket is torch.ops.aten.convolution:
            x, w, _, stride, padding, _, transposed, _, groups = args[:9]
            self.convs[(tuple(x.shape), tuple(w.shape), tuple(stride), tuple(padding), bool(transposed),
                        int(groups), x.dtype)] += 1
        return out


def count(fn: Callable[[], Any]) -> FlopCount:
    """Run `fn` once under a `FlopCount` and return it (`.flops`, `.convs`)."""
    with FlopCount() as counter:
        fn()
    return counter


def _best_time(fn: Callable[[], Any], reps: int, min_time: float) -> float:
    fn()
    best, start, done = float("inf"), time.perf_counter(), 0
    while done < reps or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        fn()
        best, done = min(best, time.perf_counter() - t), done + 1
    return best


def matmul_peak(n: int = 2048, min_time: float = 1.0) -> float:
    """GFLOP/s of an n x n fp32 matmul (best of the timed calls), at torch's thread count."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / _best_time(lambda: a @ b, 3, min_time) / 1e9


def conv_flops(shape: ConvShape) -> float:
    """2 x multiply-adds of one convolution forward (a transposed conv: those of its adjoint)."""
    x, w, stride, padding, transposed, groups, _ = shape
    if transposed:  # the adjoint conv maps the output back onto x: one MAC per x pixel and tap
        return 2.0 * x[0] * x[2] * x[3] * w[0] * w[1] * w[2] * w[3]
    h = (x[2] + 2 * padding[0] - w[2]) // stride[0] + 1
    v = (x[3] + 2 * padding[1] - w[3]) // stride[1] + 1
    return 2.0 * x[0] * w[0] * h * v * w[1] * w[2] * w[3]


def conv_peak(convs: Counter, top: int = 8, min_time: float = 0.2) -> tuple[float, str]:
    """Best forward GFLOP/s among the `top` convolutions of `convs` that carry the most FLOPs,
    each timed alone (best of a few calls); returns (GFLOP/s, the shape that reached it)."""
    ranked = sorted(convs, key=lambda s: conv_flops(s) * convs[s], reverse=True)[:top]
    best, where = 0.0, ""
    for shape in ranked:
        x_shape, w_shape, stride, padding, transposed, groups, dtype = shape
        x, w = torch.randn(x_shape, dtype=dtype), torch.randn(w_shape, dtype=dtype)
        op = F.conv_transpose2d if transposed else F.conv2d
        with torch.no_grad():
            seconds = _best_time(partial(op, x, w, stride=stride, padding=padding, groups=groups), 2, min_time)
        rate = conv_flops(shape) / seconds / 1e9
        if rate > best:
            best, where = rate, f"{'convT' if transposed else 'conv'} x{list(x_shape)} w{list(w_shape)}"
    return best, where


def annotate(row: dict, gflop_per_img: float, peaks: dict[str, float]) -> dict:
    """Add achieved GFLOP/s and % of each measured peak to a row with `ours_img_s`."""
    if row.get("ours_img_s"):
        achieved = gflop_per_img * row["ours_img_s"]
        row.update(gflop_per_img=gflop_per_img, gflop_s=achieved)
        for name, peak in peaks.items():
            if peak:
                row[f"pct_{name}"] = 100 * achieved / peak
    return row
