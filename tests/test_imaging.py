"""Image input without warnings: an upload read through PIL becomes a model tensor silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def test_loading_an_image_file_warns_about_nothing(tmp_path):
    """PIL hands out read-only arrays; torch warns once per process when it wraps one, so the check
    runs in a fresh interpreter with every warning turned into an error."""
    path = tmp_path / "face.png"
    Image.fromarray(np.arange(24 * 24 * 3, dtype=np.uint8).reshape(24, 24, 3)).save(path)
    code = ("import sys; from alae_hf.imaging import to_model_tensor; "
            "x = to_model_tensor(sys.argv[1], 16); assert x.shape == (1, 3, 16, 16), x.shape")
    done = subprocess.run([sys.executable, "-W", "error", "-c", code, str(path)], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_read_only_pixels_convert_exactly():
    from alae_hf.imaging import uint8_to_model

    pixels = np.array([[[[0], [255]], [[128], [1]]]], dtype=np.uint8)
    pixels.setflags(write=False)
    x = uint8_to_model(pixels, channels_last=True)
    assert x.shape == (1, 1, 2, 2) and x[0, 0, 0, 0] == -1 and x[0, 0, 0, 1] == 1
    assert not pixels.flags.writeable   # the caller's array is left as it was
