#!/usr/bin/env python3
"""The small query right after a heavy one, on two servers scraping the same targets (issue 21).

The peers' harness times each query --runs times in a row and runs the seed's list in order,
so a small query that follows a heavy one is timed while whatever the heavy one left behind
(memory being freed or returned to the kernel, threads winding down) is still going on. Here,
round after round, alternating which server goes first, each server answers:

  the heavy query (instant, or range with --heavy-kind range), then the small query three
  times at once ("after", as the harness would time it), then, after a pause, the small
  query three times again ("rested").

It prints the median of each position over the rounds for both servers. By default the two
servers are Sightline and Prometheus 2.42; --against BIN makes it an A/B of two Sightline
builds (environment for each with --env-a / --env-b, e.g. MIMALLOC_PURGE_DELAY=600000).
Everything listens on 127.0.0.1; every wait is bounded; everything started is stopped.

  tests/bench/after-heavy.py [--sightline BIN] [--against BIN] [-K 10] [-M 10000]
                             [--scrape-interval 2s] [--warmup 150] [--rounds 8]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

from benchlib import SEED_QUERIES, start_app_targets, stop_all, wait_ready, write_scrape_config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


CONNS: dict[int, http.client.HTTPConnection] = {}


def query(port: int, expr: str, kind: str, start: float, end: float, step: str) -> float:
    """Times one query on a kept-alive connection, as the peers' harness sends them."""
    conn = CONNS.get(port)
    if conn is None:
        conn = CONNS[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    if kind == "range":
        path = "/api/v1/query_range?" + urllib.parse.urlencode(
            {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": step})
    else:
        path = "/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{end:.3f}"})
    t0 = time.perf_counter()
    conn.request("GET", path)
    body = conn.getresponse().read()
    ms = (time.perf_counter() - t0) * 1000.0
    doc = json.loads(body)
    if doc.get("status") != "success":
        raise SystemExit(f":{port} {expr}: {doc}")
    return ms


def env_of(pairs: list[str]) -> dict:
    env = dict(os.environ)
    for p in pairs:
        k, _, v = p.partition("=")
        env[k] = v
    return env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_bin = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "sightline"
    ap.add_argument("--sightline", default=str(default_bin))
    ap.add_argument("--against", help="a second Sightline binary instead of Prometheus")
    ap.add_argument("--prometheus", default="prometheus")
    ap.add_argument("--env-a", action="append", default=[], help="KEY=VALUE for --sightline")
    ap.add_argument("--env-b", action="append", default=[], help="KEY=VALUE for the other server")
    ap.add_argument("-K", "--targets", type=int, default=10)
    ap.add_argument("-M", "--series-per-target", type=int, default=10000)
    ap.add_argument("--scrape-interval", default="2s")
    ap.add_argument("--warmup", type=float, default=150)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--pause", type=float, default=1.5, help="seconds between 'after' and 'rested'")
    ap.add_argument("--heavy", default=SEED_QUERIES[-1])
    ap.add_argument("--heavy-kind", default="instant", choices=["instant", "range"])
    ap.add_argument("--small", default=SEED_QUERIES[0])
    ap.add_argument("--small-kind", default="range", choices=["instant", "range"])
    ap.add_argument("--step", default="15s")
    ap.add_argument("--target-port", type=int, default=19500)
    ap.add_argument("--logs", help="a directory to copy both servers' logs to at the end")
    args = ap.parse_args()
    for b in [args.sightline] + ([args.against] if args.against else []):
        if not Path(b).is_file():
            raise SystemExit(f"no Sightline binary at {b}")
    if not args.against and shutil.which(args.prometheus) is None:
        raise SystemExit("prometheus not installed (apt-get install prometheus)")

    work = Path(tempfile.mkdtemp(prefix="after-heavy-"))
    procs: list[subprocess.Popen] = []
    try:
        procs.append(start_app_targets(args.targets, args.series_per_target, args.target_port,
                                       args.warmup + args.rounds * 120 + 300))
        cfg = work / "prometheus.yml"
        write_scrape_config(cfg, args.scrape_interval, args.targets, args.target_port)
        (work / "plugins").mkdir()
        a_port, b_port = args.target_port - 2, args.target_port - 1
        common = [f"--config.file={cfg}", "--log.level=warn"]
        a = subprocess.Popen(
            [args.sightline, "serve", f"--storage.tsdb.path={work / 'a'}", f"--plugins.dir={work / 'plugins'}",
             f"--web.listen-address=127.0.0.1:{a_port}"] + common,
            stdout=subprocess.DEVNULL, stderr=open(work / "a.log", "w"), env=env_of(args.env_a))
        procs.append(a)
        if args.against:
            b_cmd = [args.against, "serve", f"--plugins.dir={work / 'plugins'}"]
            b_name = "baseline"
        else:
            b_cmd = [args.prometheus]
            b_name = "Prometheus"
        b = subprocess.Popen(
            b_cmd + [f"--storage.tsdb.path={work / 'b'}", f"--web.listen-address=127.0.0.1:{b_port}"] + common,
            stdout=subprocess.DEVNULL, stderr=open(work / "b.log", "w"), env=env_of(args.env_b))
        procs.append(b)
        wait_ready(a_port, a)
        wait_ready(b_port, b)
        start = time.time()
        print(f"both ready; ingesting {args.warmup:.0f} s ({args.targets} x {args.series_per_target} series, "
              f"every {args.scrape_interval})", flush=True)
        time.sleep(args.warmup)
        servers = [("Sightline", a_port), (b_name, b_port)]
        res: dict = {}
        for r in range(args.rounds):
            for name, port in (servers if r % 2 == 0 else servers[::-1]):
                for p in procs:
                    if p.poll() is not None:
                        raise SystemExit(f"a process exited during the run (see {work})")
                end = time.time()
                beg = end - min(args.warmup, 3600)
                t = lambda e, k: query(port, e, k, beg, end, args.step)  # noqa: E731
                res.setdefault((name, "heavy"), []).append(t(args.heavy, args.heavy_kind))
                after = [t(args.small, args.small_kind) for _ in range(3)]
                time.sleep(args.pause)
                rested = [t(args.small, args.small_kind) for _ in range(3)]
                for i in range(3):
                    res.setdefault((name, f"after #{i + 1}"), []).append(after[i])
                    res.setdefault((name, f"rested #{i + 1}"), []).append(rested[i])
                res.setdefault((name, "after, median of 3"), []).append(statistics.median(after))
                res.setdefault((name, "rested, median of 3"), []).append(statistics.median(rested))
            print(f"round {r + 1}/{args.rounds} done", flush=True)
        print(f"\nheavy: `{args.heavy}` ({args.heavy_kind}); small: `{args.small}` ({args.small_kind}); "
              f"{time.time() - start:.0f} s of data; medians over {args.rounds} rounds, ms\n")
        print(f"| position | Sightline | {b_name} | ratio |\n|---|---|---|---|")
        for pos in ["heavy"] + [f"after #{i}" for i in (1, 2, 3)] + ["after, median of 3"] + \
                [f"rested #{i}" for i in (1, 2, 3)] + ["rested, median of 3"]:
            x, y = statistics.median(res[("Sightline", pos)]), statistics.median(res[(b_name, pos)])
            print(f"| {pos} | {x:.2f} | {y:.2f} | {x / y:.2f}x |")
    finally:
        stop_all(procs)
        if args.logs:
            Path(args.logs).mkdir(parents=True, exist_ok=True)
            for f in ("a.log", "b.log"):
                if (work / f).is_file():
                    shutil.copy(work / f, Path(args.logs) / f)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
