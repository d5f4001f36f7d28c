"""Helpers the benchmarks share: the seed's queries, process CPU and RSS from /proc, a
server's own metrics, and waiting for readiness. Everything talks to 127.0.0.1 only; every
wait is bounded."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGETS = Path(__file__).resolve().parent.parent / "tools" / "targets.py"

# The seed document's alert, dashboard and debugging queries (as the peers' harness runs them).
SEED_QUERIES = [
    'up == 0',
    'rate(http_requests_total{status=~"5.."}[2m])',
    'sum by (endpoint, status) (rate(http_requests_total{status=~"5.."}[5m]))',
    'histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))',
    'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))',
    'topk(5, rate(process_cpu_seconds_total[5m]))',
    'avg_over_time(up[30m])',
    'rate(http_requests_total{status=~"5.."}[5m]) / ignoring(status) group_left '
    'sum without(status) (rate(http_requests_total[5m]))',
]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def metric_sum(port: int, name: str, timeout: float = 30) -> float:
    """The sum of every series of `name` on a server's /metrics (raises if there is none)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
        body = r.read().decode()
    total, found = 0.0, False
    for line in body.splitlines():
        if line.startswith(name) and line[len(name)] in " {":
            total += float(line.rsplit(" ", 1)[1])
            found = True
    if not found:
        raise RuntimeError(f"{name} not in :{port}/metrics")
    return total


def wait_http(port: int, path: str, proc: subprocess.Popen, what: str, limit: float = 120) -> None:
    """Waits until `path` on `port` answers 200, while `proc` (serving it) is alive."""
    deadline = time.time() + limit
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} on :{port} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} on :{port}: {path} not answering within {limit} s")


def wait_ready(port: int, proc: subprocess.Popen, limit: float = 120) -> None:
    wait_http(port, "/-/ready", proc, "server", limit)


def wait_healthy(port: int, proc: subprocess.Popen, limit: float = 120) -> None:
    """Waits for a synthetic target process (`/-/healthy`), so no server's first scrape
    finds it still building its series (an `up` of 0 only one server would see)."""
    wait_http(port, "/-/healthy", proc, "targets", limit)


def start_app_targets(count: int, series: int, port: int, seconds: float) -> subprocess.Popen:
    """Starts `count` synthetic targets of `series` series each (tests/tools/targets.py) on
    ports `port`.. for at most `seconds`, and waits until they serve."""
    p = subprocess.Popen(
        [sys.executable, str(TARGETS), "--targets", str(count), "--series-per-target", str(series),
         "--port", str(port), "--max-seconds", str(int(seconds))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_healthy(port, p)
    return p


def write_scrape_config(path: Path, interval: str, count: int, port: int) -> None:
    """A prometheus.yml scraping targets on `port`.. `port + count - 1` every `interval`."""
    targets = [f"127.0.0.1:{port + i}" for i in range(count)]
    path.write_text(
        f"global: {{scrape_interval: {interval}, scrape_timeout: {interval}}}\n"
        "scrape_configs:\n  - job_name: app\n    static_configs:\n"
        f"      - targets: [{', '.join(repr(t) for t in targets)}]\n")


def stop_all(procs: list[subprocess.Popen]) -> None:
    """SIGTERM to each process still running (last started first), then waits for each,
    killing any that takes longer than 30 s."""
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
