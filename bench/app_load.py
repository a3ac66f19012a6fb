"""Concurrent users against a locally launched app — a benchmark, not a test.

Starts `python app.py --model DIR --port P` in a subprocess (so clients and server do not share a
GIL), then N gradio_client users each send M requests in a loop over the hot endpoints (slider
edit, sample, encode, mix), and reports errors (target: none) and latency percentiles per
endpoint and overall. The app's queue (max_size, default_concurrency_limit) is what is exercised.

    python bench/app_load.py                          # 4 users x 10 requests, bundled default or stand-in
    python bench/app_load.py --users 8 --requests 20 --model DIR

Writes bench/results/app_load.json and prints a table, with the CPU seconds per request spent in
the server and in the clients: where the time goes.

Measured (bundled default, 2-core box at load average ~10 from co-tenants, 2026-11-30):
1 user x 20: 1.74 req/s, wall 0.57 s/request, CPU 0.083 s server + 0.119 s clients per request;
8 users x 10: 1.81 req/s, wall 0.55 s/request, CPU 0.063 s server + 0.125 s clients per request;
8 users with concurrency 4 instead of 2: 1.91 req/s. Direct handler times (no HTTP): edit 39 ms,
sample (4 images) 112 ms, encode 105 ms, mix 252 ms. So the server needs ~0.07 CPU s per request
(mostly the model; more concurrency changes nothing), the gradio_client users twice that, and the
two processes together got ~0.35 of a core: on that box throughput is bounded by the CPU share,
not by the app's queue. On a quiet 2-core machine the same per-request costs allow ~2 / 0.07 ≈ 28
server requests/s, so 8 users are limited by their own clients' CPU, not by queueing.
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
        "users": args.users, "requests_per_user": args.requests, "wall_s": round(wall, 2),
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
