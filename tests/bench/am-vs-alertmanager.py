#!/usr/bin/env python3
"""Sightline's built-in alert manager against Alertmanager 0.25 on the same workload.

Both get the same alertmanager.yml (a webhook receiver pointing at a local sink, grouping by
`alertname` and `instance`, `group_wait` 1s) and, in each round, the same alerts: N alerts in
G groups posted over API v2 in batches of 64 (as Prometheus sends them), then re-posted every
`--resend` seconds for the window (Prometheus resends firing alerts). Measured per server:
how long the posts took, how long until every group was notified (from the first post),
CPU seconds for the whole round (/proc/<pid>/stat), RSS at the end and its growth over the
idle server's (Sightline's idle RSS includes its TSDB and plugin runtime). The two servers run one
after the other within a round, alternating which goes first; quote medians and ratios.

  tests/bench/am-vs-alertmanager.py [--sightline target/release/sightline] [--alerts 10000]
                                    [--groups 2000] [--window 30] [--rounds 3]

Everything listens on 127.0.0.1; every wait is bounded; everything started is stopped and
its directory removed.
"""
from __future__ import annotations

import argparse
import http.server
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchlib import cpu_seconds, rss_bytes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    """Counts webhook notifications by group key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.groups: dict[str, float] = {}
        self.count = 0
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n))
                with sink.lock:
                    sink.count += 1
                    sink.groups.setdefault(body["groupKey"], time.monotonic())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            # Alertmanager opens one connection per notification at once; the default
            # backlog of 5 would refuse most of them and measure the sink, not the server.
            request_queue_size = 4096

        self.server = Server(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.groups.clear()
            self.count = 0


def wait_ready(port: int, path: str, secs: float = 60) -> None:
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on {port} not ready within {secs}s")


def post(port: int, batch: list[dict]) -> None:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v2/alerts",
        data=json.dumps(batch).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()


def alerts(n: int, groups: int, tag: str) -> list[dict]:
    out = []
    for i in range(n):
        g = i % groups
        out.append(
            {
                "labels": {
                    "alertname": f"Bench{tag}",
                    "instance": f"host-{g}",
                    "series": str(i),
                    "severity": "page",
                },
                "annotations": {"summary": f"alert {i} of group {g}"},
                "generatorURL": "http://prometheus/graph",
            }
        )
    return out


def run(kind: str, cmd: list[str], port: int, sink: Sink, args, tag: str, workdir: Path) -> dict:
    sink.reset()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
    try:
        wait_ready(port, "/-/ready")
        time.sleep(1)
        rss_idle = rss_bytes(proc.pid)
        cpu0 = cpu_seconds(proc.pid)
        batch = alerts(args.alerts, args.groups, tag)
        t0 = time.monotonic()
        for i in range(0, len(batch), 64):
            post(port, batch[i : i + 64])
        posted = time.monotonic() - t0
        all_notified = None
        next_resend = t0 + args.resend
        while time.monotonic() - t0 < args.window:
            with sink.lock:
                done = len(sink.groups)
            if all_notified is None and done >= args.groups:
                with sink.lock:
                    all_notified = max(sink.groups.values()) - t0
            if time.monotonic() >= next_resend:
                for i in range(0, len(batch), 64):
                    post(port, batch[i : i + 64])
                next_resend += args.resend
            time.sleep(0.05)
        cpu = cpu_seconds(proc.pid) - cpu0
        rss = rss_bytes(proc.pid)
        return {
            "server": kind,
            "post_s": posted,
            "all_groups_notified_s": all_notified,
            "notifications": sink.count,
            "cpu_s": cpu,
            "rss_mib": rss / 2**20,
            "rss_growth_mib": (rss - rss_idle) / 2**20,
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=str(ROOT / "target" / "release" / "sightline"))
    ap.add_argument("--alertmanager", default="prometheus-alertmanager")
    ap.add_argument("--alerts", type=int, default=10000)
    ap.add_argument("--groups", type=int, default=2000)
    ap.add_argument("--window", type=float, default=30)
    ap.add_argument("--resend", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    args.sightline = str(Path(args.sightline).resolve())
    if shutil.which(args.alertmanager) is None:
        raise SystemExit(f"{args.alertmanager} is missing (Debian package prometheus-alertmanager)")
    webhook = ROOT / "plugins" / "webhook.wasm"
    if not webhook.exists():
        raise SystemExit("plugins/webhook.wasm is missing: run ./plugins/build.sh")
    sink = Sink()
    results: list[dict] = []
    for r in range(args.rounds):
        order = ["sightline", "alertmanager"] if r % 2 == 0 else ["alertmanager", "sightline"]
        for kind in order:
            with tempfile.TemporaryDirectory(prefix=f"am-bench-{kind}-") as d:
                work = Path(d)
                (work / "am.yml").write_text(
                    "route:\n  receiver: hook\n  group_by: [alertname, instance]\n"
                    "  group_wait: 1s\n  group_interval: 5m\n  repeat_interval: 4h\n"
                    "receivers:\n  - name: hook\n    webhook_configs:\n"
                    f"      - url: http://127.0.0.1:{sink.port}/hook\n"
                )
                port = free_port()
                if kind == "sightline":
                    (work / "plugins").mkdir()
                    shutil.copy(webhook, work / "plugins" / "webhook.wasm")
                    shutil.copy(ROOT / "plugins" / "webhook.toml", work / "plugins" / "webhook.toml")
                    (work / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\n")
                    cmd = [
                        args.sightline, "serve", f"--web.listen-address=127.0.0.1:{port}",
                        f"--config.file={work / 'prometheus.yml'}",
                        f"--storage.tsdb.path={work / 'data'}", f"--plugins.dir={work / 'plugins'}",
                        f"--alertmanager.config.file={work / 'am.yml'}", "--log.level=warn",
                    ]
                else:
                    cmd = [
                        args.alertmanager, f"--config.file={work / 'am.yml'}",
                        f"--storage.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                        "--cluster.listen-address=", "--log.level=warn",
                    ]
                res = run(kind, cmd, port, sink, args, f"r{r}", work)
                res["round"] = r
                results.append(res)
                print(json.dumps(res), flush=True)
    print()
    print(f"{args.alerts} alerts in {args.groups} groups, window {args.window:.0f}s, resend every {args.resend:.0f}s, {args.rounds} rounds")
    print(f"{'metric':<24} {'sightline':>12} {'alertmanager':>14} {'ratio':>8}")
    for key in ["post_s", "all_groups_notified_s", "cpu_s", "rss_mib", "rss_growth_mib", "notifications"]:
        def med(kind: str):
            vals = [x[key] for x in results if x["server"] == kind and x[key] is not None]
            return statistics.median(vals) if vals else None
        s, a = med("sightline"), med("alertmanager")
        ratio = f"{s / a:.2f}x" if s is not None and a else "-"
        fmt = lambda v: "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
        print(f"{key:<24} {fmt(s):>12} {fmt(a):>14} {ratio:>8}")
    sys.exit(0)


if __name__ == "__main__":
    main()
