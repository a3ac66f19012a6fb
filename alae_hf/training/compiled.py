"""Opt-in CPU speed options of the trainer: compiled networks and the channels_last memory format.

`compile_networks` compiles each of the model's networks in place with `torch.compile`
(`nn.Module.compile`, TorchInductor; on a CPU it generates C++ with OpenMP). The state-dict keys,
checkpoints and the maths stay the same; what changes is how element-wise passes are fused.
R1's penalty needs a double backward, which compiled graphs do not support ("torch.compile does
not currently support double backward", PyTorch's `torch.compile` FAQ), so the step runs a phase
that carries R1 under `torch.compiler.set_stance("force_eager")` (`step.backward`): with lazy R1
(`--r1_interval k`) the other k-1 D steps, every G step and every reciprocity step run compiled.

Inductor compiles C++ at run time. Without a C++ compiler the run falls back to eager with one
warning line (the results are the same, only slower), rather than failing at its first step.

`channels_last` stores the convolution weights and the batch of images as NHWC, the layout
oneDNN's CPU convolutions prefer (PyTorch's "Channels Last Memory Format" tutorial); the numbers
are the same up to float summation order.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import torch
from torch import nn

# A network is compiled once per level of detail, grad mode (the D step's generation runs
# without autograd) and frozen-ness (the G step's critic has detached parameters): progressive
# growing over 7 levels needs more graphs than Dynamo's default limit of 8 per function.
RECOMPILE_LIMIT = 64


def cpp_compiler() -> str | None:
    """The C++ compiler Inductor would call (`$CXX`, else g++/clang++/c++), or None if absent."""
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler

        name = get_cpp_compiler()
    except Exception:  # noqa: BLE001 - any failure to find one means eager
        return None
    return shutil.which(name)


def compile_networks(
    model: nn.Module, device: torch.device, log: Callable[[str], None] = print
) -> bool:
    """Compile each direct child network of `model` in place (`nn.Module.compile`, Inductor).

    Args:
        model: the model whose networks (F, G, E, D) to compile; its parameters, buffers and
            state-dict keys are untouched.
        device: the model's device; on a CPU, Inductor needs a C++ compiler.
        log: where the one warning line goes when there is none.

    Returns:
        Whether the networks were compiled (False: no C++ compiler on a CPU, eager kept).
    """
    if device.type == "cpu" and cpp_compiler() is None:
        log(
            "warning: --compile needs a C++ compiler (g++ or clang++, or $CXX) for TorchInductor "
            "on a CPU and none was found: training eagerly (same results, not faster)"
        )
        return False
    dynamo_config = torch._dynamo.config
    dynamo_config.recompile_limit = max(dynamo_config.recompile_limit, RECOMPILE_LIMIT)
    # A graph that Inductor fails to build (a C++ compile error: seen with bf16 autocast on an
    # AVX-512 CPU) runs eagerly with torch's warning instead of stopping the run: same maths.
    dynamo_config.suppress_errors = True
    for network in model.children():
        network.compile()
    return True


def to_channels_last(model: nn.Module) -> nn.Module:
    """Store `model`'s 4-d parameters (convolution weights, G's constant) as NHWC, in place."""
    return model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]


def images_as(x: torch.Tensor, memory_format: torch.memory_format | None) -> torch.Tensor:
    """`x` in `memory_format` (None or a tensor that is not 4-d: `x` unchanged)."""
    if memory_format is None or x.ndim != 4:
        return x
    return x.contiguous(memory_format=memory_format)
