"""Shared by the benchmarks: timing with device sync, a measured matmul peak, kernel and host-sync
counts, and the official `Model` and training iteration (podgorskiy/ALAE `model.py`,
`train_alae.py`, from a local checkout named by ALAE_OFFICIAL_SRC)."""

from __future__ import annotations

import importlib
import os
import time
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from alae_hf import ALAEConfig


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device, warmup: int = 3, min_time: float = 1.0,
          max_reps: int = 50, min_reps: int = 3) -> float:
    """Mean seconds per call after warm-up, synchronising the device around the timed loop."""
    for _ in range(warmup):
        fn()
    sync(device)
    reps, start = 0, time.perf_counter()
    while reps < max_reps and (reps < min_reps or time.perf_counter() - start < min_time):
        fn()
        reps += 1
    sync(device)
    return (time.perf_counter() - start) / reps


def matmul_peak(device: torch.device) -> float:
    """Measured dense matmul TFLOP/s (bf16 on GPU, fp32 on CPU): the utilisation denominator."""
    n, dtype = (8192, torch.bfloat16) if device.type == "cuda" else (1024, torch.float32)
    a = torch.randn(n, n, device=device, dtype=dtype)
    return 2 * n**3 / timed(lambda: a @ a, device, warmup=2, min_time=0.5) / 1e12


def official_module(name: str) -> Any | None:
    """Import a module of the official checkout (None when ALAE_OFFICIAL_SRC is unset)."""
    src = os.environ.get("ALAE_OFFICIAL_SRC")
    if not src:
        return None
    # The official modules import each other by top-level name, so the checkout must be on the path.
    if os.path.abspath(src) not in map(os.path.abspath, filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))):
        raise SystemExit(f"ALAE_OFFICIAL_SRC={src}: also put the checkout on PYTHONPATH (PYTHONPATH={src})")
    return importlib.import_module(name)


def official_model(arch: ALAEConfig, device: torch.device, training: bool = False) -> Any | None:
    """The official `Model` with our config, or None. On CUDA the default tensor type is set to
    CUDA as the official launcher does (its code creates tensors without a device); undo it
    with `torch.set_default_tensor_type("torch.FloatTensor")`."""
    module = official_module("model")
    if module is None:
        return None
    if device.type == "cuda":
        torch.set_default_tensor_type("torch.cuda.FloatTensor")
    mixing = dict(dlatent_avg_beta=0.995, style_mixing_prob=0.9) if training else dict(
        dlatent_avg_beta=None, style_mixing_prob=None)
    model = module.Model(startf=arch.start_channels, maxf=arch.max_channels, layer_count=arch.layer_count,
                         latent_size=arch.latent_size, mapping_layers=arch.mapping_layers, channels=arch.channels,
                         truncation_psi=arch.truncation_psi, truncation_cutoff=arch.truncation_cutoff,
                         generator="GeneratorDefault", encoder="EncoderDefault", **mixing)
    return model.to(device)


def official_train_step(arch: ALAEConfig, batch: int, device: torch.device) -> Callable[[], None] | None:
    """One official `train_alae.py` iteration (LREQAdam, three `Model.forward` calls, R1 every
    step) at full resolution on random images, as a closure; None without ALAE_OFFICIAL_SRC.
    Leaves the default tensor type at CUDA on a GPU (the official forward creates tensors
    without a device); call `restore_default_tensor_type()` when done timing it."""
    import inspect

    model = official_model(arch, device, training=True)
    if model is None:
        return None
    model.train()
    lreq_adam = official_module("custom_adam").LREQAdam
    # HEAD names D and F mapping_d / mapping_f; older revisions mapping_tl / mapping_fl
    d_net, f_net = (getattr(model, a, None) or getattr(model, b) for a, b in (("mapping_d", "mapping_tl"),
                                                                              ("mapping_f", "mapping_fl")))
    enc = lreq_adam([{"params": model.encoder.parameters()}, {"params": d_net.parameters()}],
                    lr=0.0015, betas=(0.0, 0.99), weight_decay=0)
    dec = lreq_adam([{"params": model.decoder.parameters()}, {"params": f_net.parameters()}],
                    lr=0.0015, betas=(0.0, 0.99), weight_decay=0)
    lod = arch.max_lod
    x = (torch.rand(batch, arch.channels, arch.resolution, arch.resolution, device=device) * 2 - 1).requires_grad_(True)
    alt = {"alt": False} if "alt" in inspect.signature(model.forward).parameters else {}

    def step() -> None:
        enc.zero_grad()
        model(x, lod, 1.0, d_train=True, ae=False, **alt).backward()
        enc.step()
        dec.zero_grad()
        model(x, lod, 1.0, d_train=False, ae=False, **alt).backward()
        dec.step()
        enc.zero_grad()
        dec.zero_grad()
        model(x, lod, 1.0, d_train=True, ae=True, **alt).backward()
        enc.step()
        dec.step()

    return step


def official_inference(arch: ALAEConfig, batch: int, device: torch.device) -> dict[str, Callable[[], Any]] | None:
    """The official gen (F + truncation + G, noise on), enc (E + D) and rec (E then G) closures."""
    model = official_model(arch, device)
    if model is None:
        return None
    model.eval()
    lod = arch.max_lod
    z = torch.randn(batch, arch.latent_size, device=device)
    x = torch.rand(batch, arch.channels, arch.resolution, arch.resolution, device=device) * 2 - 1
    return {
        "gen": lambda: model.generate(lod, 1, z=z, count=batch, mixing=False, noise=True),
        "enc": lambda: model.encode(x, lod, 1),
        "rec": lambda: model.decoder(model.encode(x, lod, 1)[0].repeat(1, 2 * arch.layer_count, 1), lod, 1, True),
    }


def restore_default_tensor_type() -> None:
    torch.set_default_tensor_type("torch.FloatTensor")


class OpCounter(TorchDispatchMode):
    """Counts what one call dispatches: kernels (aten ops that are not views or bare
    allocations: a proxy for GPU kernel launches) by op name, and host syncs (scalar reads
    `aten._local_scalar_dense`, i.e. `.item()`, `bool(t)`, `float(t)`, and copies to the CPU)
    with the device of the tensor read and the project source line that asked for it.

    On a CPU run every tensor is a CPU tensor; `sync_sites` still names each site so that the
    ones on model-device tensors (real syncs on a GPU) can be told from host-generator draws.
    """

    _NO_KERNEL = ("empty", "empty_like", "empty_strided", "detach", "lift_fresh", "_local_scalar_dense", "set_", "resize_")

    def __init__(self) -> None:
        super().__init__()
        self.kernels = 0
        self.by_op: Counter[str] = Counter()
        self.sync_sites: Counter[str] = Counter()

    @property
    def syncs(self) -> int:
        return sum(self.sync_sites.values())

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._overloadpacket.__name__
        if name == "_local_scalar_dense":
            self.sync_sites[f"{_project_site()} [{args[0].device.type}]"] += 1
        elif name in ("_to_copy", "copy_") and _device_to_host(func, args, kwargs):
            self.sync_sites[f"{_project_site()} [copy to cpu]"] += 1
        if not func.is_view and name not in self._NO_KERNEL:
            self.kernels += 1
            self.by_op[name] += 1
        return func(*args, **kwargs)

    def summary(self, top: int = 8) -> dict[str, Any]:
        return dict(kernels=self.kernels, host_syncs=self.syncs, sync_sites=dict(self.sync_sites),
                    top_ops=dict(self.by_op.most_common(top)))


def _device_to_host(func, args, kwargs) -> bool:
    src = args[0] if args else None
    if not isinstance(src, torch.Tensor) or src.device.type == "cpu":
        return False
    if func._overloadpacket.__name__ == "copy_":  # copy_(dst, src)
        return args[0].device.type == "cpu" and args[1].device.type != "cpu"
    target = kwargs.get("device")
    return target is not None and torch.device(target).type == "cpu"


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _project_site() -> str:
    """`file:line function` of the innermost project frame (alae_hf/, bench/, scripts)."""
    for frame in reversed(traceback.extract_stack()):
        path = os.path.abspath(frame.filename)
        if path.startswith(_ROOT) and not path.endswith("bench/common.py") and ".venv" not in path:
            return f"{os.path.relpath(path, _ROOT)}:{frame.lineno} {frame.name}"
    return "torch internals"


def count_ops(fn: Callable[[], Any]) -> dict[str, Any]:
    """Run `fn` once under an `OpCounter` and return its summary."""
    with OpCounter() as counter:
        fn()
    return counter.summary()
