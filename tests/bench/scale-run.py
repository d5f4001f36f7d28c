#!/usr/bin/env python3
"""One server at scale: ingest, queries, how far it got, and restart (WAL replay) time.

Runs the peers' harness (../shared/bench/prom_run.py, not vendored: this benchmark needs the
workplace's shared/ beside the repository) for Sightline or Prometheus 2.42 with its workdir
kept, and adds what a run at ten million series needs:

- a memory cap: the server runs in its own cgroup (v1 memory controller) limited to
  --mem-limit GiB, so a server that cannot hold the workload is OOM-killed alone instead of
  taking the machine (and the other benchmark) with it;
- a progress log: every 5 s the server's head series, samples appended, CPU and RSS go to
  progress.csv, so a run that dies says how far it got and when;
- restart: if the server survived, it is started again on the data it left with no scrape
  targets, and the time until /-/ready (WAL replay), its RSS then and its head series are
  recorded.

  tests/bench/scale-run.py --server sightline|prometheus [-K 100] [-M 100000]
        [--scrape-interval 60s] [--duration 600] [--mem-limit 20] [--out DIR] [-- prom_run args]

Results: DIR/<server>.json (prom_run.py's result), DIR/<server>-scale.json (progress, outcome,
steady-state ingest CPU a sample once the head stopped growing, restart),
DIR/<server>-progress.csv. Compare two runs with tests/bench/ratios.py.
Everything listens on 127.0.0.1 only; every wait is bounded.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from benchlib import cpu_seconds, metric_sum, rss_bytes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HARNESS = ROOT.parent / "shared" / "bench" / "prom_run.py"
CGROUP_ROOT = Path("/sys/fs/cgroup/memory")


def metric_or_none(port: int, name: str) -> float | None:
    """A server metric, or None while the server does not answer or lacks it."""
    try:
        return metric_sum(port, name)
    except (OSError, RuntimeError):
        return None


def proc_stat(pid: int) -> tuple[float, int] | None:
    """CPU seconds and RSS of a process, or None once it is gone."""
    try:
        return cpu_seconds(pid), rss_bytes(pid)
    except OSError:
        return None


def server_pid(data_dir: Path) -> int | None:
    """The process whose command line names the data directory (the server under test)."""
    needle = str(data_dir).encode()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmd and b"prom_run.py" not in cmd and b"scale-run" not in cmd:
            return int(d.name)
    return None


def make_cgroup(name: str, gib: float) -> Path | None:
    cg = CGROUP_ROOT / name
    try:
        cg.mkdir(exist_ok=True)
        (cg / "memory.limit_in_bytes").write_text(str(int(gib * 2**30)))
        return cg
    except OSError as e:
        print(f"no memory cgroup ({e}); running without a cap", file=sys.stderr)
        return None


def steady_ingest(progress: list[dict], started: float, result_json: Path) -> dict | None:
    """CPU a sample over the part of the harness' ingest window after the head stopped growing.

    The harness opens its window once every target has been asked for its first scrape; at
    millions of series the first round's series creation can run well into it and inflate
    the window's CPU a sample. This figure starts at the first progress row (5 s apart) where
    the head already holds its final series count and ends at the last row inside the window,
    so it is the steady-state cost, WAL checkpoints and other maintenance included.
    """
    try:
        window = json.loads(result_json.read_text())["window"]
    except (OSError, ValueError, KeyError):
        return None
    lo, hi = window["start"] - started, window["end"] - started
    rows = [p for p in progress
            if p["head_series"] is not None and p["samples_appended"] is not None and lo <= p["t_s"] <= hi]
    if not rows:
        return None
    top = max(p["head_series"] for p in rows)
    first = next(p for p in rows if p["head_series"] >= top)
    last = rows[-1]
    samples = last["samples_appended"] - first["samples_appended"]
    if samples <= 0:
        return None
    cpu = last["cpu_s"] - first["cpu_s"]
    return {"from_s": first["t_s"], "to_s": last["t_s"], "samples": samples, "cpu_s": round(cpu, 2),
            "cpu_us_per_sample": round(cpu / samples * 1e6, 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=["sightline", "prometheus"], required=True)
    default_bin = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "sightline"
    ap.add_argument("--sightline", default=str(default_bin))
    ap.add_argument("-K", "--targets", type=int, default=100)
    ap.add_argument("-M", "--series-per-target", type=int, default=100000)
    ap.add_argument("--scrape-interval", default="60s")
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--mem-limit", type=float, default=20.0, help="GiB (0: no cap)")
    ap.add_argument("--restart-limit", type=float, default=1800, help="seconds a restart may take")
    ap.add_argument("--port", type=int, default=19290, help="the server's port")
    ap.add_argument("--target-port", type=int, default=19700, help="the first target's port")
    ap.add_argument("--out", default=str(ROOT / "target" / "bench" / "scale"))
    ap.add_argument("rest", nargs=argparse.REMAINDER, help="further prom_run.py arguments after --")
    args = ap.parse_args()
    PORT = args.port
    if not HARNESS.is_file():
        raise SystemExit(f"the peers' harness is not at {HARNESS}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = out / f"work-{args.server}"
    shutil.rmtree(work, ignore_errors=True)
    data = work / "data"

    if args.server == "sightline":
        server = (f"{args.sightline} serve --config.file={{config}} --storage.tsdb.path={{data}} "
                  "--web.listen-address={listen} --plugins.dir={data}/plugins --log.level=warn")
        metrics = ("sightline_tsdb_samples_appended_total", "sightline_tsdb_head_series")
    else:
        server = ("prometheus --config.file={config} --storage.tsdb.path={data} "
                  "--web.listen-address={listen} --storage.tsdb.retention.time=1d --log.level=warn")
        metrics = ("prometheus_tsdb_head_samples_appended_total", "prometheus_tsdb_head_series")
    cg = make_cgroup(f"sightline-scale-{args.server}", args.mem_limit) if args.mem_limit > 0 else None
    if cg is not None:
        # The shell joins the cgroup and becomes the server (same pid), so only it is capped.
        server = f"sh -c 'echo $$ > {cg}/cgroup.procs && exec {server}'"
    cmd = [sys.executable, str(HARNESS), "-K", str(args.targets), "-M", str(args.series_per_target),
           "--scrape-interval", args.scrape_interval, "--duration", str(args.duration),
           "--workdir", str(work), "--port", str(PORT), "--target-port", str(args.target_port), "--name", args.server, "--out", str(out / f"{args.server}.json"),
           "--samples-metric", metrics[0], "--series-metric", metrics[1], "--server-cmd", server]
    cmd += [a for a in args.rest if a != "--"]

    progress: list[dict] = []
    stop = threading.Event()
    started = time.time()

    def poll() -> None:
        with open(out / f"{args.server}-progress.csv", "w") as f:
            f.write("t_s,head_series,samples_appended,cpu_s,rss_bytes\n")
            while not stop.is_set():
                pid = server_pid(data)
                st = proc_stat(pid) if pid else None
                if st is not None:
                    row = {"t_s": round(time.time() - started, 1),
                           "head_series": metric_or_none(PORT, metrics[1]),
                           "samples_appended": metric_or_none(PORT, metrics[0]),
                           "cpu_s": st[0], "rss_bytes": st[1]}
                    progress.append(row)
                    f.write(",".join(str(row[k]) for k in row) + "\n")
                    f.flush()
                stop.wait(5)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    rc = subprocess.call(cmd)
    stop.set()
    poller.join(timeout=60)
    oom = None
    if cg is not None:
        try:
            oom = int((cg / "memory.failcnt").read_text())
        except OSError:
            pass
    result: dict = {
        "server": args.server, "harness_exit": rc, "memory_cap_gib": args.mem_limit,
        "cgroup_failcnt": oom,
        "max_head_series": max((p["head_series"] or 0 for p in progress), default=0),
        "max_rss_bytes": max((p["rss_bytes"] for p in progress), default=0),
        "last_progress": progress[-1] if progress else None,
        "progress_points": len(progress),
        "steady": steady_ingest(progress, started, out / f"{args.server}.json"),
    }
    if result["steady"]:
        st = result["steady"]
        print(f"steady ingest {st['from_s']}-{st['to_s']} s after start: {st['cpu_us_per_sample']} us/sample "
              f"({st['samples']:,.0f} samples, {st['cpu_s']} s CPU)", flush=True)
    print(f"harness exit {rc}; max head series {result['max_head_series']:,.0f}; "
          f"max RSS {result['max_rss_bytes'] / 2**30:.2f} GiB", flush=True)

    # Restart on the data left behind, without scrape targets: after a clean stop, or after the
    # server was killed (out of memory under the cap), which is a crash-recovery replay.
    if data.is_dir():
        cfg = work / "empty.yml"
        cfg.write_text("global: {scrape_interval: 60s}\nscrape_configs: []\n")
        restart = [a.format(config=str(cfg), data=str(data), listen=f"127.0.0.1:{PORT}")
                   for a in server.split(" ")] if cg is None else None
        if restart is None:
            inner = server.split("exec ", 1)[1].rstrip("'")
            inner = inner.format(config=str(cfg), data=str(data), listen=f"127.0.0.1:{PORT}")
            restart = ["sh", "-c", f"echo $$ > {cg}/cgroup.procs && exec {inner}"]
        t0 = time.time()
        srv = subprocess.Popen(restart, stdout=subprocess.DEVNULL, stderr=open(work / "restart.log", "w"))
        ready = None
        try:
            while time.time() - t0 < args.restart_limit and srv.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/-/ready", timeout=2) as r:
                        if r.status == 200:
                            ready = time.time() - t0
                            break
                except OSError:
                    pass
                time.sleep(0.1)
            st = proc_stat(srv.pid)
            result["restart"] = {
                "ready_s": round(ready, 2) if ready is not None else None,
                "exit": srv.poll(),
                "rss_bytes": st[1] if st else None,
                "head_series": metric_or_none(PORT, metrics[1]) if ready is not None else None,
            }
        finally:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=120)
            except subprocess.TimeoutExpired:
                srv.kill()
                srv.wait(timeout=30)
        print(f"restart: {result['restart']}", flush=True)
    (out / f"{args.server}-scale.json").write_text(json.dumps(result, indent=1))
    shutil.rmtree(data, ignore_errors=True)
    if cg is not None:
        try:
            cg.rmdir()
        except OSError:
            pass
    return rc


if __name__ == "__main__":
    sys.exit(main())
