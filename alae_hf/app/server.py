"""Starting the app: command line and environment (a Space's SPACE_ID, ALAE_MODEL, ALAE_DEVICE,
GRADIO_SERVER_NAME/PORT), ZeroGPU's `spaces.GPU`, serving threads and `launch()` options.

    python app.py [--model DIR_OR_REPO_ID] [--public] [--device cuda] [--port 7860]
    python -m alae_hf.app ...            # the same

The root `app.py` (a few lines that call `main`) is also the Hugging Face Space's entry point.
gradio, torch and the UI are imported after the command line is parsed, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gradio as gr


def launch_options(
    host: str | None = "127.0.0.1", port: int | None = None, share: bool = False
) -> dict[str, Any]:
    """`launch()` arguments (theme/css go to launch in Gradio 6). host/port None: gradio reads
    GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (a Space sets them), else 127.0.0.1 and 7860+."""
    from .components import COMMIT_ON_ENTER_JS
    from .ui import CSS, MAX_FILE_SIZE

    return {
        "server_name": host,
        "server_port": port,
        "share": share,
        "ssr_mode": False,
        "max_file_size": MAX_FILE_SIZE,
        "show_error": False,
        "css": CSS,
        "js": COMMIT_ON_ENTER_JS,
    }


def serving_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads for serving: by default CPU cores / concurrency limit.

    Requests already run CONCURRENCY at a time; more threads per request only oversubscribe, and
    when a co-tenant holds a core, two spinning threads on a 2-core box turned a 14 ms slider edit
    into ~770 ms (64 px model, measured with bench/app_latency.py's direct calls)."""
    import torch

    from .ui import CONCURRENCY

    threads = threads or max(1, (os.cpu_count() or 1) // CONCURRENCY)
    torch.set_num_threads(threads)
    return threads


def default_model() -> Path:
    """The bundled default model's folder (`alae_hf.app.ui.DEFAULT_MODEL`)."""
    from .ui import DEFAULT_MODEL

    return DEFAULT_MODEL


def missing_default_message(path: Path | None = None) -> str:
    path = path or default_model()
    return (
        f"The bundled default checkpoint is missing: {path} does not exist (it is produced by training; see "
        "README.md). Start the app on another model with `python app.py --model DIR_OR_HUB_REPO_ID` "
        "or set ALAE_MODEL."
    )


def gpu_decorator() -> Callable[[Callable], Callable]:
    """`spaces.GPU` (ZeroGPU) if the installed `spaces` library has it, else the identity.

    From a checkout without the PyPI `spaces` package, `import spaces` may resolve to the
    repository's `spaces/` folder as a namespace package, which has no `GPU`."""
    from .components import identity

    try:
        import spaces
    except ImportError:
        return identity
    gpu = getattr(spaces, "GPU", None)
    return gpu if callable(gpu) else identity


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command line, with defaults from the environment (what a Space sets); the defaults that
    need torch or the UI (cuda or not, the bundled model's folder) are filled in after parsing."""
    on_space = bool(os.environ.get("SPACE_ID"))
    parser = argparse.ArgumentParser(
        description="Start the alae_hf Gradio app: the StyleALAE editor, or the MLP ALAE (digits) "
        "app when the model is an MLP ALAE."
    )
    parser.add_argument(
        "--model",
        default=os.environ.get("ALAE_MODEL"),
        help="a StyleALAE or MLP ALAE model: a folder, a bundled model's name (e.g. alae-digits-mlp) "
        "or a Hub repo id; the app for its kind opens (default: env ALAE_MODEL, else the bundled "
        "alae-synthetic-faces-64)",
    )
    parser.add_argument(
        "--host", default=None, help="interface (default: env GRADIO_SERVER_NAME, else 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port (default: env GRADIO_SERVER_PORT or 7860+)"
    )
    parser.add_argument(
        "--share", action="store_true", help="create a public gradio.live link (off by default)"
    )
    parser.add_argument(
        "--public",
        action="store_true",
        default=on_space,
        help="load only Hub repo ids and bundled models in the Model tab (on by default on a Space)",
    )
    parser.add_argument(
        "--device",
        default=os.environ.get("ALAE_DEVICE") or ("cpu" if on_space else None),
        help="torch device (default: env ALAE_DEVICE, else cuda when available; cpu on a Space)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: CPU cores / the app's concurrent requests, at least 1)",
    )
    args = parser.parse_args(argv)
    args.model = args.model or str(default_model())
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    return args


def build_from_args(args: argparse.Namespace) -> gr.Blocks:
    """The app as `main` builds it: threads, device, `spaces.GPU` on cuda, public mode."""
    from .components import identity
    from .ui import DEFAULT_MODEL, build_app

    if Path(args.model) == DEFAULT_MODEL and not DEFAULT_MODEL.is_dir():
        raise FileNotFoundError(missing_default_message())
    serving_threads(args.threads)
    gpu = gpu_decorator() if str(args.device).startswith("cuda") else identity
    return build_app(args.model, device=args.device, gpu=gpu, public=args.public)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        demo = build_from_args(args)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    except (OSError, ValueError) as err:
        print(f"Could not load the model {args.model!r}: {err}", file=sys.stderr)
        return 2
    port = args.port or (
        int(os.environ["GRADIO_SERVER_PORT"]) if os.environ.get("GRADIO_SERVER_PORT") else None
    )
    demo.launch(**launch_options(args.host, port, args.share))
    return 0
