#!/usr/bin/env python3
"""Ingest CPU (and RSS per head series) of Sightline and Prometheus 2.42 measured at the same time.

The peers' harness (../shared/bench/prom_run.py) runs one server after the other; on a
shared machine the two runs can see different machines (Prometheus' own figure moved from
1.7 to 2.0 us a sample between runs minutes apart). Here both servers scrape the same
synthetic targets (tests/tools/targets.py) at once, so whatever the machine does, it
does to both. Each round reads both processes' CPU time (/proc/<pid>/stat, utime + stime)
and their samples-appended counters at the start and end of a window, and reports CPU
microseconds per appended sample and the ratio. Everything listens on 127.0.0.1; every wait
is bounded; everything started is stopped and its directory removed.

  tests/bench/cpu-concurrent.py [--sightline BIN] [-K 10] [-M 1000] [--window 120]
                                [--rounds 3] [--warmup 30] [--against OTHER_SIGHTLINE_BIN]

With --against, a second Sightline binary takes Prometheus' place: an A/B of two builds
under identical conditions (the ratio is --sightline / --against).

With --queries N, after the rounds both servers answer the peers' query list
(../shared/bench/prom_run.py in query-only mode, N runs a query, median) over the same
window of the same data, one server after the other, and each server's RSS is sampled every
0.2 s during its own pass (peak RSS with queries running). --query-rounds R repeats the
passes R times, alternating which server goes first, and reports each query's median over
the rounds with the range of its ratio.
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
from pathlib import Path

from benchlib import (cpu_seconds, metric_sum, rss_bytes, start_app_targets, stop_all, wait_ready,
                      write_scrape_config)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent










def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_bin = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "sightline"
    ap.add_argument("--sightline", default=str(default_bin))
    ap.add_argument("--prometheus", default="prometheus")
    ap.add_argument("-K", "--targets", type=int, default=10)
    ap.add_argument("-M", "--series-per-target", type=int, default=1000)
    ap.add_argument("--scrape-interval", default="1s")
    ap.add_argument("--window", type=float, default=120, help="seconds per measured round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=30, help="seconds before the first round")
    ap.add_argument("--target-port", type=int, default=19300)
    ap.add_argument("--against", help="a second Sightline binary to compare with instead of Prometheus")
    ap.add_argument("--queries", type=int, default=0,
                    help="runs a query for the query phase after the rounds (0: no query phase)")
    ap.add_argument("--range-step", default="15s", help="step of the query phase's range queries")
    ap.add_argument("--query-rounds", type=int, default=1,
                    help="query passes per server, alternating which goes first (median over them)")
    args = ap.parse_args()
    if not Path(args.sightline).is_file():
        raise SystemExit(f"no Sightline binary at {args.sightline} (cargo build --release -p sightline-daemon)")
    if args.against is None and shutil.which(args.prometheus) is None:
        raise SystemExit("prometheus not installed (apt-get install prometheus)")

    work = Path(tempfile.mkdtemp(prefix="cpu-concurrent-"))
    procs: list[subprocess.Popen] = []
    try:
        # The targets outlive the query phase: when they stop, every series goes stale at
        # once, and both servers write a stale marker for each (a million at 1 M series)
        # while the other server's queries are being timed.
        query_bound = args.query_rounds * 1800 if args.queries > 0 else 0
        targets = start_app_targets(args.targets, args.series_per_target, args.target_port,
                                    args.warmup + args.rounds * args.window + 120 + query_bound)
        procs.append(targets)
        cfg = work / "prometheus.yml"
        write_scrape_config(cfg, args.scrape_interval, args.targets, args.target_port)
        (work / "plugins").mkdir()
        prom_port, sl_port = args.target_port - 2, args.target_port - 1
        if args.against:
            base_cmd = [args.against, "serve", f"--plugins.dir={work / 'plugins'}"]
            base_name, base_metric = "baseline", "sightline_tsdb_samples_appended_total"
        else:
            base_cmd = [args.prometheus]
            base_name, base_metric = "Prometheus", "prometheus_tsdb_head_samples_appended_total"
        prom = subprocess.Popen(
            base_cmd + [f"--config.file={cfg}", f"--storage.tsdb.path={work / 'base'}",
                        f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(work / "base.log", "w"))
        procs.append(prom)
        sl = subprocess.Popen(
            [args.sightline, "serve", f"--config.file={cfg}", f"--storage.tsdb.path={work / 'sl'}",
             f"--web.listen-address=127.0.0.1:{sl_port}", f"--plugins.dir={work / 'plugins'}",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(work / "sightline.log", "w"))
        procs.append(sl)
        wait_ready(prom_port, prom)
        wait_ready(sl_port, sl)
        print(f"both ready; warming up {args.warmup:.0f} s ({args.targets} x {args.series_per_target} series, "
              f"every {args.scrape_interval})", flush=True)
        time.sleep(args.warmup)
        servers = [("prometheus", prom, prom_port, base_metric),
                   ("sightline", sl, sl_port, "sightline_tsdb_samples_appended_total")]
        series_metric = {"prometheus": "sightline_tsdb_head_series" if args.against
                         else "prometheus_tsdb_head_series",
                         "sightline": "sightline_tsdb_head_series"}
        ratios = []
        print(f"| round | {base_name} us/sample | Sightline us/sample | ratio | RSS/series {base_name} | "
              "RSS/series Sightline | ratio |\n|---|---|---|---|---|---|---|")
        for r in range(args.rounds):
            start = {n: (cpu_seconds(p.pid), metric_sum(port, m)) for n, p, port, m in servers}
            time.sleep(args.window)
            per, rss = {}, {}
            for n, p, port, m in servers:
                if p.poll() is not None:
                    raise SystemExit(f"{n} exited during the run")
                c0, s0 = start[n]
                c1, s1 = cpu_seconds(p.pid), metric_sum(port, m)
                per[n] = (c1 - c0) * 1e6 / (s1 - s0)
                rss[n] = rss_bytes(p.pid) / metric_sum(port, series_metric[n])
            ratio = per["sightline"] / per["prometheus"]
            ratios.append(ratio)
            print(f"| {r + 1} | {per['prometheus']:.3f} | {per['sightline']:.3f} | {ratio:.2f}x | "
                  f"{rss['prometheus']:.0f} | {rss['sightline']:.0f} | {rss['sightline'] / rss['prometheus']:.2f}x |",
                  flush=True)
        print(f"\nmedian ratio over {args.rounds} rounds of {args.window:.0f} s: {statistics.median(ratios):.2f}x "
              f"(range {min(ratios):.2f}-{max(ratios):.2f}x)")
        if args.queries > 0:
            query_phase(args, work, servers, base_name, time.time() - args.warmup - args.rounds * args.window)
            if targets.poll() is not None:
                raise SystemExit("the targets stopped before the query phase ended: the figures above "
                                 "include both servers marking every series stale")
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


def query_phase(args, work: Path, servers, base_name: str, start: float) -> None:
    """Both servers answer the peers' queries over the same window, one after the other.

    With --query-rounds N the passes repeat N times, alternating which server goes first, and
    each query's figure is the median over the rounds of its per-pass median: a single pass
    times each sub-millisecond query within a few milliseconds, while the other server may be
    busy (Go's collector after Prometheus' own heavy queries, either server's scrapes), so the
    other server's CPU seconds during each pass are printed as well.
    """
    import json
    import threading
    harness = ROOT.parent / "shared" / "bench" / "prom_run.py"
    if not harness.is_file():
        raise SystemExit(f"the peers' harness is not at {harness}")
    end = time.time()
    medians: dict[str, dict[tuple[str, str], list[float]]] = {n: {} for n, *_ in servers}
    errors: dict[tuple[str, str], str] = {}
    keys: list[tuple[str, str]] = []
    peaks = {n: 0 for n, *_ in servers}
    order = list(servers)
    for rnd in range(args.query_rounds):
        for n, p, port, _ in order:
            others = [(on, op) for on, op, *_ in servers if on != n]
            other_cpu0 = {on: cpu_seconds(op.pid) for on, op in others}
            peak = [0]
            done = threading.Event()

            def sample(pid=p.pid, peak=peak, done=done):
                while not done.is_set():
                    peak[0] = max(peak[0], rss_bytes(pid))
                    done.wait(0.2)

            th = threading.Thread(target=sample, daemon=True)
            th.start()
            out = work / f"queries-{n}.json"
            t0 = time.monotonic()
            subprocess.run([sys.executable, str(harness), "--base-url", f"http://127.0.0.1:{port}",
                            "--end", f"{end:.3f}", "--window", f"{end - start:.0f}", "--runs", str(args.queries),
                            "--range-step", args.range_step, "--query-timeout", "120", "--out", str(out)],
                           stdout=subprocess.DEVNULL, check=False)
            took = time.monotonic() - t0
            done.set()
            th.join(timeout=5)
            peaks[n] = max(peaks[n], peak[0])
            busy = ", ".join(f"{on} used {cpu_seconds(op.pid) - other_cpu0[on]:.1f} CPU s meanwhile"
                             for on, op in others)
            print(f"query round {rnd + 1}: {n}'s pass took {took:.0f} s; {busy}", flush=True)
            for q in json.loads(out.read_text())["queries"]:
                key = (q["query"], q["kind"])
                if key not in keys:
                    keys.append(key)
                # One entry a round (None when the query failed), so rounds pair up below.
                medians[n].setdefault(key, []).append(q.get("median_ms"))
                if q.get("error"):
                    errors[key] = q["error"]
        order.reverse()
    base, sl = medians["prometheus"], medians["sightline"]
    rounds = args.query_rounds
    spread = " (median over rounds; the ratios' range over rounds)" if rounds > 1 else ""
    print(f"\n| query | kind | {base_name} ms | Sightline ms | ratio{spread} |\n|---|---|---|---|---|")
    ratios = []
    for key in keys:
        pairs = list(zip(base.get(key, []), sl.get(key, [])))
        a_runs = [x for x in base.get(key, []) if x]
        b_runs = [y for y in sl.get(key, []) if y]
        a = round(statistics.median(a_runs), 3) if a_runs else None
        b = round(statistics.median(b_runs), 3) if b_runs else None
        r = "–"
        if a and b:
            ratios.append(b / a)
            r = f"{b / a:.2f}x"
            per = [y / x for x, y in pairs if x and y]
            if rounds > 1 and per:
                r += f" ({min(per):.2f}-{max(per):.2f}x)"
        err = errors.get(key)
        print(f"| `{key[0]}` | {key[1]} | {a} | {b} | {r}{' (' + err + ')' if err else ''} |")
    if ratios:
        g = statistics.geometric_mean(ratios)
        print(f"\ngeometric mean of query latency ratios: {g:.2f}x (max {max(ratios):.2f}x)")
    print(f"peak RSS during its query pass: {base_name} {peaks['prometheus'] / 2**20:.0f} MiB, "
          f"Sightline {peaks['sightline'] / 2**20:.0f} MiB, ratio {peaks['sightline'] / max(1, peaks['prometheus']):.2f}x")


if __name__ == "__main__":
    main()
