"""Image I/O shared by the library, the trainer and the app: robust loading, tensor <-> PIL, grids.

Real-world images come in every mode (RGBA, palette, grayscale, 16-bit, CMYK), carry EXIF
rotations, are sometimes truncated or enormous. Everything entering a model goes through
`load_image` / `to_model_tensor`, which either returns a clean RGB/L image or raises
`ImageError` with a message a user can act on.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

# Refuse images whose decoded size would be absurd (Pillow's own guard is a warning up to 2x
# its limit). 100 megapixels decodes to ~300 MB of RGB, the most an app request should cost.
MAX_PIXELS = 100_000_000
# Every image file the project reads (training folders, evaluation folders): one list.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")


class ImageError(ValueError):
    """An input image that cannot be used, with a reason fit for a user."""


def load_image(
    source: str | os.PathLike | bytes | Image.Image,
    background: tuple[int, int, int] = (255, 255, 255),
    mode: str = "RGB",
) -> Image.Image:
    """Open any image and return it in `mode` ("RGB" or "L") with EXIF orientation applied.

    Transparent images are composited on `background`; 16-bit and float images are rescaled
    to 8 bits from their value range; palette and CMYK images are converted.

    Raises:
        ImageError: unreadable, truncated, empty or too large images.
    """
    if mode not in ("RGB", "L"):
        raise ValueError(f"mode must be 'RGB' or 'L', got {mode!r}")
    image = _open(source)
    if image.width < 1 or image.height < 1:
        raise ImageError("the image is empty (0 pixels)")
    if image.width * image.height > MAX_PIXELS:
        raise ImageError(
            f"the image is too large ({image.width}x{image.height}); the limit is {MAX_PIXELS:,} pixels"
        )
    try:
        image = ImageOps.exif_transpose(image)
        image = _to_8bit(image)
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            rgba = image.convert("RGBA")
            canvas = Image.new("RGBA", rgba.size, background + (255,))
            image = Image.alpha_composite(canvas, rgba)
        return image.convert(mode)
    except (OSError, ValueError, SyntaxError) as err:  # truncated data surfaces only on decode
        raise ImageError(f"the image could not be decoded ({err})") from err


def _open(source: str | os.PathLike | bytes | Image.Image) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    try:
        if isinstance(source, (bytes, bytearray)):
            image = Image.open(io.BytesIO(source))
        else:
            image = Image.open(source)
        image.load()
        return image
    except FileNotFoundError as err:
        raise ImageError(f"no such file: {source!s}") from err
    except Image.DecompressionBombError as err:
        raise ImageError(f"the image is too large to open safely ({err})") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"not a readable image ({type(err).__name__}: {err})") from err


def _to_8bit(image: Image.Image) -> Image.Image:
    """Rescale 16-bit / 32-bit integer and float images to 8 bits from their actual range."""
    if image.mode not in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return image
    array = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16") or (image.mode == "I" and array.max(initial=0) > 255):
        scale = 65535.0 if array.max(initial=0) > 255 else 255.0
        array = array / scale * 255.0
    elif image.mode == "F":
        low, high = float(array.min(initial=0)), float(array.max(initial=1))
        array = (array - low) / max(high - low, 1e-12) * 255.0
    return Image.fromarray(np.clip(np.rint(array), 0, 255).astype(np.uint8), mode="L")


def fit_square(image: Image.Image, resolution: int, center_crop: bool = True) -> Image.Image:
    """Centre-crop to a square (or pad, if `center_crop` is False) and resize with a box/Lanczos filter."""
    if center_crop:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    else:
        image = ImageOps.pad(image, (max(image.size),) * 2, color=0)
    if image.size != (resolution, resolution):
        # Box filtering for large downscales is what the official data preparation does (2x2 means).
        resample = (
            Image.Resampling.BOX if image.width >= 2 * resolution else Image.Resampling.LANCZOS
        )
        image = image.resize((resolution, resolution), resample=resample)
    return image


# ---- the one pixel-range convention: uint8 [0, 255] <-> model range [-1, 1] ------------------
def uint8_to_model(
    pixels: torch.Tensor | np.ndarray,
    dtype: torch.dtype = torch.float32,
    channels_last: bool = False,
) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] (official `x / 127.5 - 1`, `dataloader.py`).

    `channels_last=True` reads [N, H, W, C] (numpy/PIL layout) and returns [N, C, H, W]."""
    # `np.asarray(pil_image)` is read-only, which torch.from_numpy warns about; the copy costs one
    # uint8 image and the float result below is a new tensor anyway.
    x = (
        torch.from_numpy(np.require(pixels, requirements=["C", "W"]))
        if isinstance(pixels, np.ndarray)
        else pixels
    )
    if channels_last:
        x = x.permute(0, 3, 1, 2)
    return x.to(dtype) / 127.5 - 1.0


def model_to_uint8(images: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255], clamped and rounded as saved images are (on the CPU).

    `channels_last=True` turns [N, C, H, W] into [N, H, W, C]."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous() if channels_last else x


def psnr(mse: float | np.ndarray) -> np.ndarray:
    """PSNR in dB of mean squared errors measured on the [0, 1] pixel scale (peak 1): 10·log10(1/MSE),
    the one definition of evaluation, inversion and the app. The MSE is floored at 1e-12, so
    identical images give 120 dB rather than infinity."""
    return -10 * np.log10(np.maximum(mse, 1e-12))


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """uint8 PIL image -> float tensor [C, H, W] in [-1, 1]."""
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return uint8_to_model(array[None], channels_last=True)[0].contiguous()


def to_model_tensor(
    source: str | os.PathLike | bytes | Image.Image,
    resolution: int,
    channels: int = 3,
    center_crop: bool = True,
) -> torch.Tensor:
    """Load any image as a model input [1, C, R, R] in [-1, 1]."""
    image = load_image(source, mode="RGB" if channels == 3 else "L")
    return pil_to_tensor(fit_square(image, resolution, center_crop))[None]


def tensor_to_pil(images: torch.Tensor) -> list[Image.Image]:
    """Model output [N, C, H, W] in [-1, 1] -> list of 8-bit PIL images (clamped)."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images of shape [N, 1|3, H, W], got {tuple(images.shape)}")
    array = model_to_uint8(images, channels_last=True).numpy()
    return [
        Image.fromarray(a[:, :, 0], "L") if a.shape[2] == 1 else Image.fromarray(a, "RGB")
        for a in array
    ]


def make_grid(
    images: Sequence[Image.Image],
    columns: int,
    padding: int = 2,
    background: tuple[int, int, int] = (255, 255, 255),
) -> Image.Image:
    """Tile equally sized images row by row into one RGB image."""
    if not images:
        raise ValueError("make_grid needs at least one image")
    width, height = images[0].size
    rows = -(-len(images) // columns)
    grid = Image.new(
        "RGB",
        (columns * (width + padding) + padding, rows * (height + padding) + padding),
        background,
    )
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        grid.paste(
            image.convert("RGB"),
            (padding + col * (width + padding), padding + row * (height + padding)),
        )
    return grid
