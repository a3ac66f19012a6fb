"""Concurrent users against a locally launched app — a benchmark, not a test.

Starts `python app.py --model DIR --port P` in a subprocess (so clients and server do not share a
GIL), then N gradio_client users each send M requests in a loop over the hot endpoints (slider
edit, sample, encode, mix), and reports errors (target: none) and latency percentiles per
endpoint and overall. The app's queue (max_size, default_concurrency_limit) is what is exercised.

    python bench/app_load.py                          # 4 users x 10 requests, bundled default or stand-in
    python bench/app_load.py --users 8 --requests 20 --model DIR

Writes bench/results/app_load.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from app_latency import percentiles, resolve_model, start_server  # noqa: E402


def user(url: str, index: int, requests: int, photo: str, out: dict[str, list], errors: list,
         lock: threading.Lock) -> None:
    """One gradio_client session sending `requests` requests round-robin over the hot endpoints."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    client.predict(index, 0.7, api_name="/edit_base_from_seed")
    calls = [
        ("edit", lambda i: client.predict("SeFa", "all", "", (i % 7) - 3.0, *[0.0] * 9, api_name="/edit")),
        ("sample", lambda i: client.predict(index * 100 + i, 4, 0.7, 8, "fixed seed", 0, api_name="/sample")),
        ("edit", lambda i: client.predict("GANSpace", "all", "", 1.5, (i % 5) - 2.0, *[0.0] * 8, api_name="/edit")),
        ("encode", lambda i: client.predict([handle_file(photo)], api_name="/encode")),
        ("mix", lambda i: client.predict(f"{i}, {i + 1}", None, "7, 8", None, 0.7, "coarse", "", 0, api_name="/mix")),
    ]
    for i in range(requests):
        name, call = calls[i % len(calls)]
        start = time.perf_counter()
        try:
            call(i)
            ok = True
        except Exception as err:  # noqa: BLE001 - every failure counts, whatever its class
            ok = False
            with lock:
                errors.append(f"user {index} request {i} ({name}): {type(err).__name__}: {err}")
        with lock:
            if ok:
                out[name].append(time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--requests", type=int, default=10, help="requests per user")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "app_load.json")
    args = parser.parse_args()
    from alae_hf.app.testing import free_port, input_images

    work = Path(tempfile.mkdtemp(prefix="alae_load_"))
    model, described = resolve_model(args.model, work)
    photo = str(input_images(work / "inputs")["rgb"])
    port = free_port()
    server = start_server(model, port, work / "server.log")
    url = f"http://127.0.0.1:{port}"
    latencies: dict[str, list] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    try:
        threads = [threading.Thread(target=user, args=(url, u, args.requests, photo, latencies, errors, lock))
                   for u in range(args.users)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    everything = [x for v in latencies.values() for x in v]
    report: dict[str, Any] = {
        "model": described, "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "users": args.users, "requests_per_user": args.requests, "wall_s": round(wall, 2),
        "requests_ok": len(everything), "errors": len(errors), "error_messages": errors[:20],
        "throughput_rps": round(len(everything) / wall, 2),
        "overall": percentiles(everything) if everything else {},
        "per_endpoint": {k: percentiles(v) for k, v in sorted(latencies.items())},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"model: {described}")
    print(f"{args.users} users x {args.requests} requests: {len(everything)} ok, {len(errors)} errors, "
          f"{wall:.1f} s wall, {report['throughput_rps']} req/s")
    print(f"{'endpoint':<10} {'p50 ms':>8} {'p95 ms':>8} {'n':>4}")
    for name, r in [*report["per_endpoint"].items(), ("overall", report["overall"])]:
        if r:
            print(f"{name:<10} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['n']:>4}")
    for message in errors[:5]:
        print("error:", message)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
