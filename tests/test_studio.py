"""The app's gradio-free layer (alae_hf.app.inputs, .state, .actions) called directly: input
checks name the field, a failed model load keeps the previous model, caches return the same
objects, seeds give reproducible w+. The endpoints themselves are tested in test_app.py."""

import math
import re

import numpy as np
import pytest
import torch
from PIL import Image

from alae_hf.app.actions import Actions
from alae_hf.app.cards import card_body
from alae_hf.app.inputs import (
    InputError,
    check_alphas,
    check_choice,
    check_layers,
    check_number,
    image_tensor,
    parse_seeds,
    upload_path,
)
from alae_hf.app.state import OutputFiles, Studio, new_session
from alae_hf.editing.edits import seed_to_w_plus


@pytest.fixture
def folder(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "tiny")
    return tmp_path / "tiny"


@pytest.fixture
def studio(folder):
    return Studio(folder)


# ---- input checks ------------------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (("Seed", 1.5, 0, 10, True), r"Seed must be a whole number in \[0, 10\], got 1.5"),
    (("Seed", "3", 0, 10, True), r"Seed must be a whole number in \[0, 10\], got '3'"),
    (("Seed", True, 0, 10, True), r"Seed must be a whole number"),
    (("Truncation ψ", math.nan, -1, 2), r"Truncation ψ must be a number in \[-1, 2\], got nan"),
    (("Truncation ψ", 2.5, -1, 2), r"Truncation ψ must be a number in \[-1, 2\], got 2.5"),
])
def test_number_checks_raise_value_errors_naming_the_field(args, message):
    with pytest.raises(ValueError, match=message):
        check_number(*args)


def test_valid_inputs_pass_and_are_normalised():
    assert check_number("Seed", np.int64(7), 0, 10, integer=True) == 7
    assert check_number("Seed", 7.0, 0, 10, integer=True) == 7 and check_number("ψ", 1, -1, 2) == 1.0
    assert check_choice("Noise", "off", ["off", "random"]) == "off"
    assert parse_seeds(" 1, 2, 5-8 ", "Source seeds") == [1, 2, 5, 6, 7, 8] and parse_seeds("", "x") == []
    assert check_alphas([0, -5, 5.0]) == [0.0, -5.0, 5.0]


def test_choice_seed_layer_and_slider_messages(tiny_model):
    with pytest.raises(ValueError, match=r"Noise must be one of \['off'\], got 'sometimes'"):
        check_choice("Noise", "sometimes", ["off"])
    with pytest.raises(ValueError, match=r"Source seeds: could not read 'x'; write seeds like"):
        parse_seeds("1, x", "Source seeds")
    with pytest.raises(ValueError, match=r"Source seeds: bad range '5-2'"):
        parse_seeds("5-2", "Source seeds")
    with pytest.raises(ValueError, match="Source seeds: at most 3 seeds"):
        parse_seeds("1-9", "Source seeds", limit=3)
    with pytest.raises(ValueError, match="Enter the custom styles"):
        check_layers(tiny_model, "custom", " ")
    with pytest.raises(ValueError, match="valid style indices are 0-5"):
        check_layers(tiny_model, "custom", "4-7")
    assert check_layers(tiny_model, "custom", "1-2") == [1, 2] and check_layers(tiny_model, "all", "") == list(range(6))
    with pytest.raises(ValueError, match="Slider 2 must be a number"):
        check_alphas([0.0, math.inf])
    with pytest.raises(ValueError, match="at most 10 slider values, got 11"):
        check_alphas([0.0] * 11)


def test_a_styles_range_past_the_model_is_one_short_line(tiny_model):
    """'99-200' is refused by naming the range and the valid one, not by listing 102 indices."""
    with pytest.raises(InputError) as err:
        check_layers(tiny_model, "custom", "4, 99-200")
    message = str(err.value)
    assert "styles 99-200 out of range; valid style indices are 0-5" in message
    assert "\n" not in message and len(message) < 160 and "100" not in message


def test_upload_checks_name_the_file(tiny_model, tmp_path):
    with pytest.raises(InputError, match="Upload an image first."):
        upload_path({"path": str(tmp_path / "gone.png")})
    (tmp_path / "notes.txt").write_text("not an image")
    path, name = upload_path({"path": str(tmp_path / "notes.txt"), "orig_name": "my notes.txt"})
    assert name == "my notes.txt"
    with pytest.raises(InputError, match=r"my notes.txt is not an image this app can read \(UnidentifiedImageError\)"):
        image_tensor(path, name, tiny_model)
    Image.new("RGB", (40, 30), (200, 10, 10)).save(tmp_path / "red.png")
    x = image_tensor(*upload_path(str(tmp_path / "red.png")), tiny_model)
    assert x.shape == (1, 3, 16, 16)


# ---- models and caches -------------------------------------------------------------------------
def test_a_failed_load_keeps_the_previous_model(studio, folder, tmp_path):
    actions = Actions(studio)
    before = studio.get(None)
    session = new_session(studio.default_key)
    (tmp_path / "empty").mkdir()
    for source in (str(tmp_path / "empty"), str(tmp_path / "missing" / "a" / "b")):
        with pytest.raises(ValueError, match=rf"Could not load .*\. Still using {re.escape(before.name)}\.$"):
            actions.load_model(session, source)
    assert studio.get(None) is before and actions.model(session) is before
    assert session == new_session(studio.default_key)
    # An unknown key (an evicted model that no longer loads) falls back to the default.
    assert studio.get(str(tmp_path / "empty")) is before
    assert actions.load_model(session, "  ") is before  # empty source: the default


def test_directions_cache_returns_the_same_object(studio):
    loaded = studio.get(None)
    first = studio.directions(loaded, "sefa", [0, 1])
    assert studio.directions(loaded, "sefa", [0, 1]) is first
    assert studio.directions(loaded, "sefa", [2, 3]) is not first
    assert first.layers == [0, 1]
    with pytest.raises(ValueError, match="ships no voynov directions"):
        studio.directions(loaded, "voynov", [0, 1])


def test_seed_to_w_plus_is_reproducible(tiny_model):
    w = seed_to_w_plus(tiny_model, 3, 5, 0.7, 4)
    assert w.shape == (3, tiny_model.num_styles, 8)
    assert torch.equal(w, seed_to_w_plus(tiny_model, 3, 5, 0.7, 4))
    assert torch.allclose(w[:1], seed_to_w_plus(tiny_model, 1, 5, 0.7, 4), atol=1e-6)  # n = 1: row 0's z
    plain = tiny_model.to_w_plus(tiny_model.map(tiny_model.seed_latents(3, 5)))
    assert torch.allclose(w[:, 4:], plain[:, 4:]) and not torch.allclose(w[:, :4], plain[:, :4])
    assert torch.allclose(seed_to_w_plus(tiny_model, 3, 5, 1.0, 6), plain)
    assert not torch.equal(w, seed_to_w_plus(tiny_model, 3, 6, 0.7, 4))


# ---- outputs -----------------------------------------------------------------------------------
def test_traversal_writes_a_strip_and_a_looping_gif(studio):
    actions = Actions(studio)
    session, base, edited, *sliders = actions.edit_base_from_seed(None, 3, 0.7)
    assert base.endswith("base.png") and sliders == [0.0] * 10 and session["base"]["label"] == "the sample of seed 3 (ψ 0.7 on styles 0–5)"
    strip, gif = actions.traversal(session, "SeFa", "all", "", "2", 2.0, 5, *[0.0] * 10)
    assert Image.open(strip).size[0] > 5 * 16
    with Image.open(gif) as frames:
        assert frames.n_frames == 2 * 5 - 2 and frames.size == (256, 256)
    with pytest.raises(ValueError, match=r"Frames must be a whole number in \[3, 15\]"):
        actions.traversal(session, "SeFa", "all", "", "1", 2.0, 16)


def test_session_updates_are_new_frozen_sessions(studio):
    """Actions never edit a session in place: each returns a new one (dataclasses.replace)."""
    import dataclasses

    actions = Actions(studio)
    fresh = new_session(studio.default_key)
    _, _, sampled = actions.sample(fresh, 0, 2, 0.7, 4, "image seed", 0)
    assert fresh.samples is None and sampled.samples.seeds == [0, 1] and sampled.base is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        sampled.model = "other"
    based, *_ = actions.send_sample_to_edit(sampled, 1)
    assert based.samples is sampled.samples and sampled.base is None and based.base.seed == 1


def test_page_load_samples_do_not_undo_what_the_visitor_did_meanwhile(studio):
    """The page-load sample starts from the fresh session; the visitor sends a base to Edit (or
    samples) before it finishes. Its result adds its samples to the current session, field-wise."""
    actions = Actions(studio)
    fresh = new_session(studio.default_key)
    _, _, made = actions.sample(fresh, 0, 8, 0.7, 4, "image seed", 0)       # the page-load event
    meanwhile, *_ = actions.edit_base_from_seed(fresh, 3, 0.7)                # the visitor, at once
    merged = actions.keep_samples(meanwhile, made)
    assert merged.base is meanwhile.base and merged.samples is made.samples   # nothing undone
    _, _, own = actions.sample(meanwhile, 40, 2, 0.7, 4, "image seed", 0)   # the visitor sampled too
    assert actions.keep_samples(own, made).samples.seeds == [40, 41]          # their samples stay
    assert actions.keep_samples(meanwhile, None) is meanwhile                 # the load sample failed


def test_png_names_are_file_safe_and_cards_lose_front_matter(tmp_path):
    files = OutputFiles()
    path = files.png(Image.new("RGB", (4, 4)), "../a b/c")
    assert path.endswith("/.._a_b_c.png") and path.startswith(str(files.root))
    assert card_body("---\nlicense: mit\n---\n# Hi\n") == "# Hi"
    assert "no README.md" in card_body("")


# ---- one noise convention, sweep -> render, Directions summary, PIL / PNG grid from sample -----------
def test_one_noise_convention_sample_seed_equals_render_of_that_seed(tiny_model):
    from alae_hf import editing
    from alae_hf.imaging import tensor_to_pil

    for seed in (0, 7):
        sampled = tensor_to_pil(tiny_model.sample(1, seed=seed, truncation_psi=0.7))[0]
        rendered = editing.render(tiny_model, seed_to_w_plus(tiny_model, 1, seed, 0.7), noise=seed)[0]
        assert np.array_equal(np.asarray(sampled), np.asarray(rendered))
    # A list of seeds: image i is the image of seed i alone, in any batch.
    batch = tiny_model.sample(seed=[3, 9, 4], truncation_psi=0.7)
    for i, seed in enumerate([3, 9, 4]):
        torch.testing.assert_close(batch[i:i + 1], tiny_model.sample(1, seed=seed, truncation_psi=0.7),
                                   atol=1e-5, rtol=0)
    # Noise matters (else the test above proves nothing) and None is deterministic.
    assert not torch.equal(tiny_model.sample(1, seed=3), tiny_model.sample(1, seed=3, noise=4))
    assert torch.equal(tiny_model.sample(1, seed=3, noise=None), tiny_model.sample(1, seed=3, noise=None))


def test_noise_spec_errors_are_one_clear_line(tiny_model):
    with pytest.raises(ValueError, match="2 noise seeds for 3 images"):
        tiny_model.noise_maps([1, 2], 3)
    with pytest.raises(TypeError, match="noise must be None, an int seed"):
        tiny_model.noise_maps("seed", 1)
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 4294967295\\]"):
        tiny_model.seed_latents(1, -1)


def test_render_takes_sweep_output_directly(tiny_model):
    from alae_hf import editing
    from alae_hf.latent.spectral import sefa

    d = sefa(tiny_model, "all", n_sigma_samples=200)
    w = seed_to_w_plus(tiny_model, 2, 1)
    frames = editing.sweep(w, d, 0, [-1.0, 0.0, 1.0])
    images = editing.render(tiny_model, frames, noise=0)
    assert len(images) == 6
    flat = editing.render(tiny_model, frames.flatten(0, 1), noise=0)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(images, flat))
    assert np.array_equal(np.asarray(images[2]), np.asarray(editing.render(tiny_model, w[:1], noise=0)[0]))
    text = repr(d)
    assert text.startswith("Directions(method='sefa'") and "layers=0-5" in text and len(text) < 200


def test_sample_to_pil_images_and_a_png_grid(tiny_model, tmp_path):
    """The way `StyleALAE.sample`'s docstring documents."""
    from alae_hf.imaging import make_grid, tensor_to_pil

    images = tensor_to_pil(tiny_model.sample(4, seed=0))
    assert [im.size for im in images] == [(16, 16)] * 4 and images[0].mode == "RGB"
    make_grid(images, columns=2).save(tmp_path / "samples.png")
    with Image.open(tmp_path / "samples.png") as grid:
        assert grid.size == (2 * 18 + 2, 2 * 18 + 2)
        assert np.array_equal(np.asarray(grid)[2:18, 2:18], np.asarray(images[0]))


def test_mixing_grid_names_its_one_spec_per_row_rule(tiny_model):
    from alae_hf import editing

    src, dst = seed_to_w_plus(tiny_model, 2, 0), seed_to_w_plus(tiny_model, 3, 1)
    with pytest.raises(ValueError, match="one layer spec per destination row.*2 specs for 3"):
        editing.mixing_grid(tiny_model, src, dst, ["coarse", "fine"])


def test_card_shows_its_images_inline_and_no_code_in_headings(tmp_path):
    Image.new("RGB", (8, 8), (200, 10, 10)).save(tmp_path / "samples.png")
    card = ("---\nlicense: mit\n---\n# Model\n![samples](samples.png)\n![losses](losses.png)\n"
            "![outside](../secret.png)\n## Evaluation (`python -m alae_hf.evaluate`)\n| a | b |\n| --- | --- |\n")
    body = card_body(card, tmp_path)
    assert "![samples](data:image/webp;base64," in body                  # inlined: no server path, no 404
    assert "losses.png" not in body and "*[losses: not included]*" in body
    assert "secret" not in body.replace("*[outside: not included]*", "")
    assert "## Evaluation (python -m alae_hf.evaluate)" in body and "| --- | --- |" in body


def test_public_studio_loads_bundled_names_and_no_server_folders(folder, tmp_path):
    other = tmp_path / "other"
    Studio(folder).get(None).model.save_pretrained(other)
    studio = Studio(folder, public=True, bundled={"shipped-model": other})
    assert studio.get(None).name == "tiny (local folder)"              # the default itself is trusted
    assert studio.load("shipped-model").folder == other and studio.key(other) == "shipped-model"
    for source in (str(tmp_path), "/etc", "../x"):
        with pytest.raises(OSError, match="not server folders"):
            studio.load(source)


def test_save_pretrained_keeps_directions_and_report(studio, tmp_path):
    """A loaded model saved again keeps its direction sets and evaluation report (the app and the
    slider labels read them); a model built in memory saves none."""
    from alae_hf import StyleALAE
    from alae_hf.latent.directions import list_directions
    from alae_hf.latent.spectral import sefa

    source = studio.get(None).folder
    sefa(studio.get(None).model, "all", n_sigma_samples=100).save(source, "sefa")
    (source / "report").mkdir()
    (source / "report" / "metrics.json").write_text("{}\n")
    loaded = StyleALAE.from_pretrained(source)
    loaded.save_pretrained(tmp_path / "copy")
    assert list_directions(tmp_path / "copy") == ["sefa"] and (tmp_path / "copy" / "report" / "metrics.json").is_file()
    StyleALAE(**{k: v for k, v in loaded.config.items() if not k.startswith("_")}).save_pretrained(tmp_path / "fresh")
    assert not (tmp_path / "fresh" / "directions").exists()


def test_sliders_are_labelled_and_sorted_from_the_report(tiny_model, tmp_path):
    """Slider i drives the direction with the i-th largest measured effect; its label names the
    factor and how much it moves; unmeasured directions say so; ranges are measured, not ±5σ."""
    import json

    from alae_hf.app.sliders import slider_set
    from alae_hf.latent.spectral import sefa

    d = sefa(tiny_model, "all", n_sigma_samples=500)
    entry = {"indices": [0, 1, 2], "layers": d.layers, "sigma": d.sigma[:3].tolist(),
             "factors": ["smile", "hair_colour"], "dominant": ["smile", "hair_colour", "smile"],
             "response_mean": [[-0.2, 0.1], [0.05, 0.5], [0.3, 0.0]], "isolation": [0.6, 0.7, 0.9],
             "total_response": [0.3, 0.55, 0.31]}
    (tmp_path / "report").mkdir()
    metrics = {"directions": {"sefa": entry},
               "attribute_net": {"factors": {"smile": {"kind": "continuous"}, "hair_colour": {"kind": "categorical"}}}}
    (tmp_path / "report" / "metrics.json").write_text(json.dumps(metrics))
    sliders = slider_set(tiny_model, tmp_path, d, "SeFa", 5, 5.0, n_samples=2000)
    assert sliders.order == [1, 2, 0, 3, 4] and sliders.measured
    assert sliders.labels[0].startswith("SeFa 2 · hair colour changes 0.50 per σ (70% of its effect) · ±")
    assert sliders.labels[2].startswith("SeFa 1 · smile -0.20 per σ (60% of its effect)")
    assert "effect not measured" in sliders.labels[3]
    assert all(1.0 <= limit < 5.0 for limit in sliders.limits)           # Gaussian-ish latents: about ±2.5σ
    assert sliders.alphas([1.0, 0.0, -2.0]) == {1: 1.0, 2: 0.0, 0: -2.0}
    entry["sigma"] = [s * 1.5 for s in entry["sigma"]]                     # another set of the same method
    (tmp_path / "report" / "metrics.json").write_text(json.dumps(metrics))
    assert not slider_set(tiny_model, tmp_path, d, "SeFa", 5, 5.0, n_samples=500).measured


def test_sets_the_report_did_not_measure_are_measured_here(tiny_model, tmp_path):
    """The report measures the sets on all styles; a coarse / middle / fine set of a model it
    evaluated on synthetic faces gets the same measurement here instead of ten "effect not
    measured" sliders. Without such a report the sliders say they are not measured."""
    import json

    import numpy as np

    from alae_hf.app.sliders import slider_set
    from alae_hf.evaluation.attributes import load_attribute_net
    from alae_hf.evaluation.latent_metrics import direction_response
    from alae_hf.latent.spectral import sefa

    coarse = sefa(tiny_model, "coarse", n_sigma_samples=500)
    (tmp_path / "report").mkdir()
    report = {"data": "synthetic:faces", "directions": {"sefa": {"layers": list(range(tiny_model.num_styles)),
                                                                 "indices": [], "sigma": []}}}
    (tmp_path / "report" / "metrics.json").write_text(json.dumps(report))
    steps = []
    sliders = slider_set(tiny_model, tmp_path, coarse, "SeFa", 3, 5.0, n_samples=500,
                         progress=lambda fraction, message: steps.append(message))
    assert sliders.measured and "measured here" in sliders.source and len(steps) == 3
    assert not [label for label in sliders.labels if "not measured" in label or "per σ" not in label]
    r = direction_response(tiny_model, load_attribute_net(), coarse, indices=[0, 1, 2], n=32)
    totals = np.abs(r["mean_abs"]).sum(1)
    assert sliders.order == sorted(range(3), key=lambda k: -totals[k])       # strongest measured effect first
    (tmp_path / "report" / "metrics.json").write_text(json.dumps({**report, "data": "my-photos/"}))
    plain = slider_set(tiny_model, tmp_path, coarse, "SeFa", 3, 5.0, n_samples=500)
    assert not plain.measured and all("effect not measured" in label for label in plain.labels)
