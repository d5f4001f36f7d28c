#!/usr/bin/env python3
"""Runs several Sightline binaries at once on the same targets and prints each one's RSS,
anonymous and file-backed (the part the link order changes; see host/daemon/build.rs).

All of them scrape the same K synthetic targets (tests/tools/targets.py) at the same
interval, answer the seed's queries (benchlib.SEED_QUERIES, instant and range) a few times,
then idle a little; /proc/<pid>/status is read at the end. Side by side, the machine's noise hits every binary
alike, so compare within a run.

  tests/bench/rss-side-by-side.py BIN [BIN ...] [-K 10] [-M 1000] [--seconds 60]

Everything listens on 127.0.0.1; every wait is bounded; what it starts it stops.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from benchlib import SEED_QUERIES, wait_ready  # noqa: E402


def status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+", type=Path)
    ap.add_argument("-K", "--targets", type=int, default=10)
    ap.add_argument("-M", "--series-per-target", type=int, default=1000)
    ap.add_argument("--scrape-interval", default="1s")
    ap.add_argument("--seconds", type=float, default=60, help="ingest before the queries")
    ap.add_argument("--passes", type=int, default=3, help="times the query list is run")
    ap.add_argument("--target-port", type=int, default=19300)
    ap.add_argument("--port", type=int, default=19500, help="the first binary's port; the next ones follow")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rss-side-by-side-"))
    targets = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/tools/targets.py"), "--targets", str(args.targets),
         "--series-per-target", str(args.series_per_target), "--port", str(args.target_port),
         "--max-seconds", str(args.seconds + 600)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs: list[tuple[Path, subprocess.Popen, int]] = []
    try:
        addrs = ", ".join(f"'127.0.0.1:{args.target_port + t}'" for t in range(args.targets))
        for i, binary in enumerate(args.binaries):
            d = work / str(i)
            (d / "plugins").mkdir(parents=True)
            (d / "p.yml").write_text(
                f"global:\n  scrape_interval: {args.scrape_interval}\n"
                f"scrape_configs:\n- job_name: t\n  static_configs:\n  - targets: [{addrs}]\n")
            port = args.port + i
            p = subprocess.Popen(
                [str(binary), "serve", f"--config.file={d}/p.yml", f"--storage.tsdb.path={d}/data",
                 f"--web.listen-address=127.0.0.1:{port}", f"--plugins.dir={d}/plugins",
                 "--log.level=warn"],
                stdout=subprocess.DEVNULL, stderr=(d / "log").open("w"))
            procs.append((binary, p, port))
        for _, p, port in procs:
            wait_ready(port, p)
        time.sleep(args.seconds)
        for _ in range(args.passes):
            for _, _, port in procs:
                now = time.time()
                for q in SEED_QUERIES:
                    e = urllib.parse.quote(q)
                    for path in (f"/api/v1/query?query={e}",
                                 f"/api/v1/query_range?query={e}&start={now - 600}&end={now}&step=15"):
                        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120).read()
                for path in ("/", "/metrics", "/api/v1/targets"):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120).read()
        time.sleep(10)
        print("| binary | RSS MiB | anonymous MiB | file-backed MiB |\n|---|---|---|---|")
        for binary, p, _ in procs:
            st = status(p.pid)
            mib = [int(st[k].split()[0]) / 1024 for k in ("VmRSS", "RssAnon", "RssFile")]
            print(f"| {binary} | {mib[0]:.1f} | {mib[1]:.1f} | {mib[2]:.1f} |")
        return 0
    finally:
        for _, p, _ in procs:
            p.terminate()
        for _, p, _ in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        targets.terminate()
        try:
            targets.wait(timeout=10)
        except subprocess.TimeoutExpired:
            targets.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
