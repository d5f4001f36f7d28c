#!/usr/bin/env python3
"""Scrape targets whose series churn, as pods coming and going do.

One process, threaded, bound to 127.0.0.1 only. It serves K targets, each exposing exactly M
series in the Prometheus text format 0.0.4, grouped in pods of --series-per-pod series:

  churn_requests_total{pod="p<target>-<slot>-<generation>",series="<k>"}   counters
  churn_inflight{pod="...",series="<k>"}                                   gauges

Each pod slot of a target is replaced every --lifetime seconds (a new generation, so all of its
series are new label sets); the slots' replacement times are spread evenly over the lifetime,
so a target creates about M / lifetime new series a second, steadily, instead of in bursts.
Churn starts --churn-after seconds after the process starts (0: at once; negative: when a
client requests /-/churn), so a harness can first measure the arrival of the initial series and
then churn. A lifetime of 0 or less never replaces pods.

Target i is served at port BASE+i, path /metrics, and at any port, path /metrics/<i>.
Other endpoints: /stats (JSON: scrapes, samples and generations served), /-/healthy.
The process exits by itself after --max-seconds.
"""
from __future__ import annotations

import argparse
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Target:
    def __init__(self, index: int, m: int, per_pod: int, lifetime: float, churn_at: float):
        self.index = index
        self.m = m
        self.per_pod = max(1, per_pod)
        self.slots = math.ceil(m / self.per_pod)
        self.lifetime = lifetime
        self.churn_at = churn_at
        self.lock = threading.Lock()
        self.scrapes = 0
        self.samples = 0
        # Series suffixes, built once: `,series="k"} ` for each position inside a pod.
        self.suffix = [f',series="{k}"}} ' for k in range(self.per_pod)]

    def generation(self, slot: int, now: float) -> int:
        if self.lifetime <= 0 or now < self.churn_at:
            return 0
        # Slot s is replaced at churn_at + (s / slots + n) * lifetime for n = 0, 1, ...
        phase = slot / self.slots
        return int(math.floor((now - self.churn_at) / self.lifetime - phase)) + 1

    def render(self, now: float, started: float) -> tuple[bytes, int]:
        t = now - started
        out = ["# TYPE churn_requests_total counter\n# TYPE churn_inflight gauge\n"]
        add = out.append
        n = 0
        for slot in range(self.slots):
            g = max(0, self.generation(slot, now))
            pod = f'{{pod="p{self.index}-{slot}-{g}"'
            count = min(self.per_pod, self.m - slot * self.per_pod)
            counter = str(int(t * 3 + slot))
            gauge = str(int(10 + 5 * math.sin(t / 30 + slot)))
            for k in range(count):
                name = "churn_requests_total" if k % 2 == 0 else "churn_inflight"
                add(name + pod + self.suffix[k] + (counter if k % 2 == 0 else gauge) + "\n")
            n += count
        body = "".join(out).encode()
        with self.lock:
            self.scrapes += 1
            self.samples += n
        return body, n


def make_handler(targets: list[Target], base_port: int, started: float):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path == "/-/healthy":
                return self._send(200, b"ok\n", "text/plain")
            if path == "/-/churn":
                now = time.time()
                for t in targets:
                    t.churn_at = min(t.churn_at, now)
                return self._send(200, b"churning\n", "text/plain")
            if path == "/stats":
                stats = [{"target": t.index, "scrapes": t.scrapes, "samples": t.samples}
                         for t in targets]
                return self._send(200, json.dumps(stats).encode(), "application/json")
            idx = None
            if path == "/metrics":
                idx = self.server.server_address[1] - base_port
            elif path.startswith("/metrics/"):
                try:
                    idx = int(path[len("/metrics/"):])
                except ValueError:
                    idx = None
            if idx is None or not 0 <= idx < len(targets):
                return self._send(404, b"no such target\n", "text/plain")
            body, _ = targets[idx].render(time.time(), started)
            self._send(200, body, CONTENT_TYPE)

    return Handler


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", "-K", type=int, default=10)
    ap.add_argument("--series-per-target", "-M", type=int, default=1000)
    ap.add_argument("--series-per-pod", type=int, default=20)
    ap.add_argument("--lifetime", type=float, default=60.0,
                    help="seconds a pod lives before it is replaced (<= 0: never)")
    ap.add_argument("--churn-after", type=float, default=0.0,
                    help="seconds after start before pods start being replaced "
                         "(negative: when /-/churn is requested)")
    ap.add_argument("--port", type=int, default=19400, help="first port (target i at port+i)")
    ap.add_argument("--max-seconds", type=float, default=3600)
    args = ap.parse_args()
    started = time.time()
    churn_at = started + args.churn_after if args.churn_after >= 0 else math.inf
    targets = [Target(i, args.series_per_target, args.series_per_pod, args.lifetime, churn_at)
               for i in range(args.targets)]
    handler = make_handler(targets, args.port, started)
    servers = []
    for i in range(args.targets):
        srv = ThreadingHTTPServer(("127.0.0.1", args.port + i), handler)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    deadline = started + args.max_seconds
    while time.time() < deadline:
        time.sleep(0.5)
    for srv in servers:
        srv.shutdown()


if __name__ == "__main__":
    main()
