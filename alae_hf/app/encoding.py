"""How the editor app encodes uploads, the same way in every tab that takes them (Encode &
reconstruct, Style mixing, Edit): read each file (naming the ones it cannot read), encode it with E,
and, when the tab's "Refine steps" is above 0, refine the code by encoder-initialised inversion
(`alae_hf.editing.inversion.invert`: E(x), then Adam steps on pixel + feature loss), which keeps
the upload's identity where the encoder alone gives a generic face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from .. import editing
from ..imaging import psnr as psnr_of_mse
from .inputs import (
    MAX_REFINE_STEPS,
    InputError,
    check_choice,
    check_number,
    image_tensor,
    upload_path,
)
from .state import LoadedModel, Progress

SPACES = ["w+", "w"]


@dataclass
class Encoded:
    """Uploads as the model sees them and their codes.

    Args:
        x: model inputs [N, C, R, R] in [-1, 1].
        initial: the encoder's codes E(x), w [N, Z].
        w: the codes to use: `initial`, or refined (w+ [N, 2L, Z] for "w+", w [N, Z] for "w").
        names: each upload's file name.
        steps, space: the refinement (0 steps: none).
        skipped: one message per file that could not be read (only when asked to keep going).
    """

    x: torch.Tensor
    initial: torch.Tensor
    w: torch.Tensor
    names: list[str]
    steps: int
    space: str
    skipped: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """'the encoder alone' or 'E(x) refined 25 steps in w+'."""
        return self.describe_settings(self.steps, self.space)

    @staticmethod
    def describe_settings(steps: int, space: str) -> str:
        return f"E(x) refined {steps} steps in {space}" if steps else "the encoder alone"


def check_refinement(steps: object, space: object) -> tuple[int, str]:
    """A request's refinement settings, checked (InputError names the field)."""
    return (
        int(check_number("Refine steps", steps, 0, MAX_REFINE_STEPS, integer=True)),
        check_choice("Refine in", space, SPACES),
    )


def read_uploads(
    loaded: LoadedModel, files: Sequence[object], keep_going: bool = False
) -> tuple[torch.Tensor | None, list[str], list[str]]:
    """(model inputs [N, C, R, R] or None, names, skipped messages) of upload payloads. A file that
    cannot be read raises its InputError, or with `keep_going` is skipped and its message kept."""
    parts, names, skipped = [], [], []
    for payload in files:
        try:
            path, name = upload_path(payload)
            parts.append(image_tensor(path, name, loaded.model))
        except InputError as err:
            if not keep_going:
                raise
            skipped.append(str(err))
            continue
        names.append(name)
    return (torch.cat(parts) if parts else None), names, skipped


def refine(
    loaded: LoadedModel, x: torch.Tensor, steps: int, space: str, progress: Progress | None = None
) -> torch.Tensor:
    """Refined codes of `x` (w+ [N, 2L, Z] or w [N, Z]) with the app's reconstruction noise (seed 0)."""
    from ..editing.inversion import invert

    report = progress or (lambda fraction, message: None)
    model = loaded.model
    maps = model.noise_maps(0, x.shape[0], batch_constant=True)
    result = invert(
        model,
        x.to(model.device, model.dtype),
        steps=steps,
        space=space,
        noise=maps,
        progress=lambda k, n: report(k / n, f"refining: step {k}/{n}"),
    )
    return result.w


def encode_uploads(
    loaded: LoadedModel,
    files: Sequence[object],
    steps: object,
    space: object,
    progress: Progress | None = None,
    keep_going: bool = False,
) -> Encoded:
    """Read, encode and (steps > 0) refine uploads. With `keep_going`, unreadable files are
    skipped and named (InputError only when none can be read)."""
    steps, space = check_refinement(steps, space)
    x, names, skipped = read_uploads(loaded, files, keep_going)
    if x is None:
        raise InputError(" ".join(skipped) or "Upload one or more images first.")
    initial = editing.encode_images(loaded.model, x)
    w = refine(loaded, x, steps, space, progress) if steps else initial
    return Encoded(x, initial, w, names, steps, space, skipped)


def psnr(a: Image.Image, b: Image.Image) -> float:
    """PSNR in dB of one reconstruction (`alae_hf.imaging.psnr` on the [0, 1] scale, the evaluation's definition)."""
    mse = float(np.mean(((np.asarray(a, np.float64) - np.asarray(b, np.float64)) / 255.0) ** 2))
    return float(psnr_of_mse(mse))


def psnr_table(
    encoded: Encoded, before: list[float], after: list[float], resolution: int, took_ms: float
) -> str:
    """The Encode tab's table: PSNR of the encoder alone, and after refinement when there was one;
    the files that were skipped, each with its reason."""
    names = encoded.names
    if not encoded.steps:
        rows = "\n".join(
            f"| {i} | {name} | {p:.2f} |" for i, (name, p) in enumerate(zip(names, before))
        )
        head, mean = (
            "| # | image | PSNR (dB) |\n| --- | --- | --- |",
            f"Mean PSNR {np.mean(before):.2f} dB",
        )
    else:
        rows = "\n".join(
            f"| {i} | {name} | {a:.2f} | {b:.2f} |"
            for i, (name, a, b) in enumerate(zip(names, before, after))
        )
        head = (
            f"| # | image | PSNR E(x) (dB) | PSNR refined, {encoded.steps} steps in {encoded.space} (dB) |\n"
            "| --- | --- | --- | --- |"
        )
        mean = f"Mean PSNR {np.mean(before):.2f} → {np.mean(after):.2f} dB"
    text = f"{head}\n{rows}\n\n{mean} over {len(before)} image(s) at {resolution}² px, {took_ms:.0f} ms."
    if encoded.skipped:
        listed = "\n".join(f"- {message}" for message in encoded.skipped)
        text += f"\n\n**Skipped {len(encoded.skipped)} file(s):**\n{listed}"
    return text
