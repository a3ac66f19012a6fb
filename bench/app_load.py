"""Concurrent users against a locally launched app — a benchmark, not a test.

Starts `python app.py --model DIR --port P` in a subprocess (so clients and server do not share a
GIL), then N gradio_client users each send M requests in a loop over the hot endpoints (slider
edit, sample, encode, mix), and reports errors (target: none) and latency percentiles per
endpoint and overall. The app's queue (max_size, default_concurrency_limit) is what is exercised.

    python bench/app_load.py                          # 4 users x 10 requests, bundled default or stand-in
    python bench/app_load.py --users 8 --requests 20 --model DIR

Writes bench/results/app_load.json and prints a table, with the CPU seconds per request spent in
the server and in the clients: where the time goes.

Measured (bundled default, 2-core box shared with co-tenants at load average 7-12, 2026-11-30;
CPU seconds per request in server + clients):
  clients download every output image (as browsers do):
    1 user  x 20: 1.97 req/s, wall 0.51 s/request, CPU 0.077 + 0.112 s
    8 users x 10: 1.78 req/s, wall 0.56 s/request, CPU 0.068 + 0.132 s
    (8 users with concurrency 4 instead of 2: 1.91 req/s: the queue is not the limit)
  --no-download (server throughput):
    1 user  x 20: 2.42 req/s, wall 0.41 s/request, CPU 0.067 + 0.067 s
    8 users x 10: 3.49 req/s (+44 %), wall 0.29 s/request, CPU 0.058 + 0.077 s
Direct handler times (no HTTP): edit 32-39 ms, sample of 4 images 112 ms, encode 88-105 ms, mix
252 ms. Where the time goes: the server spends ~0.06-0.08 CPU s per request, mostly the model;
the gradio_client users spend more than the server, half of it downloading the output images
(one HTTP request per image: ~130 ms each at this load, e.g. an 8-image sample costs 1.35 s
through the client against 0.17 s in the handler). Without those downloads 8 users get 1.44x one
user's throughput; with them, the users' processes and the server share the same two
oversubscribed cores and throughput stays at the CPU share the box gives them. Batching samples
(`batch=True`) was not adopted: one refused request in a batch would fail the whole batch.
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
sys.path.insert(0, str(ROOT))  # the checkout's `testing` helpers (not installed with the library)
from app_latency import percentiles, resolve_model, start_server  # noqa: E402


def user(url: str, index: int, requests: int, photo: str, out: dict[str, list], errors: list,
         lock: threading.Lock, download: bool = True) -> None:
    """One gradio_client session sending `requests` requests round-robin over the hot endpoints."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, download_files=download)
    client.predict(index, 0.7, api_name="/edit_base_from_seed")
    calls = [
        ("edit", lambda i: client.predict("SeFa", "all", "", (i % 7) - 3.0, *[0.0] * 9, api_name="/edit")),
        ("sample", lambda i: client.predict(index * 100 + i, 4, 0.7, 8, "image seed", 0, api_name="/sample")),
        ("edit", lambda i: client.predict("GANSpace", "all", "", 1.5, (i % 5) - 2.0, *[0.0] * 8, api_name="/edit")),
        ("encode", lambda i: client.predict([handle_file(photo)], 0, "w+", api_name="/encode")),
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--requests", type=int, default=10, help="requests per user")
    parser.add_argument("--no-download", action="store_true",
                        help="clients do not download the output images (server throughput without the clients' "
                             "~one extra HTTP request per image)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "app_load.json")
    args = parser.parse_args()
    from testing.app import free_port, input_images

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
        threads = [threading.Thread(target=user, args=(url, u, args.requests, photo, latencies, errors, lock,
                                                            not args.no_download))
                   for u in range(args.users)]
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
    finally:
        server.terminate()
        server.wait(timeout=30)
    everything = [x for v in latencies.values() for x in v]
    report: dict[str, Any] = {
        "model": described, "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "users": args.users, "requests_per_user": args.requests, "clients_download_images": not args.no_download, "wall_s": round(wall, 2),
        "requests_ok": len(everything), "errors": len(errors), "error_messages": errors[:20],
        "throughput_rps": round(len(everything) / wall, 2),
        # Where the time goes: CPU seconds per request in the server (model + gradio) and in the
        # clients (gradio_client, in this process), against the wall time per request.
        "cpu_s_per_request": {"server": round(server_cpu / max(1, len(everything)), 3),
                              "clients": round(client_cpu / max(1, len(everything)), 3),
                              "wall": round(wall / max(1, len(everything)), 3)},
        "cpu_count": os.cpu_count(),
        "overall": percentiles(everything) if everything else {},
        "per_endpoint": {k: percentiles(v) for k, v in sorted(latencies.items())},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"model: {described}")
    print(f"{args.users} users x {args.requests} requests: {len(everything)} ok, {len(errors)} errors, "
          f"{wall:.1f} s wall, {report['throughput_rps']} req/s; CPU s per request: {report['cpu_s_per_request']}")
    print(f"{'endpoint':<10} {'p50 ms':>8} {'p95 ms':>8} {'n':>4}")
    for name, r in [*report["per_endpoint"].items(), ("overall", report["overall"])]:
        if r:
            print(f"{name:<10} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['n']:>4}")
    for message in errors[:5]:
        print("error:", message)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
