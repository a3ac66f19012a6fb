"""What every tab's actions share: the session's model, its edit base, PNG outputs.

`ActionBase` holds one `Studio` (the app-level caches); `SampleMixActions`, `EncodeEditActions`
and `Actions` (`alae_hf.app.sample_actions`, `.edit_actions`, `.actions`) add each tab's events.
An edit base is a w+ code with its noise seed and a label saying what it is (`set_base`); a
session without one edits the sample of seed 0 at the config's truncation, as the Edit tab
starts.
"""

from __future__ import annotations

from typing import Any

import torch
from PIL import Image

from .. import editing
from .inputs import MAX_K, InputError, check_number
from .state import LoadedModel, Studio, new_session


def truncation_text(loaded: LoadedModel, psi: float, cutoff: int) -> str:
    """'ψ 0.7 on styles 0–7' (the styles the model has), or 'no truncation'."""
    cutoff = min(cutoff, loaded.model.num_styles)
    return f"ψ {psi:g} on styles 0–{cutoff - 1}" if cutoff and psi != 1 else "no truncation"


def stored_result(
    session: dict | None, key: str, model_key: Any, index: Any, missing: str
) -> tuple[dict, int]:
    """A tab's stored result for the loaded model, and a checked image index into it."""
    stored = (session or {}).get(key)
    if not stored or stored.get("model") != model_key:
        raise InputError(missing)
    return stored, check_number("Image #", index, 0, stored["w"].shape[0] - 1, integer=True)


class ActionBase:
    """The pieces every tab's actions use, over one `Studio` (the app-level caches)."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def model(self, session: dict | None) -> LoadedModel:
        return self.studio.get((session or {}).get("model"))

    def png(self, image: Image.Image, name: str) -> str:
        """An image output as a PNG file path (see `OutputFiles`)."""
        return self.studio.files.png(image, name)

    def base(self, session: dict | None, loaded: LoadedModel) -> dict[str, Any]:
        """The session's edit base on `loaded` (seed 0 at the config's truncation if it has none)."""
        base = (session or {}).get("base")
        if base is None or base.get("model") != loaded.key:
            arch = loaded.model.arch
            w = editing.seed_to_w_plus(
                loaded.model, 1, 0, arch.truncation_psi, arch.truncation_cutoff
            )
            label = f"the sample of seed 0 ({truncation_text(loaded, arch.truncation_psi, arch.truncation_cutoff)})"
            base = {
                "model": loaded.key,
                "w": w,
                "noise": 0,
                "label": label,
                "seed": 0,
                "psi": arch.truncation_psi,
            }
        return base

    def _render(self, loaded: LoadedModel, w: torch.Tensor, noise: int | None, name: str) -> str:
        return self.png(editing.render(loaded.model, w, noise)[0], name)

    def set_base(
        self,
        session: dict | None,
        loaded: LoadedModel,
        w: torch.Tensor,
        noise: int | None,
        label: str,
        seed: int | None = None,
        psi: float | None = None,
    ) -> tuple:
        """New edit base: (session, base image, edited image, *sliders reset to 0). `seed` and `psi`
        say which seed it is the sample of (None for an encoded upload): `base_fields` shows them."""
        session = dict(session or new_session(loaded.key))
        session["base"] = {
            "model": loaded.key,
            "w": loaded.model.to_w_plus(w).clone(),
            "noise": noise,
            "label": label,
            "seed": seed,
            "psi": psi,
        }
        image = self._render(loaded, session["base"]["w"], noise, "base")
        return (session, image, image, *[0.0] * MAX_K)

    def base_fields(self, session: dict | None) -> tuple[int | None, float, str]:
        """What the Edit tab's base fields show for the session's base: (seed, or None when the base
        is not a seed's sample; ψ; a line saying what the base is)."""
        loaded = self.model(session)
        base = self.base(session, loaded)
        psi = base.get("psi", loaded.model.arch.truncation_psi)
        return (
            base.get("seed", 0),
            loaded.model.arch.truncation_psi if psi is None else psi,
            f"Base: {base['label']}",
        )
