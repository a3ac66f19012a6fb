"""Figures the app hands out with their labels drawn in: every cell of a mixing grid says which
seed (or upload) it came from, every frame of a traversal strip its α, so a downloaded PNG still
says what it shows.

Model outputs are small (32-256 px), so cells are scaled up (nearest neighbour, pixels stay
exact) to at least `MIN_CELL` px before a caption band is added under each.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

MIN_CELL = 96
PADDING = 2
FONT_SIZE = 13
BAND = 18  # caption band height in px


def caption_grid(
    images: Sequence[Image.Image], columns: int, captions: Sequence[str], min_cell: int = MIN_CELL
) -> Image.Image:
    """Tile equally sized images row by row, each scaled up to >= `min_cell` px with its caption
    (may be empty) centred in a band below it. Returns one RGB image."""
    if not images or len(captions) != len(images):
        raise ValueError(f"need one caption per image, got {len(captions)} for {len(images)}")
    width, height = images[0].size
    scale = max(1, math.ceil(min_cell / width))
    cell_w, cell_h = width * scale, height * scale + BAND
    rows = math.ceil(len(images) / columns)
    grid = Image.new(
        "RGB",
        (columns * (cell_w + PADDING) + PADDING, rows * (cell_h + PADDING) + PADDING),
        "white",
    )
    draw = ImageDraw.Draw(grid)
    font, unicode = caption_font()
    for index, (image, caption) in enumerate(zip(images, captions)):
        row, col = divmod(index, columns)
        x, y = PADDING + col * (cell_w + PADDING), PADDING + row * (cell_h + PADDING)
        grid.paste(
            image.convert("RGB").resize((cell_w, height * scale), Image.Resampling.NEAREST), (x, y)
        )
        text = _fit(draw, str(caption) if unicode else _ascii(str(caption)), font, cell_w - 4)
        box = draw.textbbox((0, 0), text, font=font)
        draw.text(
            (x + (cell_w - (box[2] - box[0])) // 2, y + height * scale + 2),
            text,
            fill=(20, 20, 20),
            font=font,
        )
    return grid


@functools.lru_cache(maxsize=1)
def caption_font() -> tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, bool]:
    """(font, whether it draws α, σ and −): DejaVu Sans where installed (Debian, most Spaces),
    else Pillow's built-in font, whose captions are then written in ASCII."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", FONT_SIZE), True
    except OSError:
        pass
    for folder in (
        "/usr/share/fonts/truetype/dejavu",
        "/usr/share/fonts/dejavu",
        "/usr/share/fonts/TTF",
    ):
        try:
            return ImageFont.truetype(f"{folder}/DejaVuSans.ttf", FONT_SIZE), True
        except OSError:
            continue
    return ImageFont.load_default(size=FONT_SIZE), False


def _ascii(text: str) -> str:
    return text.replace("−", "-").replace("σ", " sd").replace("α", "a").replace("…", "...")


def _fit(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    width: int,
) -> str:
    """`text`, shortened with an ellipsis until it fits `width` px."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def grid_cells(
    grid: Image.Image, rows: int, columns: int, padding: int = PADDING
) -> list[Image.Image]:
    """The cells of a `alae_hf.imaging.make_grid` grid (row by row)."""
    cell = (grid.width - padding) // columns - padding
    return [
        grid.crop(
            (
                padding + c * (cell + padding),
                padding + r * (cell + padding),
                padding + c * (cell + padding) + cell,
                padding + r * (cell + padding) + cell,
            )
        )
        for r in range(rows)
        for c in range(columns)
    ]


def alpha_caption(alpha: float) -> str:
    """-1.5 -> 'α −1.5σ', 0 -> 'α 0'."""
    return f"α {alpha:+.2g}σ".replace("-", "−") if alpha else "α 0"
