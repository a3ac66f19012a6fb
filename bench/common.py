"""Shared by the benchmarks: timing with device sync, a measured matmul peak, and the official
`Model` (podgorskiy/ALAE `model.py`, from a local checkout named by ALAE_OFFICIAL_SRC)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

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
    if src not in sys.path:
        sys.path.insert(0, src)
    return __import__(name)


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
