"""README screenshots of every app tab, and the random stand-in model used by the app's tests.

    python tools/screenshots.py                      # the bundled default -> docs/screenshots/*.png
    python tools/screenshots.py --model DIR          # any model folder or Hub repo id
    python tools/screenshots.py --random-model       # a random-weight stand-in (before the default exists)

Launches `app.py` on 127.0.0.1 in this process, drives Debian's Chromium with Playwright
(never Playwright's own browser download), generates on every tab and saves one PNG per tab.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TABS = ("Sample", "Encode & reconstruct", "Style mixing", "Edit", "Model")


def load_app() -> ModuleType:
    """The app's UI module (`alae_hf.app.ui`)."""
    from alae_hf.app import ui

    return ui


def make_random_model(folder: str | os.PathLike, resolution: int = 32, seed: int = 0, learned: bool = True,
                      **overrides: Any) -> Path:
    """A StyleALAE with random (but not trivial) weights saved to `folder`, with SeFa, GANSpace
    and (if `learned`) stand-in "voynov" directions in `folder/directions/` - what the app needs
    from a checkpoint, at test scale. Not a trained model: its images are coloured noise."""
    import torch

    from alae_hf import StyleALAE
    from alae_hf.editing.directions import Directions, ganspace, sefa

    config = dict(resolution=resolution, start_channels=16, max_channels=64, latent_size=32, mapping_layers=2)
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
        noise = torch.randn(model.arch.latent_size, 8, generator=torch.Generator().manual_seed(seed))
        basis = torch.linalg.qr(noise)[0]
        Directions(basis.T.contiguous(), None, torch.full((8,), 0.5), "voynov", list(range(model.num_styles)),
                   {"note": "random stand-in for tests"}).save(folder, "voynov")
    return folder


def test_images(folder: str | os.PathLike) -> dict[str, Path]:
    """Small input images of different kinds for uploads (RGB photo-like, RGBA, grayscale)."""
    import numpy as np
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    yy, xx = np.mgrid[0:96, 0:128]
    rgb = np.stack([xx * 2, yy * 2, (xx + yy) % 255], -1).astype(np.uint8)
    paths = {"rgb": folder / "gradient.png", "rgba": folder / "rgba.png", "gray": folder / "gray.jpg"}
    Image.fromarray(rgb).save(paths["rgb"])
    Image.fromarray(np.dstack([rgb, rng.randint(0, 255, (96, 128), dtype=np.uint8)])).save(paths["rgba"])
    Image.fromarray(rng.randint(0, 255, (80, 80), dtype=np.uint8), "L").save(paths["gray"])
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(model: str | os.PathLike, **kwargs: Any) -> tuple[Any, str]:
    """Build and launch the app on 127.0.0.1 and a free port; returns (demo, url)."""
    app = load_app()
    demo = app.build_app(str(model), **kwargs)
    options = app.launch_options()
    options.update(server_port=free_port(), prevent_thread_lock=True, quiet=True)
    _, url, _ = demo.launch(**options)
    return demo, url.rstrip("/")


def browser(playwright: Any, width: int = 1360, height: int = 900) -> Any:
    """A context of Debian's Chromium, headless, with a fresh profile (Playwright takes the
    profile folder as `user_data_dir`, not as a `--user-data-dir` argument)."""
    profile = tempfile.mkdtemp(prefix="alae_chromium_")
    viewport = {"width": width, "height": height}
    return playwright.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                         args=CHROMIUM_ARGS, viewport=viewport)


def image_src(page: Any, selector: str) -> str | None:
    """The src of the loaded image in `selector`, or None."""
    return page.evaluate(f"() => {{ const i = document.querySelector('{selector} img'); return i && i.complete "
                         "&& i.naturalWidth > 0 ? i.src : null; }")


def wait_for_image(page: Any, selector: str, previous: str | None = None, timeout: float = 30.0) -> str:
    """Wait until `selector img` is loaded with a src different from `previous`; return it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        src = image_src(page, selector)
        if src and src != previous:
            return src
        page.wait_for_timeout(100)
    raise TimeoutError(f"no new image in {selector} after {timeout:.0f} s")


def capture(url: str, out: Path, images: dict[str, Path]) -> list[Path]:
    """Drive every tab once and save a screenshot per tab."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with sync_playwright() as p:
        b = browser(p)
        page = b.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_selector("#sample-go", timeout=30_000)
        page.get_by_role("button", name="Generate").click()
        wait_for_image(page, "#sample-gallery")
        shots.append(_shot(page, out / "sample.png"))
        page.get_by_role("tab", name=TABS[1]).click()
        page.locator("#encode-files input[type=file]").set_input_files([str(images["rgb"]), str(images["gray"])])
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Encode & reconstruct").last.click()
        wait_for_image(page, "#encode-gallery")
        shots.append(_shot(page, out / "encode.png"))
        page.get_by_role("tab", name=TABS[2]).click()
        page.get_by_role("button", name="Mix", exact=True).click()
        wait_for_image(page, "#mix-grid")
        shots.append(_shot(page, out / "mix.png"))
        page.get_by_role("tab", name=TABS[3]).click()
        before = wait_for_image(page, "#edit-out")
        page.locator("#edit-seed input").fill("7")
        page.get_by_role("button", name="Use this seed").click()
        first = wait_for_image(page, "#edit-out", before)
        page.locator("#edit-slider-0 input[type=range]").fill("3")
        wait_for_image(page, "#edit-out", first)
        page.get_by_role("button", name="Make traversal").click()
        wait_for_image(page, "#edit-strip")
        wait_for_image(page, "#edit-gif")
        page.locator("#edit-export").click()
        page.wait_for_selector("#edit-files a", timeout=15_000)
        shots.append(_shot(page, out / "edit.png"))
        page.get_by_role("tab", name=TABS[4]).click()
        page.wait_for_timeout(500)
        shots.append(_shot(page, out / "model.png"))
        b.close()
    return shots


def _shot(page: Any, path: Path) -> Path:
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model folder or Hub repo id (default: the bundled one)")
    parser.add_argument("--random-model", action="store_true", help="use a random-weight 64 px stand-in")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="alae_shots_"))
    if args.random_model:
        model = make_random_model(work / "random-model", resolution=64, start_channels=32, max_channels=128,
                                  latent_size=64, mapping_layers=4)
    else:
        model = args.model or load_app().DEFAULT_MODEL
    demo, url = launch(model)
    try:
        for path in capture(url, args.out, test_images(work / "inputs")):
            print(path)
    finally:
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
