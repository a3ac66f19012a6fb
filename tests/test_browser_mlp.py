"""The MLP ALAE app (`alae_hf.app.mlp_ui`) on the bundled `checkpoints/alae-digits-mlp` in a real
browser (Debian's Chromium through Playwright): every tab generates images that load, an edit
slider changes the edit, and the StyleALAE-only tabs are absent with the reason on the page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
MODEL = ROOT / "checkpoints" / "alae-digits-mlp"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium); browser tests need Debian's Chromium",
                allow_module_level=True)
if not (MODEL / "config.json").is_file():
    pytest.skip(f"the bundled MLP checkpoint {MODEL} is missing", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

from testing.app import app_page, image_src, input_images, wait_for_image  # noqa: E402

LOADED_JS = """([sel, n]) => { const imgs = [...document.querySelectorAll(sel + ' .gallery-item img')];
  return imgs.length == n && imgs.every(i => i.complete && i.naturalWidth > 0); }"""
BROKEN_IMAGES_JS = """() => [...document.querySelectorAll('img')].filter(i => i.getBoundingClientRect().width > 0
  && !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))"""


@pytest.fixture(scope="module")
def page():
    with app_page(MODEL, "#mlp-sample-go") as page:
        yield page


def test_mlp_sample_tab_opens_with_samples(page):
    """A fresh page shows 16 digits before Generate is clicked."""
    page.reload(wait_until="load")
    page.wait_for_function(LOADED_JS, arg=["#mlp-sample-gallery", 16], timeout=60_000)


def test_mlp_app_tabs_generate(page, tmp_path):
    tabs = [t.strip() for t in page.get_by_role("tab").all_inner_texts()]
    assert tabs == ["Sample", "Edit", "Encode & reconstruct", "Interpolate", "Model"]
    assert "style mixing and layer-range edits do not apply" in page.locator("body").inner_text()

    # Sample: 16 digits that load.
    page.locator("#mlp-sample-go").click()
    page.wait_for_function(LOADED_JS, arg=["#mlp-sample-gallery", 16], timeout=60_000)
    page.screenshot(path=str(tmp_path / "sample.png"), full_page=True)

    # Edit: a sample and its edit; moving the first GANSpace slider changes the image, SeFa too.
    page.get_by_role("tab", name="Edit").click()
    page.locator("#mlp-edit-go").click()
    first = wait_for_image(page, "#mlp-edit-out")
    slider = page.locator("#mlp-edit-slider-0 input[type=range]")
    slider.fill(str(slider.get_attribute("max")))
    slider.dispatch_event("pointerup")      # the handler runs on release, as after a drag
    moved = wait_for_image(page, "#mlp-edit-out", first)
    # A value typed past the slider's range widens it and is used (the browser used to clamp it silently).
    limit = float(slider.get_attribute("max"))
    box = page.locator("#mlp-edit-slider-0 input[type=number]")
    box.fill(f"{limit + 0.5:g}")
    box.press("Tab")
    page.wait_for_function(f"() => document.querySelector('#mlp-edit-slider-0 input[type=range]').max >= {limit + 0.5}",
                           timeout=15_000)
    moved = wait_for_image(page, "#mlp-edit-out", moved)
    assert float(box.input_value()) == float(f"{limit + 0.5:g}")
    page.get_by_role("radio", name="SeFa").check()
    page.wait_for_function("() => document.querySelector('#mlp-edit-slider-0').innerText.includes('SeFa 1')",
                           timeout=30_000)
    wait_for_image(page, "#mlp-edit-out", moved)
    assert page.locator("#mlp-edit-slider-0 input[type=range]").input_value() == "0"
    page.screenshot(path=str(tmp_path / "edit.png"), full_page=True)

    # Encode & reconstruct: two uploads give two input | reconstruction pairs.
    images = input_images(tmp_path / "inputs")
    page.get_by_role("tab", name="Encode & reconstruct").click()
    page.locator("#mlp-encode-files input[type=file]").set_input_files([str(images["rgb"]), str(images["gray"])])
    page.wait_for_timeout(300)
    page.locator("#mlp-encode-go").click()
    page.wait_for_function(LOADED_JS, arg=["#mlp-encode-gallery", 4], timeout=60_000)

    # Interpolate: one strip.
    page.get_by_role("tab", name="Interpolate").click()
    page.locator("#mlp-interpolate-go").click()
    wait_for_image(page, "#mlp-interpolate-out")

    # Model: the config table and the card of the bundled model.
    page.get_by_role("tab", name="Model").click()
    page.get_by_text("MLPALAE, one w per image").first.wait_for(timeout=15_000)
    page.wait_for_timeout(500)
    assert image_src(page, "#mlp-interpolate-out") is not None
    assert page.evaluate(BROKEN_IMAGES_JS) == []


def test_the_mlp_app_has_a_model_loader(page):
    """The digits app's Model tab lists the bundled models; a StyleALAE is refused in one line
    naming the command that opens it, and the digits model stays."""
    page.reload(wait_until="load")
    page.get_by_role("tab", name="Model").click()
    page.locator("#model-source input").click()
    page.get_by_role("option", name="alae-synthetic-faces-64 (StyleALAE, opens in its own app)").click()
    page.locator("#model-load").click()
    page.get_by_text("python app.py --model alae-synthetic-faces-64").first.wait_for(timeout=60_000)
    assert "alae-digits-mlp" in page.locator("#model-status").inner_text()
