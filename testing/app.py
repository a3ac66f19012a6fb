"""Helpers to exercise the app without the bundled checkpoint: a random-weight stand-in model,
small input images, a locally launched server and Debian's Chromium.

Used by the test-suite, `tools/screenshots.py` and `bench/app_*.py` (from the checkout's root,
which pytest puts on `sys.path`); not installed with the library, which never imports it.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, never Playwright's own browser download (offline machines, reproducible CI).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def make_random_model(
    folder: str | os.PathLike,
    resolution: int = 32,
    seed: int = 0,
    learned: bool = True,
    **overrides: Any,
) -> Path:
    """A StyleALAE with random (but not trivial) weights saved to `folder`, with SeFa, GANSpace
    and (if `learned`) stand-in "voynov" directions in `folder/directions/` - what the app needs
    from a checkpoint, at test scale. Not a trained model: its images are coloured noise."""
    import torch

    from alae_hf.latent.directions import Directions
    from alae_hf.latent.spectral import ganspace, sefa
    from alae_hf.models.style import StyleALAE

    config = dict(
        resolution=resolution, start_channels=16, max_channels=64, latent_size=32, mapping_layers=2
    )
    config.update(overrides)
    torch.manual_seed(seed)
    model = StyleALAE(**config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "noise_weight" in name or name.endswith("bias"):
                p.normal_(0, 0.3)
        model.w_avg.copy_(model.map(model.seed_latents(2000, seed)).mean(0).expand_as(model.w_avg))
    folder = Path(folder)
    model.save_pretrained(folder)
    sefa(model, "all", n_sigma_samples=2000).save(folder, "sefa_all")
    sefa(model, "coarse", n_sigma_samples=2000).save(folder, "sefa_coarse")
    ganspace(model, n_samples=4000, n_components=16, n_sigma_samples=2000).save(folder, "ganspace")
    if learned:
        noise = torch.randn(
            model.arch.latent_size, 8, generator=torch.Generator().manual_seed(seed)
        )
        basis = torch.linalg.qr(noise)[0]
        Directions(
            basis.T.contiguous(),
            None,
            torch.full((8,), 0.5),
            "voynov",
            list(range(model.num_styles)),
            {"note": "random stand-in for tests"},
        ).save(folder, "voynov")
    return folder


def input_images(folder: str | os.PathLike) -> dict[str, Path]:
    """Small input images of different kinds for uploads (RGB photo-like, RGBA, grayscale)."""
    import numpy as np
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    yy, xx = np.mgrid[0:96, 0:128]
    rgb = np.stack([xx * 2, yy * 2, (xx + yy) % 255], -1).astype(np.uint8)
    paths = {
        "rgb": folder / "gradient.png",
        "rgba": folder / "rgba.png",
        "gray": folder / "gray.jpg",
    }
    Image.fromarray(rgb).save(paths["rgb"])
    Image.fromarray(np.dstack([rgb, rng.randint(0, 255, (96, 128), dtype=np.uint8)])).save(
        paths["rgba"]
    )
    Image.fromarray(rng.randint(0, 255, (80, 80), dtype=np.uint8), "L").save(paths["gray"])
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(model: str | os.PathLike, **kwargs: Any) -> tuple[Any, str]:
    """Build and launch the app on 127.0.0.1 and a free port; returns (demo, url).
    `kwargs` go to `alae_hf.app.ui.build_app`."""
    from alae_hf.app.server import launch_options
    from alae_hf.app.ui import build_app

    demo = build_app(str(model), **kwargs)
    options = launch_options()
    options.update(server_port=free_port(), prevent_thread_lock=True, quiet=True)
    _, url, _ = demo.launch(**options)
    return demo, url.rstrip("/")


def browser(playwright: Any, width: int = 1360, height: int = 900) -> Any:
    """A context of Debian's Chromium, headless, with a fresh profile (Playwright takes the
    profile folder as `user_data_dir`, not as a `--user-data-dir` argument)."""
    profile = tempfile.mkdtemp(prefix="alae_chromium_")
    viewport = {"width": width, "height": height}
    return playwright.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport=viewport
    )


@contextmanager
def app_page(model: str | os.PathLike, ready: str, **launch_kwargs: Any) -> Iterator[Any]:
    """The app launched on `model` and opened in Debian's Chromium; yields the page once the
    element `ready` is there, and closes browser and server afterwards."""
    from playwright import sync_api

    demo, url = launch(model, **launch_kwargs)
    try:
        with sync_api.sync_playwright() as playwright:
            context = browser(playwright)
            page = context.new_page()
            page.goto(url, wait_until="load")
            page.wait_for_selector(ready, timeout=30_000)
            yield page
            context.close()
    finally:
        demo.close()


def image_src(page: Any, selector: str) -> str | None:
    """The src of the loaded image in `selector`, or None."""
    return page.evaluate(
        f"() => {{ const i = document.querySelector('{selector} img'); return i && i.complete "
        "&& i.naturalWidth > 0 ? i.src : null; }"
    )


def wait_for_image(
    page: Any, selector: str, previous: str | None = None, timeout: float = 30.0
) -> str:
    """Wait until `selector img` is loaded with a src different from `previous`; return it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        src = image_src(page, selector)
        if src and src != previous:
            return src
        page.wait_for_timeout(100)
    raise TimeoutError(f"no new image in {selector} after {timeout:.0f} s")
