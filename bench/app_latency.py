"""Server-side latency of the app's hot paths — a benchmark, not a test.

Times a slider edit (`/edit`: cached base w+ and directions, one image), a sample (`/sample`,
8 images) and an encode (`/encode`, one 256x256 PNG upload: decode, crop, E, G, PSNR), twice:
calling the handler functions directly (what the server spends) and through gradio_client against
the app started with `python app.py` in a subprocess (adds queueing, PNG encoding, HTTP and the
client's download). `/model_info` (text only, no model call) gives the transport's floor.

    python bench/app_latency.py                       # bundled default, or a random stand-in of its shape
    python bench/app_latency.py --model DIR --reps 100

Target: p50 <= 100 ms for a slider edit on the project's 2-core CPU. Writes
bench/results/app_latency.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's `testing` helpers (not installed with the library)
# The bundled default's shape (bench/inference.py "app64"), used when the default is not there yet.
APP64 = dict(resolution=64, start_channels=32, max_channels=256, latent_size=256, mapping_layers=8)


def resolve_model(model: str | None, work: Path) -> tuple[str, str]:
    """(model path, description): the given one, the bundled default, or a random app64 stand-in."""
    from alae_hf.app.ui import DEFAULT_MODEL
    from testing.app import make_random_model

    if model:
        return model, model
    if DEFAULT_MODEL.is_dir():
        return str(DEFAULT_MODEL), DEFAULT_MODEL.name
    path = make_random_model(work / "app64", resolution=64, learned=False,
                                   **{k: v for k, v in APP64.items() if k != "resolution"})
    return str(path), "random stand-in with the default's shape (app64: 64 px, S32/M256/Z256, 8 mapping layers)"


def start_server(model: str, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--model", model, "--port", str(port)],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}; see {log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise TimeoutError(f"the app did not answer on port {port} within 120 s; see {log}")


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "mean_ms": round(float(ms.mean()), 2), "n": len(ms)}


def timed(call: Callable[[int], Any], reps: int, warmup: int = 3) -> dict[str, float]:
    for i in range(warmup):
        call(i)
    times = []
    for i in range(reps):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
    return percentiles(times)


def alphas(i: int) -> list[float]:
    """A different slider position each call (as a drag would send)."""
    return [round(((i * 0.37) % 6.0) - 3.0, 2), 1.0, -0.5] + [0.0] * 7


def direct(demo: Any, photo: str, reps: int) -> dict[str, dict[str, float]]:
    from alae_hf.app.state import new_session

    fns = {fn.api_name: fn.fn for fn in demo.fns.values()}
    session, *_ = fns["edit_base_from_seed"](new_session(demo.alae_context.default_key), 3, 0.7)
    fns["directions"](session, "SeFa", "all", "", 5)
    upload = {"path": photo, "orig_name": Path(photo).name}
    return {
        "edit": timed(lambda i: fns["edit"](session, "SeFa", "all", "", *alphas(i)), reps),
        "sample (8 images)": timed(lambda i: fns["sample"](session, i, 8, 0.7, 8, "fixed seed", 0), max(5, reps // 4)),
        "encode (1 image)": timed(lambda i: fns["encode"](session, [upload]), max(5, reps // 4)),
    }


def through_client(url: str, photo: str, reps: int) -> dict[str, dict[str, float]]:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    client.predict(3, 0.7, api_name="/edit_base_from_seed")
    client.predict("SeFa", "all", "", 5, api_name="/directions")
    return {
        "floor (/model_info)": timed(lambda i: client.predict(api_name="/model_info"), max(5, reps // 2)),
        "edit": timed(lambda i: client.predict("SeFa", "all", "", *alphas(i), api_name="/edit"), reps),
        "sample (8 images)": timed(lambda i: client.predict(i, 8, 0.7, 8, "image seed", 0, api_name="/sample"),
                                   max(5, reps // 4)),
        "encode (1 image)": timed(lambda i: client.predict([handle_file(photo)], 0, "w+", api_name="/encode"),
                                  max(5, reps // 4)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model folder or Hub id (default: bundled, else a stand-in)")
    parser.add_argument("--reps", type=int, default=60, help="slider edits timed (samples/encodes: a quarter)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for the direct calls (default: what `python app.py` uses)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "app_latency.json")
    args = parser.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from PIL import Image

    from alae_hf.app import server, ui
    from testing.app import free_port, input_images

    work = Path(tempfile.mkdtemp(prefix="alae_bench_"))
    server.serving_threads(args.threads)
    model, described = resolve_model(args.model, work)
    photo = str(input_images(work / "inputs")["rgb"].with_name("photo.png"))
    Image.open(input_images(work / "inputs")["rgb"]).resize((256, 256)).save(photo)
    demo = ui.build_app(model)
    results = {"direct": direct(demo, photo, args.reps)}
    port = free_port()
    server = start_server(model, port, work / "server.log")
    try:
        results["gradio_client"] = through_client(f"http://127.0.0.1:{port}", photo, args.reps)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report = {"model": described, "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
              "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
              "machine": platform.machine(), "torch": torch.__version__, "results": results,
              "target": "edit p50 <= 100 ms"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"model: {described}; torch threads {report['torch_threads']}; load average {report['load_average_1_5_15']}")
    print(f"{'path':<14} {'event':<20} {'p50 ms':>8} {'p95 ms':>8} {'n':>4}")
    for path, rows in results.items():
        for event, r in rows.items():
            print(f"{path:<14} {event:<20} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['n']:>4}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
