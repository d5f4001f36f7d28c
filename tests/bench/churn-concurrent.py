#!/usr/bin/env python3
"""Series creation and churn: Sightline and Prometheus 2.42 scraping the same churning targets at once.

Both servers scrape the same targets (tests/tools/churn_target.py: K targets x M series in pods
that are replaced every --lifetime seconds), so whatever the shared machine does, it does to
both. Two phases:

1. Arrival. The targets start without churn: K x M new series reach both servers at their
   first scrapes. Measured per server: CPU from `/-/ready` until its head holds them all, per
   new series; RSS sampled every second, its peak during arrival against where it settles
   (the median of the last 5 samples of --settle seconds after arrival).
2. Churn. Pods are then replaced steadily (M / lifetime new series a second per target).
   Each round of --window seconds reads both processes' CPU (/proc/<pid>/stat) and their
   series-created counters: CPU per created series (all of the window's CPU, which also
   appends the window's samples, divided by the series it created) and the ratio.

Everything listens on 127.0.0.1; every wait is bounded; everything started is stopped and its
directory removed.

  tests/bench/churn-concurrent.py [--sightline BIN] [-K 10] [-M 10000] [--scrape-interval 15s]
                                  [--lifetime 300] [--settle 60] [--window 120] [--rounds 3]
                                  [--against OTHER_SIGHTLINE_BIN]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchlib import cpu_seconds, metric_sum, rss_bytes, stop_all, wait_healthy, wait_ready

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TARGETS = ROOT / "tests" / "tools" / "churn_target.py"


def interval_seconds(s: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60}
    for u in ("ms", "s", "m"):
        if s.endswith(u):
            return float(s[: -len(u)]) * units[u]
    return float(s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_bin = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "sightline"
    ap.add_argument("--sightline", default=str(default_bin))
    ap.add_argument("--prometheus", default="prometheus")
    ap.add_argument("-K", "--targets", type=int, default=10)
    ap.add_argument("-M", "--series-per-target", type=int, default=10000)
    ap.add_argument("--series-per-pod", type=int, default=20)
    ap.add_argument("--scrape-interval", default="15s")
    ap.add_argument("--lifetime", type=float, default=300, help="seconds a pod lives once churn starts")
    ap.add_argument("--settle", type=float, default=60, help="seconds after arrival to find where RSS settles")
    ap.add_argument("--arrival-limit", type=float, default=600, help="seconds the arrival may take")
    ap.add_argument("--window", type=float, default=120, help="seconds per churn round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--target-port", type=int, default=19400)
    ap.add_argument("--against", help="a second Sightline binary to compare with instead of Prometheus")
    args = ap.parse_args()
    if not Path(args.sightline).is_file():
        raise SystemExit(f"no Sightline binary at {args.sightline} (cargo build --release -p sightline-daemon)")
    if args.against is None and shutil.which(args.prometheus) is None:
        raise SystemExit("prometheus not installed (apt-get install prometheus)")

    interval = interval_seconds(args.scrape_interval)
    expected = args.targets * args.series_per_target
    work = Path(tempfile.mkdtemp(prefix="churn-concurrent-"))
    procs: list[subprocess.Popen] = []
    try:
        # Churn starts when this script asks for it, after arrival and settling.
        total = args.arrival_limit + args.settle + args.rounds * args.window + 600
        procs.append(subprocess.Popen(
            [sys.executable, str(TARGETS), "--targets", str(args.targets),
             "--series-per-target", str(args.series_per_target),
             "--series-per-pod", str(args.series_per_pod), "--lifetime", str(args.lifetime),
             "--churn-after", "-1",
             "--port", str(args.target_port), "--max-seconds", str(int(total))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_healthy(args.target_port, procs[-1])
        targets = [f"127.0.0.1:{args.target_port + i}" for i in range(args.targets)]
        cfg = work / "prometheus.yml"
        cfg.write_text(
            f"global: {{scrape_interval: {args.scrape_interval}, scrape_timeout: {args.scrape_interval}}}\n"
            "scrape_configs:\n  - job_name: churn\n    static_configs:\n"
            f"      - targets: [{', '.join(repr(t) for t in targets)}]\n")
        (work / "plugins").mkdir()
        base_port, sl_port = args.target_port - 2, args.target_port - 1
        if args.against:
            base_cmd = [args.against, "serve", f"--plugins.dir={work / 'plugins'}"]
            base_name, base_prefix = "baseline", "sightline_tsdb_"
        else:
            base_cmd = [args.prometheus, "--storage.tsdb.retention.time=1d"]
            base_name, base_prefix = "Prometheus", "prometheus_tsdb_"
        base = subprocess.Popen(
            base_cmd + [f"--config.file={cfg}", f"--storage.tsdb.path={work / 'base'}",
                        f"--web.listen-address=127.0.0.1:{base_port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(work / "base.log", "w"))
        procs.append(base)
        sl = subprocess.Popen(
            [args.sightline, "serve", f"--config.file={cfg}", f"--storage.tsdb.path={work / 'sl'}",
             f"--web.listen-address=127.0.0.1:{sl_port}", f"--plugins.dir={work / 'plugins'}",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(work / "sightline.log", "w"))
        procs.append(sl)
        servers = {base_name: (base, base_port, base_prefix), "Sightline": (sl, sl_port, "sightline_tsdb_")}
        ready_cpu = {}
        for name, (p, port, _) in servers.items():
            wait_ready(port, p)
            ready_cpu[name] = cpu_seconds(p.pid)
        print(f"both ready; {args.targets} x {args.series_per_target} series arriving "
              f"(scrape every {args.scrape_interval})", flush=True)

        # Phase 1: arrival.
        arrived: dict[str, tuple[float, float]] = {}
        rss_trace: dict[str, list[tuple[float, int]]] = {n: [] for n in servers}
        deadline = time.time() + args.arrival_limit
        settle_end: float | None = None
        while True:
            now = time.time()
            for name, (p, port, prefix) in servers.items():
                if p.poll() is not None:
                    raise SystemExit(f"{name} exited during arrival")
                rss_trace[name].append((now, rss_bytes(p.pid)))
                if name not in arrived:
                    try:
                        head = metric_sum(port, prefix + "head_series")
                    except (OSError, RuntimeError):
                        continue
                    if head >= expected:
                        arrived[name] = (now, cpu_seconds(p.pid))
            if len(arrived) == len(servers) and settle_end is None:
                settle_end = now + args.settle
            if settle_end is not None and now >= settle_end:
                break
            if settle_end is None and now > deadline:
                raise SystemExit(f"series did not arrive within {args.arrival_limit} s: {arrived}")
            time.sleep(1.0)
        print(f"\n| arrival of {expected:,} series | {base_name} | Sightline | ratio |\n|---|---|---|---|")
        rows = {}
        for name, (p, port, prefix) in servers.items():
            t_arr, cpu_arr = arrived[name]
            per_series = (cpu_arr - ready_cpu[name]) * 1e6 / expected
            trace = rss_trace[name]
            settled = statistics.median(r for _, r in trace[-5:])
            peak = max(r for _, r in trace)
            rows[name] = (per_series, peak, settled, peak / settled)
        b, s = rows[base_name], rows["Sightline"]
        print(f"| CPU per new series until all arrived (µs) | {b[0]:.2f} | {s[0]:.2f} | {s[0] / b[0]:.2f}x |")
        print(f"| peak RSS during arrival (MiB) | {b[1] / 2**20:.0f} | {s[1] / 2**20:.0f} | {s[1] / b[1]:.2f}x |")
        print(f"| settled RSS (MiB) | {b[2] / 2**20:.0f} | {s[2] / 2**20:.0f} | {s[2] / b[2]:.2f}x |")
        print(f"| peak / settled | {b[3]:.2f} | {s[3]:.2f} | |", flush=True)

        # Phase 2: churn.
        with urllib.request.urlopen(f"http://127.0.0.1:{args.target_port}/-/churn", timeout=10):
            pass
        pods = max(1, args.series_per_target // args.series_per_pod)
        print(f"\nchurn started: a pod of {args.series_per_pod} series replaced every "
              f"{args.lifetime / pods:.2f} s in each target; first round after {2 * interval:.0f} s", flush=True)
        time.sleep(2 * interval)
        print(f"\n| round | {base_name} µs/new series | Sightline µs/new series | ratio | new series "
              f"{base_name} / Sightline | RSS/series {base_name} | RSS/series Sightline |\n|---|---|---|---|---|---|---|")
        ratios = []
        for r in range(args.rounds):
            start = {n: (cpu_seconds(p.pid), metric_sum(port, pre + "head_series_created_total"))
                     for n, (p, port, pre) in servers.items()}
            time.sleep(args.window)
            per, created, rss = {}, {}, {}
            for n, (p, port, pre) in servers.items():
                if p.poll() is not None:
                    raise SystemExit(f"{n} exited during churn")
                c0, s0 = start[n]
                c1, s1 = cpu_seconds(p.pid), metric_sum(port, pre + "head_series_created_total")
                created[n] = s1 - s0
                per[n] = (c1 - c0) * 1e6 / max(1.0, s1 - s0)
                rss[n] = rss_bytes(p.pid) / metric_sum(port, pre + "head_series")
            ratio = per["Sightline"] / per[base_name]
            ratios.append(ratio)
            print(f"| {r + 1} | {per[base_name]:.2f} | {per['Sightline']:.2f} | {ratio:.2f}x | "
                  f"{created[base_name]:.0f} / {created['Sightline']:.0f} | {rss[base_name]:.0f} | "
                  f"{rss['Sightline']:.0f} |", flush=True)
        print(f"\nmedian ratio of CPU per new series over {args.rounds} rounds of {args.window:.0f} s: "
              f"{statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}x)")
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
