"""The app in a real browser (Debian's Chromium through Playwright): every tab renders, buttons
generate, a slider move and an upload change the images. Screenshots go to pytest's tmp folder
(`tools/screenshots.py` writes the README ones). Helpers: `testing.app`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium); browser tests need Debian's Chromium",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

from testing.app import app_page, image_src, input_images, make_random_model, wait_for_image  # noqa: E402


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with app_page(make_random_model(tmp_path_factory.mktemp("model") / "m32"), "#sample-go") as page:
        yield page


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return input_images(tmp_path_factory.mktemp("inputs"))


def test_every_tab_generates_and_reacts(page, images, tmp_path_factory):
    shots = tmp_path_factory.mktemp("browser") / "screenshots"
    shots.mkdir()
    wait = wait_for_image

    # Sample: generate, then the dice gives a new seed and new images.
    page.get_by_role("button", name="Generate").click()
    first = wait(page, "#sample-gallery")
    page.screenshot(path=str(shots / "sample.png"), full_page=True)
    seed_before = page.locator("#sample-seed input").input_value()
    page.locator("#sample-dice").click()
    wait(page, "#sample-gallery", first)
    assert page.locator("#sample-seed input").input_value() != seed_before

    # Send the first sample to Edit: the Edit tab opens with it as the base.
    page.locator("#sample-gallery img").first.click()
    initial = image_src(page, "#edit-out")
    page.locator("#sample-send").click()
    edited = wait(page, "#edit-out", initial)
    assert page.get_by_role("tab", name="Edit").get_attribute("aria-selected") == "true"
    before_edit = page.screenshot()

    # Edit: a slider move changes the edited image; reset brings the base back.
    page.locator("#edit-slider-0 input[type=range]").fill("4")
    moved = wait(page, "#edit-out", edited)
    assert page.screenshot() != before_edit
    page.locator("#edit-export").click()
    page.wait_for_selector("#edit-files a", timeout=15_000)       # the downloads appear on the first export
    assert page.locator("#edit-files a").count() == 4
    page.locator("#edit-traverse").click()
    wait(page, "#edit-strip")
    wait(page, "#edit-gif")
    page.screenshot(path=str(shots / "edit.png"), full_page=True)
    page.locator("#edit-reset").click()
    wait(page, "#edit-out", moved)
    assert page.locator("#edit-slider-0 input[type=range]").input_value() == "0"

    # Edit: uploading a photo encodes it and replaces the base.
    base = wait(page, "#edit-base")
    page.locator("#edit-upload input[type=file]").set_input_files(str(images["rgba"]))
    wait(page, "#edit-base", base)

    # Encode & reconstruct: two uploads give two original|reconstruction pairs with PSNR.
    page.get_by_role("tab", name="Encode & reconstruct").click()
    page.locator("#encode-files input[type=file]").set_input_files([str(images["rgb"]), str(images["gray"])])
    page.wait_for_timeout(300)
    page.locator("#encode-go").click()
    wait(page, "#encode-gallery")
    assert page.locator("#encode-gallery img").count() == 2
    assert "Mean PSNR" in page.locator("#encode-table").inner_text()
    page.screenshot(path=str(shots / "encode.png"), full_page=True)

    # Style mixing: the grid appears.
    page.get_by_role("tab", name="Style mixing").click()
    page.locator("#mix-go").click()
    wait(page, "#mix-grid")
    page.screenshot(path=str(shots / "mix.png"), full_page=True)

    # Model: a bad path shows an error and the current model stays.
    page.get_by_role("tab", name="Model").click()
    status = page.locator("#model-status").inner_text()
    page.locator("#model-source input, #model-source textarea").first.fill("/no/such/model")
    page.locator("#model-load").click()
    page.get_by_text("Still using").first.wait_for(timeout=15_000)
    assert status.strip() in page.locator("#model-status").inner_text()
    page.screenshot(path=str(shots / "model.png"), full_page=True)
    assert sorted(p.name for p in shots.iterdir()) == ["edit.png", "encode.png", "mix.png", "model.png", "sample.png"]


def test_the_sample_tab_opens_with_samples(page):
    """A fresh page shows the samples of the Sample tab's settings before Generate is clicked."""
    page.reload(wait_until="load")
    page.wait_for_selector("#sample-go", timeout=30_000)
    page.wait_for_function(LOADED_JS, arg=["#sample-gallery", 8], timeout=60_000)
    assert "seeds 0–7" in page.locator("#sample-info").inner_text()


# Layout checks: run in the page, return what is wrong.
OVERFLOW_JS = """(sel) => { const root = document.querySelector(sel); const r = root.getBoundingClientRect(); const out = [];
  for (const el of root.querySelectorAll('*')) { const b = el.getBoundingClientRect();
    if (b.width && b.height && (b.right > r.right + 1 || b.bottom > r.bottom + 1 || b.left < r.left - 1 ||
        b.top < r.top - 1)) out.push(el.tagName + '.' + String(el.className).slice(0, 30)); }
  return out; }"""
BROKEN_IMAGES_JS = """() => [...document.querySelectorAll('img')].filter(i => i.getBoundingClientRect().width > 0
  && !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))"""
LOADED_JS = """([sel, n]) => { const imgs = [...document.querySelectorAll(sel + ' .gallery-item img')];
  return imgs.length == n && imgs.every(i => i.complete && i.naturalWidth > 0); }"""
BADGES_JS = """(ids) => ids.filter(id => [...document.querySelectorAll('#' + id + ' .error, #' + id + ' + .error')]
  .some(e => e.getBoundingClientRect().width > 0))"""


def test_layout_holds(page, images):
    """16 samples fit the gallery; one upload fits its box with its caption; every image loads; the
    card renders tables, no code in headings, scrolls in its box; a failed load badges only its
    source box; the random-seed button is text."""
    page.reload(wait_until="load")             # a fresh session (and connections) after the test above
    page.wait_for_selector("#sample-go", timeout=30_000)
    assert page.locator("#sample-dice").inner_text().strip() == "Random seed"
    count = page.locator("#sample-n input[type=number]")
    count.fill("16")
    count.press("Enter")
    page.locator("#sample-go").click()
    page.wait_for_function(LOADED_JS, arg=["#sample-gallery", 16], timeout=60_000)
    page.wait_for_timeout(500)
    assert page.evaluate(OVERFLOW_JS, "#sample-gallery") == []
    assert page.evaluate(BROKEN_IMAGES_JS) == []

    page.get_by_role("tab", name="Encode & reconstruct").click()
    page.locator("#encode-files input[type=file]").set_input_files([str(images["rgb"])])
    page.wait_for_timeout(300)
    page.locator("#encode-go").click()
    page.wait_for_function(LOADED_JS, arg=["#encode-gallery", 1], timeout=60_000)
    page.wait_for_timeout(500)
    assert page.evaluate(OVERFLOW_JS, "#encode-gallery") == []
    assert page.evaluate(BROKEN_IMAGES_JS) == []

    page.get_by_role("tab", name="Model").click()
    page.wait_for_timeout(500)
    assert page.locator("#model-card table").count() >= 1 and page.locator("#model-info table").count() == 1
    assert page.locator("#model-card :is(h1, h2, h3, h4) code").count() == 0
    assert page.evaluate("() => document.querySelector('#model-card').getBoundingClientRect().height") <= 760
    assert page.evaluate(BROKEN_IMAGES_JS) == []
    page.locator("#model-source input, #model-source textarea").first.fill("/no/such/model")
    page.locator("#model-load").click()
    page.get_by_text("Still using").first.wait_for(timeout=15_000)
    page.wait_for_timeout(500)
    assert page.evaluate(BADGES_JS, ["model-status", "model-info", "model-card"]) == []


# Cross-tab behaviour and typed values (issue 22): run in the page, geometry in CSS pixels.
CAPTIONS_CLEAR_JS = """(sel) => [...document.querySelectorAll(sel + ' .gallery-item')].map(it => {
  const i = it.querySelector('img').getBoundingClientRect(), c = it.querySelector('.caption-label');
  const r = c.getBoundingClientRect(), b = it.getBoundingClientRect();
  return r.top >= i.bottom - 0.5 && r.bottom <= b.bottom + 0.5; })"""
BADGE_OVER_JS = """(sel) => { const s = document.querySelector(sel).getBoundingClientRect();
  return [...document.querySelectorAll('.error')].filter(e => !e.closest('.toast-wrap, [class*=toast]'))
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && !(r.right <= s.left || r.left >= s.right ||
      r.bottom <= s.top || r.top >= s.bottom)).length; }"""


def _type(page, selector: str, value: str) -> None:
    box = page.locator(f"{selector} input[type=number]")
    box.fill(value)
    box.press("Tab")                     # the browser clamps a slider's typed value on blur


def test_tabs_keep_their_own_settings_and_say_what_they_did(page, images, tmp_path):
    """Each tab encodes uploads with its own refinement; Send to Edit sets Edit's seed; a typed
    value past a slider's range is taken (direction sliders) or refused aloud; bad and repeated
    uploads; captions under the thumbnails; a failed load badges no field; only openable models listed."""
    page.reload(wait_until="load")
    page.wait_for_selector("#sample-go", timeout=30_000)
    _type(page, "#sample-n", "20")
    page.get_by_text("Number of images: 20 is outside [1, 16]; using 16.").first.wait_for(timeout=15_000)
    assert page.locator("#sample-n input[type=number]").input_value() == "16"
    _type(page, "#sample-n", "6")
    page.locator("#sample-seed input").fill("40")
    page.locator("#sample-go").click()
    page.wait_for_function(LOADED_JS, arg=["#sample-gallery", 6], timeout=60_000)
    page.wait_for_timeout(300)
    assert all(page.evaluate(CAPTIONS_CLEAR_JS, "#sample-gallery"))
    page.locator("#sample-gallery .gallery-item img").nth(3).click()
    before = image_src(page, "#edit-out")
    page.locator("#sample-send").click()
    wait_for_image(page, "#edit-out", before)
    page.wait_for_function("() => document.querySelector('#edit-seed input').value === '43'", timeout=15_000)
    assert "seed 43 from the Sample tab" in page.locator("#edit-base-line").inner_text()

    # A direction slider takes a typed value past its measured range (the range widens); past the
    # server's ±5σ it says so and uses 5.
    limit = float(page.locator("#edit-slider-0 input[type=range]").get_attribute("max"))
    shown = image_src(page, "#edit-out")
    wanted = round(min(limit + 0.5, 4.9), 1)
    _type(page, "#edit-slider-0", str(wanted))
    page.wait_for_function(f"() => document.querySelector('#edit-slider-0 input[type=range]').max >= {wanted}",
                           timeout=15_000)
    page.wait_for_timeout(500)
    assert float(page.locator("#edit-slider-0 input[type=number]").input_value()) == wanted
    wait_for_image(page, "#edit-out", shown)
    _type(page, "#edit-slider-0", "9")
    page.get_by_text("Slider 1: 9σ is past ±5σ").first.wait_for(timeout=15_000)
    page.wait_for_function("() => document.querySelector('#edit-slider-0 input[type=number]').value === '5'",
                           timeout=15_000)

    # The Edit tab's uploads follow its own Refine steps, not the Encode tab's.
    page.get_by_role("tab", name="Encode & reconstruct").click()
    _type(page, "#encode-steps", "0")
    page.get_by_role("tab", name="Edit").click()
    base = image_src(page, "#edit-base")
    page.locator("#edit-upload input[type=file]").set_input_files(str(images["rgb"]))
    wait_for_image(page, "#edit-base", base, timeout=60_000)
    page.wait_for_function("() => document.querySelector('#edit-base-line').innerText.includes('gradient.png')",
                           timeout=15_000)
    assert "E(x) refined 25 steps in w+" in page.locator("#edit-base-line").inner_text()
    assert page.locator("#edit-seed input").input_value() == ""        # an encoded photo has no seed

    # Encode: a repeated upload is listed once; an unreadable file is named and the others encoded.
    page.get_by_role("tab", name="Encode & reconstruct").click()
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    upload = page.locator("#encode-files input[type=file]")
    upload.set_input_files([str(images["rgb"]), str(broken), str(images["gray"])])
    page.wait_for_timeout(800)
    upload.set_input_files([str(images["rgb"])])
    page.wait_for_timeout(1500)
    listed = page.locator("#encode-files").inner_text()
    assert listed.count("gradient") == 1 and "broken" in listed and "gray" in listed, listed
    page.locator("#encode-go").click()
    page.wait_for_function(LOADED_JS, arg=["#encode-gallery", 2], timeout=60_000)
    table = page.locator("#encode-table").inner_text()
    assert "Skipped 1 file(s)" in table and "broken.png is not an image" in table and "PSNR (dB)" in table
    page.wait_for_timeout(300)
    assert all(page.evaluate(CAPTIONS_CLEAR_JS, "#encode-gallery"))
    page.locator("#encode-gallery .gallery-item img").nth(1).click()
    page.locator("#encode-send").click()
    page.wait_for_function("() => document.querySelector('#edit-base-line').innerText.includes('gray.jpg')",
                           timeout=30_000)
    assert "from the Encode tab (the encoder alone)" in page.locator("#edit-base-line").inner_text()

    # Style mixing: uploads are encoded with the tab's own refinement, and the grid says how.
    page.get_by_role("tab", name="Style mixing").click()
    page.locator("#mix-src-files input[type=file]").set_input_files([str(images["rgb"])])
    page.wait_for_timeout(800)
    _type(page, "#mix-steps", "10")
    page.locator("#mix-go").click()
    page.wait_for_function("() => document.querySelector('#mix-info').innerText.includes('refined 10 steps')",
                           timeout=60_000)

    # Model: a failed load badges its own line, not the source box; the MLP model is not offered.
    page.get_by_role("tab", name="Model").click()
    source = page.locator("#model-source input, #model-source textarea").first
    source.fill("/no/such/model")
    page.locator("#model-load").click()
    page.get_by_text("Still using").first.wait_for(timeout=15_000)
    page.wait_for_timeout(500)
    assert page.evaluate(BADGE_OVER_JS, "#model-source") == 0
    assert page.locator("#model-progress .error").count() >= 1      # the failure shows, on its own line
    page.screenshot(path=str(tmp_path / "model.png"), full_page=True)


VISIBLE_LINKS_JS = """(sel) => [...document.querySelectorAll(sel + ' a')].filter(a => a.getBoundingClientRect().width > 0).length"""


def test_outputs_belong_to_the_current_inputs(page, images, tmp_path):
    """An output either belongs to the current inputs or is cleared: a repeated upload is said, an
    Encode run that fails leaves no table or gallery of the previous run, and a new Edit base hides
    the previous base's downloads and traversal."""
    page.reload(wait_until="load")
    page.wait_for_selector("#sample-go", timeout=30_000)
    page.get_by_role("tab", name="Encode & reconstruct").click()
    _type(page, "#encode-steps", "0")
    upload = page.locator("#encode-files input[type=file]")
    upload.set_input_files([str(images["rgb"])])
    page.wait_for_timeout(800)
    upload.set_input_files([str(images["rgb"])])
    page.get_by_text("Already in the list, so not added again: gradient.png.").first.wait_for(timeout=15_000)
    page.locator("#encode-go").click()
    page.wait_for_function(LOADED_JS, arg=["#encode-gallery", 1], timeout=60_000)
    assert "Mean PSNR" in page.locator("#encode-table").inner_text()
    page.locator("#encode-files button[aria-label=Clear]").click()
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    upload.set_input_files([str(broken)])
    page.wait_for_timeout(800)
    page.locator("#encode-go").click()
    page.get_by_text("broken.png is not an image").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert "PSNR" not in page.locator("#encode-table").inner_text()
    assert page.locator("#encode-gallery .gallery-item img").count() == 0

    page.get_by_role("tab", name="Edit").click()
    page.locator("#edit-export").click()
    page.wait_for_function(VISIBLE_LINKS_JS + " === 4", arg="#edit-files", timeout=30_000)
    page.locator("#edit-traverse").click()
    wait_for_image(page, "#edit-strip")
    base = image_src(page, "#edit-base")
    page.locator("#edit-seed input").fill("5")
    page.locator("#edit-from-seed").click()
    wait_for_image(page, "#edit-base", base)
    page.wait_for_function(VISIBLE_LINKS_JS + " === 0", arg="#edit-files", timeout=15_000)
    assert image_src(page, "#edit-strip") is None and image_src(page, "#edit-gif") is None
    page.screenshot(path=str(tmp_path / "edit.png"), full_page=True)


def _image_bytes(page, selector: str, previous: str | None = None, timeout: float = 30) -> tuple[str, bytes]:
    import urllib.request

    src = wait_for_image(page, selector, previous, timeout)
    with urllib.request.urlopen(src) as response:
        return src, response.read()


def test_typed_numbers_follow_one_rule(page, tmp_path):
    """The box, the thumb and the image agree: a number being typed past a direction slider's range
    is not rendered until it is committed (Enter or leaving the box); then the range widens to it,
    or, past the app's ±5σ, it is clamped and said once; a typed number of sliders past 10 is
    clamped, said once, and 10 sliders show."""
    page.reload(wait_until="load")
    page.wait_for_selector("#sample-go", timeout=30_000)
    page.get_by_role("tab", name="Edit").click()
    thumb = page.locator("#edit-slider-0 input[type=range]")
    box = page.locator("#edit-slider-0 input[type=number]")
    limit = float(thumb.get_attribute("max"))
    src, _ = _image_bytes(page, "#edit-out")
    thumb.fill(f"{limit:g}")                                   # the thumb at the end of its range
    src, at_limit = _image_bytes(page, "#edit-out", src)
    typed = round(min(limit + 1, 4.9), 1)
    box.fill(f"{typed:g}")                                     # typed, not committed: the image stays at the thumb
    try:
        src, shown = _image_bytes(page, "#edit-out", src, timeout=5)
    except TimeoutError:
        src, shown = _image_bytes(page, "#edit-out")
    assert shown == at_limit and float(thumb.input_value()) == limit
    box.press("Enter")                                         # committed: the range widens to it
    page.wait_for_function(f"() => Number(document.querySelector('#edit-slider-0 input[type=range]').max) >= {typed}",
                           timeout=15_000)
    src, shown = _image_bytes(page, "#edit-out", src)
    assert shown != at_limit and float(thumb.input_value()) == typed == float(box.input_value())

    box.fill("50")
    page.wait_for_timeout(1500)
    box.press("Tab")
    page.get_by_text("Slider 1: 50σ is past ±5σ").first.wait_for(timeout=15_000)
    page.wait_for_function("() => document.querySelector('#edit-slider-0 input[type=number]').value === '5'",
                           timeout=15_000)
    page.wait_for_timeout(1000)
    assert float(thumb.input_value()) == 5.0
    assert page.get_by_text("must be a number").count() == 0   # said once: no error from the value being typed

    count = page.locator("#edit-k input[type=number]")
    count.fill("20")
    count.press("Enter")
    page.get_by_text("Number of sliders: 20 is outside [1, 10]; using 10.").first.wait_for(timeout=15_000)
    page.wait_for_function("() => document.querySelector('#edit-slider-9') !== null", timeout=30_000)
    assert count.input_value() == "10" and page.get_by_text("must be a whole number").count() == 0
    page.screenshot(path=str(tmp_path / "typed_numbers.png"), full_page=True)


def test_the_model_tab_lists_every_bundled_model(page, tmp_path):
    """A list of the bundled models (the digits model says it opens in its own app), and picking
    the digits model says in one line how to open it; the current model stays."""
    page.reload(wait_until="load")
    page.wait_for_selector("#sample-go", timeout=30_000)
    page.get_by_role("tab", name="Model").click()
    page.locator("#model-source input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert any("alae-synthetic-faces-64 (StyleALAE)" in o for o in options), options
    assert any("alae-digits-mlp (MLP ALAE, opens in its own app)" in o for o in options), options
    page.get_by_role("option", name="alae-digits-mlp (MLP ALAE, opens in its own app)").click()
    page.locator("#model-load").click()
    page.get_by_text("python app.py --model alae-digits-mlp").first.wait_for(timeout=60_000)
    page.screenshot(path=str(tmp_path / "model.png"), full_page=True)
