"""README screenshots of every app tab.

    python tools/screenshots.py                      # the bundled default -> docs/screenshots/*.png
    python tools/screenshots.py --model DIR          # any model folder or Hub repo id
    python tools/screenshots.py --random-model       # a random-weight stand-in (before the default exists)

Launches the app (`alae_hf.app.ui`) on 127.0.0.1 in this process, drives Debian's Chromium with
Playwright (never Playwright's own browser download; helpers in `testing.app`), generates
on every tab and saves one PNG per tab.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's `testing` helpers (not installed with the library)

from testing.app import CHROMIUM, browser, input_images, launch, make_random_model, wait_for_image  # noqa: E402

TABS = ("Sample", "Encode & reconstruct", "Style mixing", "Edit", "Model")


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
        from alae_hf.app.ui import DEFAULT_MODEL

        model = args.model or DEFAULT_MODEL
    demo, url = launch(model)
    try:
        for path in capture(url, args.out, input_images(work / "inputs")):
            print(path)
    finally:
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
