"""Style indices of w+: which styles a layer spec ("coarse", "0-3", ...) selects.

A StyleALAE has two styles per resolution block (official `net.py`: each block's two AdaIN
layers); its named groups follow StyleGAN's coarse (4-8 px), middle (16-32 px) and fine
(>= 64 px) split (Karras et al. 2019 §3.1). The groups are the model's to say
(`ALAEModel.style_groups`): the MLP ALAE has one w and none, so its only spec is "all".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..models.config import STYLE_GROUP_RESOLUTIONS, named_style_groups

LayerSpec = str | int | range | Sequence[int]
# What a layer spec is resolved against: a model, its architecture config, or a bare count of styles.
StyleSource = Any


# ---- style indices -------------------------------------------------------------------------
def _styles(source: StyleSource) -> tuple[int, dict[str, list[int]]]:
    """(number of styles, named groups) of a model, its config, or a count of styles. A bare count
    cannot say which model it is: an even count is read as StyleALAE's w+ (two styles per block);
    a single style has no named groups."""
    arch: Any = source if isinstance(source, int) else getattr(source, "arch", source)
    n = arch if isinstance(arch, int) else getattr(arch, "num_styles", None)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1 or (n > 1 and n % 2):
        raise TypeError(
            f"expected a StyleALAE, an MLPALAE, their config, or 1 or an even number of styles, "
            f"got {source!r}"
        )
    if not isinstance(arch, int):
        return n, arch.style_groups
    return n, (named_style_groups(n) if n % 2 == 0 else {})


def _named(n: int, groups: dict[str, list[int]], name: str) -> list[int]:
    return list(range(n)) if name == "all" else groups.get(name, [])


def describe_styles(source: StyleSource) -> str:
    """One line naming a model's style indices, e.g. '16 px, 6 styles 0-5: coarse 0-3, middle 4-5, fine none'."""
    n, groups = _styles(source)
    if not groups:  # the MLP ALAE's one w
        return "one w for the whole generator (style 0): the only layer spec is 'all' (or 0)"
    parts = [f"{name} {i[0]}-{i[-1]}" if i else f"{name} none" for name, i in groups.items()]
    return f"{2 ** (n // 2 + 1)} px, {n} styles 0-{n - 1}: " + ", ".join(parts)


def parse_ranges(spec: str) -> list[tuple[int, int]]:
    """'1, 2, 5-8' -> [(1, 1), (2, 2), (5, 8)]: the one parser of inclusive integer ranges
    (layer specs here, seed lists in the app). Raises ValueError naming the part it could not read."""
    ranges = []
    for part in str(spec).split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        first = int(match.group(1)) if match else 0
        last = int(match.group(2) or first) if match else 0
        if not match:
            raise ValueError(f"could not read {part.strip()!r}")
        if last < first:
            raise ValueError(f"bad range {part.strip()!r}")
        ranges.append((first, last))
    return ranges


def _parse_indices(spec: str, limit: int = 4096) -> list[int]:
    try:
        ranges = parse_ranges(spec)
    except ValueError as err:
        raise ValueError(
            f"could not parse layer spec {spec!r} ({err}): use one of {['all', *STYLE_GROUP_RESOLUTIONS]} or "
            "inclusive ranges and commas such as '0-3' or '4,5,8-11'"
        ) from None
    if any(
        last > limit for _, last in ranges
    ):  # refuse before expanding: '0-999999999' is no style index
        raise ValueError(f"layer spec {spec!r} names styles beyond {limit}")
    return [i for first, last in ranges for i in range(first, last + 1)]


def _ranges_text(indices: Sequence[int]) -> str:
    """[0, 1, 2, 5, 99, ..., 200] -> '0-2, 5, 99-200': a range of a hundred indices stays one line."""
    parts: list[list[int]] = []
    for i in sorted(set(indices)):
        if parts and i == parts[-1][1] + 1:
            parts[-1][1] = i
        else:
            parts.append([i, i])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in parts)


def layer_range(model: StyleSource, spec: LayerSpec) -> list[int]:
    """Resolve a layer spec to sorted, distinct style indices of w+.

    Args:
        model: a model (`alae_hf.models.base.ALAEModel`), its config, or the number of styles.
        spec: "all", a named group of the model ("coarse" for 4-8 px styles, "middle" for 16-32
            px, "fine" for >= 64 px in a StyleALAE), a string
            of inclusive ranges ("0-3", "4,5,8-11"), an int, a `range`, or a sequence of ints.

    Raises:
        ValueError: an unparsable spec, an empty selection (e.g. "fine" below 64 px), or an
            index outside the model's styles; the message lists the valid indices.
    """
    (n, groups), key = _styles(model), spec.strip().lower() if isinstance(spec, str) else None
    if key == "all" or key in STYLE_GROUP_RESOLUTIONS or key in groups:
        if not _named(n, groups, key):
            raise ValueError(f"{key!r} selects no styles in this model ({describe_styles(model)})")
        return _named(n, groups, key)
    indices: list[Any]  # checked below: a sequence spec may hold anything
    if key is not None:
        indices = _parse_indices(key)
    else:
        indices = (
            [spec]
            if isinstance(spec, (int, np.integer))
            else list(spec)
            if isinstance(spec, (range, Sequence, np.ndarray))
            else [None]
        )
    if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in indices):
        raise TypeError(
            f"a layer spec is a name, a range string, an int, a range or ints; got {spec!r}"
        )
    bad = [int(i) for i in indices if not 0 <= i < n]
    if bad or not indices:
        problem = f"styles {_ranges_text(bad)} out of range" if bad else "an empty selection"
        raise ValueError(
            f"layer spec {spec!r} gives {problem}; valid style indices are 0-{n - 1} "
            f"({describe_styles(model)})"
        )
    return sorted({int(i) for i in indices})


def describe_layers(layers: Sequence[int]) -> str:
    """[0, 1, 2, 3, 8] -> '0-3,8' (the layer-spec syntax `layer_range` reads)."""
    runs: list[list[int]] = []
    for k in layers:
        if runs and k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
