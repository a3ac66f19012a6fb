"""The sample counts of one evaluation, torch-free so that the command line (`alae-eval`) is built
and parsed before torch is imported."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvalSizes:
    """Sample counts of one evaluation (`alae_hf.evaluation.evaluate`'s docstring gives the
    defaults' cost)."""

    num_samples: int = 2_000
    num_real: int = 1_000
    num_reciprocity: int = 500
    num_ppl: int = 500
    num_response: int = 32
    num_directions: int = 8
    ganspace_samples: int = 20_000
    batch_size: int = 32
    seed: int = 0
