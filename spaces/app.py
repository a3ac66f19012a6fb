"""Hugging Face Space entry point for the alae_hf demo.

Loads the UI (`build_app` in the repository's app.py, shipped as `alae_app.py` by
spaces/prepare_upload.py) and starts it on the model in env `ALAE_MODEL` (default: the bundled
checkpoint). Runs on CPU unless `ALAE_DEVICE=cuda`; then the model calls are wrapped in
`spaces.GPU` when the `spaces` library provides it (ZeroGPU), and left alone otherwise.

    python spaces/app.py                 # locally, from a checkout: http://127.0.0.1:7860
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

HERE = Path(__file__).resolve().parent


def load_ui() -> ModuleType:
    """The UI module: `alae_app.py` next to this file (a prepared upload) or the checkout's app.py.

    Loaded by path under another name: `import app` would find this very file."""
    for candidate in (HERE / "alae_app.py", HERE.parent / "app.py"):
        if candidate.is_file():
            if str(candidate.parent) not in sys.path:
                sys.path.insert(0, str(candidate.parent))  # so that `import alae_hf` finds the package beside it
            spec = importlib.util.spec_from_file_location("alae_app", candidate)
            module = importlib.util.module_from_spec(spec)
            sys.modules["alae_app"] = module
            spec.loader.exec_module(module)
            return module
    raise ImportError(f"no alae_app.py next to {__file__} and no app.py in {HERE.parent}: "
                      "run spaces/prepare_upload.py to build the upload")


def gpu_decorator() -> Callable[[Callable], Callable]:
    """`spaces.GPU` if the installed `spaces` library has it, else the identity.

    From a checkout without the PyPI `spaces` package, `import spaces` may resolve to this very
    folder as a namespace package, which has no `GPU`."""
    try:
        import spaces
    except ImportError:
        return lambda fn: fn
    gpu = getattr(spaces, "GPU", None)
    return gpu if callable(gpu) else (lambda fn: fn)


def build() -> tuple[ModuleType, object]:
    """(UI module, gr.Blocks) for the model in ALAE_MODEL or the bundled default."""
    ui = load_ui()
    model = os.environ.get("ALAE_MODEL") or ui.DEFAULT_MODEL
    if Path(model) == ui.DEFAULT_MODEL and not ui.DEFAULT_MODEL.is_dir():
        raise SystemExit(ui.missing_default_message())
    device = os.environ.get("ALAE_DEVICE", "cpu")
    gpu = gpu_decorator() if device.startswith("cuda") else (lambda fn: fn)
    ui.serving_threads()
    return ui, ui.build_app(model, device=device, gpu=gpu)


if __name__ == "__main__":
    ui, demo = build()
    # Spaces set GRADIO_SERVER_NAME=0.0.0.0 and the port; locally this stays on 127.0.0.1.
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    port = int(os.environ["GRADIO_SERVER_PORT"]) if os.environ.get("GRADIO_SERVER_PORT") else None
    demo.launch(**ui.launch_options(host, port))
