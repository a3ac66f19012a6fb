"""The Gradio app through gradio_client, against a locally launched server: every endpoint,
range checks, and hostile uploads (never a traceback; a clear message or a handled result).

A random-weight stand-in model (`testing.app.make_random_model`) replaces the bundled
checkpoint, so these tests say nothing about image quality, only about behaviour.
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from testing.app import input_images, launch, make_random_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = {"/sample", "/sample_random", "/select_sample", "/send_sample_to_edit", "/encode", "/select_encoded",
             "/send_encoded_to_edit", "/mix", "/edit_base_from_seed", "/edit_base_from_upload", "/directions",
             "/edit", "/reset", "/traversal", "/export", "/load_model", "/model_info"}
K = 10  # app.MAX_K sliders
ZEROS = [0.0] * K



@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {"m32": make_random_model(root / "m32"),
            "m16": make_random_model(root / "m16", resolution=16, learned=False)}


@pytest.fixture(scope="module")
def server(models):
    demo, url = launch(models["m32"])
    yield demo, url
    demo.close()


@pytest.fixture
def client(server):
    """A fresh client: a fresh session (gr.State) on the shared server."""
    return Client(server[1], verbose=False, download_files=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Good and hostile inputs."""
    d = tmp_path_factory.mktemp("inputs")
    out = {k: str(v) for k, v in input_images(d).items()}
    rgb = np.zeros((24, 40, 3), np.uint8)
    rgb[:, :20] = (255, 0, 0)                                  # left red, right blue; EXIF says rotate 90°
    rgb[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(d / "exif.jpg", exif=exif.tobytes(), quality=95)
    gray16 = (np.arange(30 * 30, dtype=np.uint16).reshape(30, 30) * 70)
    Image.fromarray(gray16).save(d / "gray16.png")
    Image.new("RGB", (1, 1), (10, 200, 30)).save(d / "one.png")
    good = io.BytesIO()
    Image.fromarray(rgb).save(good, format="PNG")
    (d / "truncated.png").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    (d / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (d / "notes.txt").write_text("not an image\n" * 20)
    _solid_png(d / "huge.png", 10_000, 10_000)
    out.update({k: str(d / n) for k, n in [("exif", "exif.jpg"), ("gray16", "gray16.png"), ("one", "one.png"),
                                           ("truncated", "truncated.png"), ("corrupt", "corrupt.png"),
                                           ("text", "notes.txt"), ("huge", "huge.png")]})
    assert Image.open(out["gray16"]).mode.startswith("I;16")
    return out


def _solid_png(path: Path, width: int, height: int) -> None:
    """A valid grayscale PNG of one colour, written without holding the pixels in memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    row, squash = b"\x00" + b"\x80" * width, zlib.compressobj(9)
    body = b"".join(squash.compress(row) for _ in range(height)) + squash.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def _error(call, *words: str) -> str:
    """Run `call`, expect an AppError whose message has `words` and no traceback."""
    with pytest.raises(AppError) as info:
        call()
    message = str(info.value)
    assert "Traceback" not in message and "File \"" not in message, message
    assert "verbose error reporting" not in message, f"an unhandled exception reached the user: {message}"
    for word in words:
        assert word.lower() in message.lower(), message
    return message


def _pixels(path: str) -> np.ndarray:
    assert path.endswith(".png"), path
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


# ---- the API surface ---------------------------------------------------------------------------
def test_every_event_has_a_named_endpoint(server, client):
    demo, _ = server
    names = {"/" + fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert names == ENDPOINTS
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ENDPOINTS
    fns = {fn.api_name: fn for fn in demo.fns.values()}
    assert demo._queue.max_size == 32 and demo._queue.default_concurrency_limit == 2
    assert (fns["edit"].trigger_mode, fns["edit"].show_progress, fns["edit"].concurrency_id) == (
        "always_last", "hidden", "slider")
    heavy = ["sample", "encode", "mix", "directions", "traversal", "export", "edit_base_from_upload"]
    assert {fns[name].concurrency_id for name in heavy} == {"model"}


SLIDERS = [f"slider_{i}" for i in range(1, K + 1)]
TO_EDIT = ["base", "edited", *SLIDERS]
RETURNS = {  # what view_api() calls every endpoint's outputs: chosen names, never value_N or a long label
    "/sample": ["samples", "info"], "/sample_random": ["seed", "samples", "info"], "/select_sample": ["selected_image"],
    "/send_sample_to_edit": TO_EDIT, "/encode": ["reconstructions", "psnr_table"], "/select_encoded": ["selected_image"],
    "/send_encoded_to_edit": TO_EDIT, "/mix": ["mixing_grid", "info"], "/edit_base_from_seed": TO_EDIT,
    "/edit_base_from_upload": TO_EDIT, "/directions": [*SLIDERS, "direction", "directions_info", "edited"],
    "/edit": ["edited"], "/reset": [*SLIDERS, "edited"], "/traversal": ["traversal_strip", "animated_gif"],
    "/export": ["downloads"], "/model_info": ["status", "model_info", "model_card"],
    "/load_model": ["status", "model_info", "model_card", "method", "styles_edited", "number_of_sliders",
                    "styles_to_copy", "truncation_cutoff", *TO_EDIT, "direction", "directions_info"],
}
INTEGERS = {"seed", "n", "cutoff", "noise_seed", "refine_steps", "k", "steps", "index"}


def test_view_api_names_types_and_describes_every_endpoint(client):
    """Outputs named after short labels (no `value_22`, no `sefa_1__hair_colour_changes_041_per_σ_…`),
    whole-number inputs typed int, descriptions written for clients (no handler internals)."""
    from gradio_client.utils import sanitize_parameter_names

    from alae_hf.app.api import DESCRIPTIONS

    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    returns = {e: [sanitize_parameter_names(r["label"]) for r in info["returns"]] for e, info in api.items()}
    assert returns == RETURNS
    types = {p["parameter_name"]: p["python_type"]["type"] for info in api.values() for p in info["parameters"]}
    assert {name: types[name] for name in INTEGERS if name in types} == {name: "int" for name in INTEGERS}
    for name, info in api.items():
        assert info["description"] == DESCRIPTIONS[name[1:]]
        notes = [p["python_type"]["description"] for p in info["parameters"]]
        assert not [n for n in notes if "gradio" in n.lower() or "traceback" in n.lower()], (name, notes)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        client.view_api()
    assert "value_" not in printed.getvalue() and "per_σ" not in printed.getvalue()


def test_every_parameter_has_a_name(client):
    """No gradio-generated `param_N` names: clients can call every endpoint by keyword."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    names = {endpoint: [p["parameter_name"] for p in info["parameters"]] for endpoint, info in api.items()}
    assert not [(e, n) for e, ns in names.items() for n in ns if not n or n.startswith("param")], names
    assert names["/edit"] == ["method", "layers", "custom", *[f"slider_{i}" for i in range(1, K + 1)]]
    assert names["/traversal"][:6] == ["method", "layers", "custom", "direction", "extent", "steps"]
    edited = client.predict(method="SeFa", layers="all", custom="", slider_1=1.0, api_name="/edit")
    assert _pixels(edited).shape == (32, 32, 3)


def test_model_info_describes_the_loaded_model(server, client, models):
    status, info, card = client.predict(api_name="/model_info")
    assert "m32 (local folder)" in status
    assert str(models["m32"].parent) not in status + info + card     # no server paths
    import urllib.request

    for route in ("/config", "/gradio_api/info"):
        assert str(models["m32"].parent) not in urllib.request.urlopen(server[1] + route).read().decode()
    assert "Parameters:" in info and "| `resolution` | 32 |" in info
    assert "sefa_all" in info and "voynov" in info
    assert card.lstrip().startswith("# StyleALAE") and "library_name" not in card  # front matter stripped


# ---- Sample ------------------------------------------------------------------------------------
def test_sample_is_reproducible_png_and_send_to_edit_reproduces_the_image(client):
    gallery, info = client.predict(7, 4, 0.7, 8, "fixed seed", 3, api_name="/sample")
    assert len(gallery) == 4 and "seeds 7–10" in info and "noise seed 3" in info
    assert [g["caption"] for g in gallery] == ["seed 7", "seed 8", "seed 9", "seed 10"]   # each its own seed
    images = [_pixels(g["image"]) for g in gallery]
    assert images[0].shape == (32, 32, 3)
    assert all(np.abs(a - images[0]).max() > 0 for a in images[1:])
    other, _ = client.predict(8, 4, 0.7, 8, "fixed seed", 3, api_name="/sample")
    assert np.abs(_pixels(other[0]["image"]) - images[0]).max() > 0
    assert np.abs(_pixels(other[0]["image"]) - images[1]).max() <= 1      # seed 8 is seed 8 in any gallery
    again, _ = client.predict(7, 4, 0.7, 8, "fixed seed", 3, api_name="/sample")
    assert all(np.array_equal(_pixels(g["image"]), a) for g, a in zip(again, images))
    assert client.predict(api_name="/select_sample") == 0
    base, edited, *sliders = client.predict(2, api_name="/send_sample_to_edit")   # #2 of the last gallery
    assert sliders == ZEROS
    assert np.array_equal(_pixels(base), images[2]) and np.array_equal(_pixels(edited), images[2])


def test_sample_of_seed_s_is_model_sample_of_seed_s(server, client):
    """One noise convention: the Sample tab's image for seed s is `model.sample(1, seed=s)`."""
    from alae_hf.imaging import tensor_to_pil

    model = server[0].alae_context.get(None).model
    gallery, info = client.predict(41, 3, 0.6, 5, "image seed", 0, api_name="/sample")
    assert "noise from each image's seed" in info
    for item, seed in zip(gallery, (41, 42, 43)):
        ours = np.asarray(tensor_to_pil(model.sample(1, seed=seed, truncation_psi=0.6, truncation_cutoff=5))[0],
                          dtype=np.int16)
        assert np.abs(_pixels(item["image"]) - ours).max() <= 1 and item["caption"] == f"seed {seed}"
    base, *_ = client.predict(1, api_name="/send_sample_to_edit")         # keeps its own noise
    # Edit renders that one sample alone, the gallery rendered it in a batch of three: float sums in
    # another order may round a pixel the other way, never more (other noise would move most pixels).
    assert np.abs(_pixels(base) - _pixels(gallery[1]["image"])).max() <= 1


def test_sample_random_and_noise_modes(client):
    seed, gallery, info = client.predict(2, 1.0, 0, "random", 0, api_name="/sample_random")
    assert isinstance(seed, int) and len(gallery) == 2 and f"seeds {seed}–{seed + 1}" in info
    off_a, info = client.predict(1, 1, 0.5, 4, "off", 0, api_name="/sample")
    assert "no noise" in info
    off_b, _ = client.predict(1, 1, 0.5, 4, "off", 99, api_name="/sample")
    assert np.array_equal(_pixels(off_a[0]["image"]), _pixels(off_b[0]["image"]))


@pytest.mark.parametrize("args, words", [
    ((0, 17, 0.7, 8, "fixed seed", 0), ["Number of images", "16"]),
    ((0, 0, 0.7, 8, "fixed seed", 0), ["Number of images"]),
    ((-1, 2, 0.7, 8, "fixed seed", 0), ["Seed"]),
    ((2**40, 2, 0.7, 8, "fixed seed", 0), ["Seed", "[0, 4294967294]"]),   # limits printed as integers
    ((1.5, 2, 0.7, 8, "fixed seed", 0), ["Seed", "whole number"]),
    ((0, 2, 2.5, 8, "fixed seed", 0), ["ψ", "[-1, 2]"]),
    ((0, 2, 0.7, 99, "fixed seed", 0), ["cutoff", "[0, 8]"]),
    ((0, 2, 0.7, 8, "sometimes", 0), ["Noise"]),
    (("12", 2, 0.7, 8, "fixed seed", 0), ["Seed"]),
])
def test_sample_range_checks(client, args, words):
    _error(lambda: client.predict(*args, api_name="/sample"), *words)


def test_handlers_refuse_non_finite_numbers(server):
    """NaN and inf cannot travel as JSON, but a Python caller of the handlers can pass them."""
    import gradio as gr

    from alae_hf.app.state import new_session

    demo, _ = server
    fns = {fn.api_name: fn.fn for fn in demo.fns.values()}
    session = new_session(demo.alae_context.default_key)
    with pytest.raises(gr.Error, match="ψ"):
        fns["sample"](session, 0, 2, float("nan"), 8, "fixed seed", 0)
    with pytest.raises(gr.Error, match="Slider 1"):
        fns["edit"](session, "SeFa", "all", "", float("inf"), *ZEROS[1:])


def test_sending_without_samples_is_a_clear_error(client):
    _error(lambda: client.predict(0, api_name="/send_sample_to_edit"), "Generate some samples first")
    _error(lambda: client.predict(0, api_name="/send_encoded_to_edit"), "Encode some images first")


# ---- Encode ------------------------------------------------------------------------------------
def test_encode_handles_every_kind_of_image(client, files):
    names = ["rgb", "rgba", "gray", "gray16", "exif", "one"]
    gallery, table = client.predict([handle_file(files[n]) for n in names], api_name="/encode")
    assert len(gallery) == len(names) and "Mean PSNR" in table
    for item, name in zip(gallery, names):
        pair = _pixels(item["image"])
        assert pair.shape == (2 + 32 + 2, 2 + 2 * (32 + 2), 3)   # original | reconstruction with padding
        assert "PSNR" in item["caption"] and Path(files[name]).name in item["caption"]
    exif = _pixels(gallery[names.index("exif")]["image"])[2:34, 2:34]
    top, bottom, left = exif[:16].mean((0, 1)), exif[16:].mean((0, 1)), exif[:, :16].mean((0, 1))
    # The left-red / right-blue image was rotated by its EXIF tag: halves are now top and bottom.
    assert abs(top[0] - bottom[0]) > 100 and abs(top[2] - bottom[2]) > 100
    assert abs(left[0] - exif[:, 16:].mean((0, 1))[0]) < 40
    one = _pixels(gallery[names.index("one")]["image"])[2:34, 2:34]
    assert np.abs(one - np.array([10, 200, 30])).max() <= 2         # a 1×1 image becomes a flat square
    base, edited, *sliders = client.predict(names.index("rgba"), api_name="/send_encoded_to_edit")
    assert _pixels(base).shape == (32, 32, 3) and sliders == ZEROS
    assert np.array_equal(_pixels(base), _pixels(gallery[1]["image"])[2:34, 36:68])  # the reconstruction


@pytest.mark.parametrize("name, words", [
    ("corrupt", ["corrupt.png", "not an image"]),
    ("truncated", ["truncated.png"]),
    ("text", ["notes.txt", "not an image"]),
    ("huge", ["huge.png", "10000x10000", "megapixels"]),
])
def test_encode_refuses_bad_files_clearly(client, files, name, words):
    _error(lambda: client.predict([handle_file(files[name])], api_name="/encode"), *words)
    _error(lambda: client.predict(handle_file(files[name]), api_name="/edit_base_from_upload"), *words)


def test_encode_keeps_going_past_unreadable_files_and_names_each(client, files):
    names = ["rgb", "corrupt", "gray", "text"]
    gallery, table = client.predict([handle_file(files[n]) for n in names], 0, "w+", api_name="/encode")
    assert [item["caption"].split(" · ")[0] for item in gallery] == ["gradient.png", "gray.jpg"]
    skipped = table.split("**Skipped 2 file(s):**")[1]
    assert "corrupt.png is not an image" in skipped and "notes.txt is not an image" in skipped
    assert "| 1 | gray.jpg |" in table                                     # numbered as the gallery is
    base, *_ = client.predict(1, api_name="/send_encoded_to_edit")        # #1 is gray.jpg, not the bad file
    assert np.array_equal(_pixels(base), _pixels(gallery[1]["image"])[2:34, 36:68])
    message = _error(lambda: client.predict([handle_file(files[n]) for n in ("corrupt", "text")], api_name="/encode"),
                     "corrupt.png", "notes.txt")
    assert message.count("not an image") == 2


def test_encode_refines_the_code_and_edit_uses_it(client, files):
    """Encoder-initialised inversion in the app: refined reconstructions are closer to the input,
    the table shows both PSNRs, and Send to Edit edits the refined code."""
    plain, table0 = client.predict([handle_file(files["rgb"])], 0, "w+", api_name="/encode")
    refined, table = client.predict([handle_file(files["rgb"])], 30, "w+", api_name="/encode")
    assert "PSNR E(x)" in table and "30 steps in w+" in table and "→" in table
    before, after = (float(x) for x in table.split("Mean PSNR ")[1].split(" dB")[0].split(" → "))
    assert after > before and f"{before:.2f}" in table0
    original = _pixels(refined[0]["image"])[2:34, 2:34]
    err = lambda pair: np.abs(_pixels(pair[0]["image"])[2:34, 36:68] - original).mean()  # noqa: E731
    assert err(refined) < err(plain)
    base, *_ = client.predict(0, api_name="/send_encoded_to_edit")
    assert np.array_equal(_pixels(base), _pixels(refined[0]["image"])[2:34, 36:68])
    _error(lambda: client.predict([handle_file(files["rgb"])], 999, "w+", api_name="/encode"), "Refine steps")
    # The Edit tab's own upload is refined the same way (with the Encode tab's settings in the UI).
    edit_base, *_ = client.predict(handle_file(files["rgb"]), 30, "w+", api_name="/edit_base_from_upload")
    assert np.array_equal(_pixels(edit_base), _pixels(refined[0]["image"])[2:34, 36:68])
    plain_base, *_ = client.predict(handle_file(files["rgb"]), 0, "w+", api_name="/edit_base_from_upload")
    assert np.array_equal(_pixels(plain_base), _pixels(plain[0]["image"])[2:34, 36:68])


def test_list_endpoints_accept_a_single_file(client, files):
    gallery, table = client.predict(handle_file(files["rgb"]), api_name="/encode")
    assert len(gallery) == 1 and "gradient.png" in gallery[0]["caption"]
    grid, info = client.predict("1", handle_file(files["rgb"]), "2", handle_file(files["gray"]), 0.7, "coarse", "",
                                0, api_name="/mix")
    assert "2 sources" in info and "2 destinations" in info


def test_encode_limits(client, files):
    _error(lambda: client.predict([], api_name="/encode"), "Upload one or more images")
    _error(lambda: client.predict([handle_file(files["one"])] * 17, api_name="/encode"), "At most 16")


def test_upload_size_limit(client, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (21 * 1024 * 1024))
    with pytest.raises(ValueError, match="exceeds the maximum file size of 20971520 bytes"):
        client.predict(handle_file(str(big)), api_name="/edit_base_from_upload")   # launch(max_file_size=...)


# ---- Style mixing --------------------------------------------------------------------------------
def test_mix_grid_layout_and_uploads(client, files):
    grid, info = client.predict("1, 2, 3", None, "10-11", [handle_file(files["rgb"])], 0.7, "coarse", "", 0,
                                api_name="/mix")
    width, height = 3 * 32 + 2, 3 * 32 + 18 + 2                    # cells upscaled ×3, a caption band under each
    assert _pixels(grid).shape == (4 * height + 2, 4 * width + 2, 3)   # header row + 3 destinations, blank + 3 sources
    assert "3 sources" in info and "3 destinations" in info and "[0, 1, 2, 3]" in info
    grid2, _ = client.predict("1, 2, 3", None, "10-11", [handle_file(files["rgb"])], 0.7, "custom", "4-7", 0,
                              api_name="/mix")
    assert np.abs(_pixels(grid) - _pixels(grid2)).max() > 0
    client.predict("1", None, "2, 3", None, 1.0, "paper rows", "", 0, api_name="/mix")


def test_mix_uploads_are_optional_and_counts_are_worded(client):
    """view_api() lists the mix uploads as optional (None works), and one source or destination
    is not "1 sources"."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/mix"]
    optional = {p["parameter_name"]: (p["parameter_has_default"], p["parameter_default"]) for p in api["parameters"]}
    assert optional["source_files"] == optional["destination_files"] == (True, None)
    grid, info = client.predict(source_seeds="1", destination_seeds="2", api_name="/mix")
    assert _pixels(grid).shape[0] > 32
    assert "1 source;" in info and "1 destination;" in info and "sources" not in info and "destinations" not in info


def test_mix_encodes_uploads_as_its_own_refine_steps_say(client, files):
    """Uploads in the grid are refined like the Encode tab's (they used to be encoder-only whatever
    Encode showed): the destination row of an upload is its Encode reconstruction."""
    upload = [handle_file(files["rgb"])]
    plain, info0 = client.predict("", upload, "3", None, 0.7, "coarse", "", 0, 0, "w+", api_name="/mix")
    refined, info = client.predict("", upload, "3", None, 0.7, "coarse", "", 0, 30, "w+", api_name="/mix")
    assert "the encoder alone" in info0 and "E(x) refined 30 steps in w+" in info
    encoded, _ = client.predict(upload, 30, "w+", api_name="/encode")
    top = _pixels(refined)[2:2 + 96:3, 2 + 98:2 + 98 + 96:3]                   # the source cell, ×3 upscaled
    assert np.abs(top - _pixels(encoded[0]["image"])[2:34, 36:68]).max() <= 1     # rendered in another batch
    assert np.abs(top - _pixels(plain)[2:2 + 96:3, 2 + 98:2 + 98 + 96:3]).max() > 8


@pytest.mark.parametrize("args, words", [
    (("1-9", None, "2", None, 0.7, "coarse", "", 0), ["Source seeds", "at most 8"]),
    (("a, b", None, "2", None, 0.7, "coarse", "", 0), ["source seeds", "could not read"]),
    (("", None, "2", None, 0.7, "coarse", "", 0), ["at least one source"]),
    (("1", None, "2", None, 0.7, "custom", "0-99", 0), ["out of range", "0-7"]),
    (("1", None, "2", None, 0.7, "fine", "", 0), ["selects no styles"]),          # 32 px has no 64 px styles
    (("1", None, "2", None, 0.7, "diagonal", "", 0), ["Styles to copy"]),
    (("1", None, "2", None, 5.0, "coarse", "", 0), ["ψ"]),
    (("1", None, "2-8", None, 0.7, "paper rows", "", 0), ["selects no styles"]),
])
def test_mix_range_checks(client, args, words):
    _error(lambda: client.predict(*args, api_name="/mix"), *words)


def test_mix_with_a_bad_upload(client, files):
    _error(lambda: client.predict("1", [handle_file(files["text"])], "2", None, 0.7, "coarse", "", 0,
                                  api_name="/mix"), "notes.txt")


# ---- Edit ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, layers, custom", [("SeFa", "all", ""), ("SeFa", "custom", "0-3"),
                                                    ("SeFa", "custom", "2,5"), ("GANSpace", "middle", ""),
                                                    ("learned", "all", "")])
def test_edit_methods(client, method, layers, custom):
    base, edited0, *_ = client.predict(5, 0.7, api_name="/edit_base_from_seed")
    *sliders, picker, info, edited = client.predict(method, layers, custom, 4, api_name="/directions")
    assert method in info and "Units: σ" in info
    assert np.array_equal(_pixels(edited), _pixels(base))
    moved = client.predict(method, layers, custom, 2.0, -1.5, *ZEROS[2:], api_name="/edit")
    assert np.abs(_pixels(moved) - _pixels(base)).max() > 0
    zero = client.predict(method, layers, custom, *ZEROS, api_name="/edit")
    assert np.array_equal(_pixels(zero), _pixels(base))


def test_directions_update_sliders(server, client):
    *sliders, picker, info, _ = client.predict("SeFa", "coarse", "", 3, api_name="/directions")
    assert [s["visible"] for s in sliders] == [True] * 3 + [False] * 7 and sliders[0]["info"].startswith("SeFa 1")
    assert "applied to styles [0, 1, 2, 3]" in info and "shipped with the model" in info
    assert [c[0] for c in picker["choices"]] == ["1", "2", "3"]
    *_, info, _ = client.predict("SeFa", "custom", "1-2", 3, api_name="/directions")
    assert "computed here" in info


def test_edit_reset_traversal_export(client, tmp_path):
    base, *_ = client.predict(11, 1.0, api_name="/edit_base_from_seed")
    alphas = [1.0, 0.0, -2.0] + ZEROS[3:]
    edited = client.predict("GANSpace", "all", "", *alphas, api_name="/edit")
    assert np.abs(_pixels(edited) - _pixels(base)).max() > 0
    *sliders, reset_image = client.predict(api_name="/reset")
    assert sliders == ZEROS and np.array_equal(_pixels(reset_image), _pixels(base))
    strip, gif = client.predict("GANSpace", "all", "", "2", 2.0, 5, *alphas, api_name="/traversal")
    assert _pixels(strip).shape == (2 + 96 + 18 + 2, 5 * 98 + 2, 3)      # frames ×3 with their α below
    with Image.open(gif) as animation:
        assert animation.format == "GIF" and animation.n_frames == 2 * 5 - 2
    exported = client.predict("GANSpace", "all", "", *alphas, api_name="/export")   # shown on first export
    assert exported["visible"] is True
    paths = {Path(p).name: Path(p) for p in exported["value"]}
    assert sorted(paths) == ["edit.json", "edited.png", "ganspace_directions.json", "ganspace_directions.safetensors"]
    assert np.array_equal(_pixels(str(paths["edited.png"])), _pixels(edited))
    edit = json.loads(paths["edit.json"].read_text())
    assert edit["alphas_sigma"][:3] == [1.0, 0.0, -2.0] and edit["method"] == "ganspace"
    assert edit["base"] == "the sample of seed 11 (no truncation)" and edit["styles"] == list(range(8))
    for name in ("ganspace_directions.json", "ganspace_directions.safetensors"):   # the client stores each apart
        (tmp_path / name).write_bytes(paths[name].read_bytes())
    from alae_hf.latent.directions import Directions

    loaded = Directions.load_from(tmp_path / "ganspace_directions")
    assert loaded.method == "ganspace" and loaded.latent_size == 32


@pytest.mark.parametrize("endpoint, args, words", [
    ("/edit", ("SeFa", "all", "", 99.0, *ZEROS[1:]), ["Slider 1", "[-5, 5]"]),
    ("/edit", ("magic", "all", "", *ZEROS), ["Method"]),
    ("/edit", ("SeFa", "custom", "zero-three", *ZEROS), ["could not parse"]),
    ("/edit", ("SeFa", "custom", "", *ZEROS), ["custom styles"]),
    ("/directions", ("SeFa", "all", "", 11), ["Number of sliders"]),
    ("/traversal", ("SeFa", "all", "", "12", 3.0, 7, *ZEROS), ["Direction"]),
    ("/traversal", ("SeFa", "all", "", "1", 3.0, 100, *ZEROS), ["Frames"]),
    ("/edit_base_from_seed", (-5, 0.7), ["Seed"]),
    ("/edit_base_from_upload", (None,), ["Upload an image first"]),
])
def test_edit_range_checks(client, endpoint, args, words):
    _error(lambda: client.predict(*args, api_name=endpoint), *words)


# ---- Model ---------------------------------------------------------------------------------------
def test_bad_models_keep_the_current_one(client, models, tmp_path):
    not_a_model = tmp_path / "other"
    not_a_model.mkdir()
    (not_a_model / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel"}))
    cases = [(str(tmp_path / "missing"), ["not a folder"]),
             ("nobody/no-such-alae-model", ["not a local folder", "could not download"]),
             (str(not_a_model), ["UNet2DModel", "not a StyleALAE"]), (str(tmp_path), ["not a StyleALAE folder"])]
    for source, words in cases:
        message = _error(lambda: client.predict(source, api_name="/load_model"), *words)
        assert "Still using m32 (local folder)" in message
        status, info, _ = client.predict(api_name="/model_info")
        assert "m32 (local folder)" in status
    gallery, _ = client.predict(0, 1, 0.7, 8, "fixed seed", 0, api_name="/sample")
    assert _pixels(gallery[0]["image"]).shape == (32, 32, 3)


def test_public_app_loads_no_server_folders(models, tmp_path):
    """--public / a Space: only Hub repo ids and bundled models; server folders are never probed."""
    demo, url = launch(models["m32"], public=True)
    try:
        client = Client(url, verbose=False)
        for source in (str(models["m16"]), "/etc", "../m16", str(tmp_path)):
            message = _error(lambda: client.predict(source, api_name="/load_model"), "not server folders")
            assert "Still using m32 (local folder)" in message and "/etc/" not in message
        _error(lambda: client.predict("nobody/no-such-alae-model", api_name="/load_model"), "could not download")
    finally:
        demo.close()


def test_switching_models_is_per_session(server, models, files):
    first, second = Client(server[1], verbose=False), Client(server[1], verbose=False)
    status, info, card, methods, layers, k, mix_layers, cutoff, base, edited, *rest = first.predict(
        str(models["m16"]), api_name="/load_model")
    *sliders, picker, edit_info = rest
    assert "16 px" in status and "| `resolution` | 16 |" in info
    assert _pixels(base).shape == (16, 16, 3) and "SeFa" in edit_info
    assert [s["value"] for s in sliders] == ZEROS and [s["visible"] for s in sliders] == [True] * 5 + [False] * 5
    assert sliders[0]["info"].startswith("SeFa 1 · effect not measured · ±")    # no evaluation report
    assert all(1.0 <= s["maximum"] <= 5.0 and s["minimum"] == -s["maximum"] for s in sliders[:5])
    assert [c[0] for c in mix_layers["choices"]] == ["coarse", "middle", "all", "custom"]   # no fine: no paper rows
    assert [c[0] for c in methods["choices"]] == ["SeFa", "GANSpace"]        # no learned directions shipped
    assert [c[0] for c in layers["choices"]] == ["all", "coarse", "middle", "custom"]
    assert cutoff["maximum"] == 6
    gallery, _ = first.predict(0, 2, 0.7, 6, "fixed seed", 0, api_name="/sample")
    assert _pixels(gallery[0]["image"]).shape == (16, 16, 3)
    gallery, _ = first.predict([handle_file(files["rgb"])], api_name="/encode")
    assert _pixels(gallery[0]["image"]).shape == (20, 38, 3)
    _error(lambda: first.predict("learned", "all", "", *ZEROS, api_name="/edit"), "Method")
    gallery, _ = second.predict(0, 1, 0.7, 8, "fixed seed", 0, api_name="/sample")
    assert _pixels(gallery[0]["image"]).shape == (32, 32, 3)            # the other session is unaffected
    status, *_ = first.predict("", api_name="/load_model")                 # empty -> the default again
    assert "m32 (local folder)" in status


def test_build_app_refuses_a_missing_model(tmp_path):
    from alae_hf.app import server, ui

    with pytest.raises(OSError, match="not a StyleALAE folder"):
        ui.build_app(tmp_path)
    assert "bundled default checkpoint is missing" in server.missing_default_message(tmp_path / "nope")


# ---- the Space ---------------------------------------------------------------------------------
def test_space_entry_point_and_upload(models, tmp_path, monkeypatch):
    """The root app.py is the Space's entry point: on a Space (SPACE_ID) the app is public and
    takes its model and device from the environment; the upload vendors the package."""
    import yaml

    from alae_hf.app import server

    assert not (ROOT / "spaces" / "__init__.py").exists()       # it would shadow the `spaces` library
    assert not (ROOT / "spaces" / "app.py").exists()            # one entry point: the root app.py
    front = yaml.safe_load((ROOT / "spaces" / "README.md").read_text().split("---")[1])
    assert front["sdk"] == "gradio" and front["sdk_version"] == "6.31.0" and front["app_file"] == "app.py"
    assert front["python_version"] == "3.11" and front["models"] and len(front["short_description"]) <= 60
    assert "gradio" not in (ROOT / "spaces" / "requirements.txt").read_text().split("#")[-1]
    assert server.gpu_decorator()(len) is len or hasattr(sys.modules.get("spaces"), "GPU")
    monkeypatch.setenv("ALAE_MODEL", str(models["m16"]))
    monkeypatch.setenv("SPACE_ID", "someone/alae-demo")
    monkeypatch.delenv("ALAE_DEVICE", raising=False)
    args = server.parse_args([])
    assert args.public and args.device == "cpu" and args.model == str(models["m16"])
    demo = server.build_from_args(args)
    assert {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"} == {e[1:] for e in ENDPOINTS}
    assert demo.alae_context.default_key == str(models["m16"]) and demo.alae_context.public
    out = tmp_path / "space"
    done = subprocess.run([sys.executable, str(ROOT / "spaces" / "prepare_upload.py"), "--out", str(out),
                           "--no-checkpoint"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == {"app.py", "alae_hf", "README.md", "requirements.txt"}
    assert (out / "app.py").read_text() == (ROOT / "app.py").read_text()
    assert (out / "alae_hf" / "app" / "ui.py").is_file() and (out / "alae_hf" / "editing" / "edits.py").is_file()
    assert not list(out.rglob("__pycache__"))


def test_mlp_app_endpoints_are_named_typed_and_described():
    """The MLP ALAE's app: no `/lambda_N` endpoints or `param_N` names; sliders are slider_1..5."""
    from gradio_client.utils import sanitize_parameter_names

    from alae_hf.app.api import DESCRIPTIONS

    model = ROOT / "checkpoints" / "alae-digits-mlp"
    if not (model / "config.json").is_file():
        pytest.skip("the bundled MLP checkpoint is missing")
    demo, url = launch(model)
    try:
        api = Client(url, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"]
    finally:
        demo.close()
    assert {e: [p["parameter_name"] for p in info["parameters"]] for e, info in api.items()} == {
        "/mlp_sample": ["seed", "n", "psi"], "/mlp_reconstruct": ["files"],
        "/mlp_edit": ["seed", "method", "psi", *[f"slider_{i}" for i in range(1, 6)]],
        "/mlp_interpolate": ["seed_a", "seed_b", "steps", "psi"]}
    assert {e: [sanitize_parameter_names(r["label"]) for r in info["returns"]] for e, info in api.items()} == {
        "/mlp_sample": ["samples"], "/mlp_reconstruct": ["reconstructions"], "/mlp_edit": ["sample_and_edit"],
        "/mlp_interpolate": ["interpolation"]}
    assert all(info["description"] == DESCRIPTIONS[e[1:]] for e, info in api.items())
    types = {p["parameter_name"]: p["python_type"]["type"] for info in api.values() for p in info["parameters"]}
    assert types["n"] == types["steps"] == types["seed"] == "int"


def test_help_says_which_models_the_app_opens(capsys):
    """`app.py --help` says --model takes StyleALAE and MLP ALAE folders, bundled names and Hub ids."""
    from alae_hf.app.server import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "a StyleALAE or MLP ALAE model: a folder, a bundled model's name" in text and "Hub repo id" in text
