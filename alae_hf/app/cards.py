"""The Model tab's text: a model's description (never its server folder) and its card as the tab
shows it (front matter dropped, images inlined, headings without code spans)."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from PIL import Image

from ..latent.styles import describe_styles
from .state import LoadedModel

CARD_IMAGE_BYTES = 2_000_000  # card images larger than this are left out rather than inlined


def model_markdown(loaded: LoadedModel) -> str:
    """The Model tab's description: name, styles, parameter counts, shipped directions, config
    (never the server folder it was read from)."""
    model = loaded.model
    counts = {
        name: sum(p.numel() for p in getattr(model, name).parameters())
        for name in ("mapping", "generator", "encoder", "discriminator")
    }
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in model.arch.to_dict().items())
    nets = ", ".join(f"{name} {n / 1e6:.2f} M" for name, n in counts.items())
    shipped = (
        ", ".join(
            f"`{n}` ({d.method}, {d.num_directions} × styles {d.layers[0]}–{d.layers[-1]})"
            for n, d in sorted(loaded.shipped.items())
        )
        or "none (computed on demand)"
    )
    return (
        f"**{loaded.name}**  \n{describe_styles(model)}  \n"
        f"**Parameters:** {sum(counts.values()) / 1e6:.2f} M ({nets})  \n**Directions:** {shipped}\n\n"
        f"| config | value |\n| --- | --- |\n{rows}"
    )


def card_body(card: str, folder: Path | None = None) -> str:
    """The model card as the Model tab shows it: no YAML front matter; images the card links
    relative to its folder inlined (WebP data URIs: no server path, no 404), missing or remote
    ones replaced by their alt text; no code spans in headings (they render as blocks)."""
    if card.startswith("---"):
        end = card.find("\n---", 3)
        card = card[end + 4 :] if end != -1 else card
    card = re.sub(
        r"!\[([^\]]*)\]\(([^)\s]+)\)", lambda m: _card_image(m.group(1), m.group(2), folder), card
    )
    card = re.sub(r"(?m)^(#{1,6} .*)$", lambda m: m.group(1).replace("`", ""), card)
    return card.strip() or "*This model folder has no README.md (model card).*"


def _card_image(alt: str, target: str, folder: Path | None) -> str:
    path = None if folder is None or "://" in target else (folder / target).resolve()
    inside = path is not None and folder is not None and path.is_relative_to(folder.resolve())
    if path is None or not inside or not path.is_file() or path.stat().st_size > CARD_IMAGE_BYTES:
        return f"*[{alt or 'image'}: not included]*"
    try:
        with Image.open(path) as image:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="WEBP", quality=85)
    except Exception:  # noqa: BLE001 - an unreadable image is left out, the card still shows
        return f"*[{alt or 'image'}: not readable]*"
    return f"![{alt}](data:image/webp;base64,{base64.b64encode(buffer.getvalue()).decode()})"
