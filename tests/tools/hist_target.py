#!/usr/bin/env python3
"""Synthetic native-histogram scrape targets, for benchmarks and side-by-side tests.

One process, threaded, bound to 127.0.0.1 only. It serves K targets at /metrics/<i> (all on
one port), each exposing M latency histograms as native histograms (exponential schema 3,
about 30 populated buckets, a zero bucket) in Prometheus' protobuf exposition
(`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
encoding=delimited`), plus one counter. The protobuf is encoded by hand (no protoc, no
packages).

Values are a pure function of (seed, target, series, t) with t = whole seconds since --epoch
(default: the start of this process), so two scrapers reading at the same second see the
same histograms: bucket counts grow monotonically, like a real request-latency histogram.
With --classic, each histogram also carries classic buckets (11 bounds), as client_golang
does when both are configured. With --quantize N, every sample carries an explicit timestamp,
the time rounded down to a multiple of N seconds, and the values of that time: scrapers that
honour timestamps and scrape at least every N seconds then store exactly the same samples,
whatever their phase (side-by-side tests rely on it).

Other endpoints: /stats (JSON: scrapes and histograms served), /-/healthy. Exits after
--max-seconds.
"""
from __future__ import annotations

import argparse
import json
import math
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTENT_TYPE = (
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
    "encoding=delimited"
)
SCHEMA = 3
CLASSIC_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]


def varint(v: int) -> bytes:
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(v: int) -> int:
    return (v << 1) ^ (v >> 63)


def key(field: int, wire: int) -> bytes:
    return varint((field << 3) | wire)


def f_varint(field: int, v: int) -> bytes:
    return key(field, 0) + varint(v)


def f_sint(field: int, v: int) -> bytes:
    return key(field, 0) + varint(zigzag(v))


def f_double(field: int, v: float) -> bytes:
    return key(field, 1) + struct.pack("<d", v)


def f_bytes(field: int, b: bytes) -> bytes:
    return key(field, 2) + varint(len(b)) + b


def f_str(field: int, s: str) -> bytes:
    return f_bytes(field, s.encode())


def packed_sint(field: int, vs: list[int]) -> bytes:
    return f_bytes(field, b"".join(varint(zigzag(v)) for v in vs))


def labels(pairs: list[tuple[str, str]]) -> bytes:
    return b"".join(f_bytes(1, f_str(1, k) + f_str(2, v)) for k, v in pairs)


def upper_bound(i: int) -> float:
    return 2.0 ** (i * 2.0**-SCHEMA)


class Shape:
    """A series' latency distribution: a weight per bucket index (log-normal around a median)."""

    def __init__(self, seed: int, target: int, series: int):
        h = (seed * 1_000_003 + target * 7919 + series * 104_729) & 0xFFFFFFFF
        median_ms = 5 + (h % 200)
        self.rate = 5 + (h >> 8) % 50  # observations a second
        centre = math.log2(median_ms / 1000.0) * 2**SCHEMA
        spread = 6 + (h >> 16) % 6
        self.buckets: list[tuple[int, float]] = []
        for i in range(int(centre - 2 * spread), int(centre + 2 * spread) + 1):
            w = math.exp(-(((i - centre) / spread) ** 2))
            if w > 0.02:
                self.buckets.append((i, w))
        total = sum(w for _, w in self.buckets)
        self.buckets = [(i, w / total) for i, w in self.buckets]
        self.zero_w = 0.001

    def at(self, t: int):
        """Bucket counts (index, count), zero count, total count and sum after t seconds."""
        n = self.rate * t
        counts = [(i, int(n * w)) for i, w in self.buckets]
        zero = int(n * self.zero_w)
        total = zero + sum(c for _, c in counts)
        s = sum(c * upper_bound(i) * 0.9 for i, c in counts)
        return counts, zero, total, s


def spans_and_deltas(counts: list[tuple[int, int]]):
    spans: list[tuple[int, int]] = []
    deltas: list[int] = []
    prev_idx = None
    prev_count = 0
    for i, c in counts:
        if prev_idx is None:
            spans.append((i, 1))
        elif i == prev_idx + 1:
            spans[-1] = (spans[-1][0], spans[-1][1] + 1)
        else:
            spans.append((i - prev_idx - 1, 1))
        deltas.append(c - prev_count)
        prev_count = c
        prev_idx = i
    return spans, deltas


def histogram(shape: Shape, t: int, classic: bool) -> bytes:
    counts, zero, total, s = shape.at(t)
    spans, deltas = spans_and_deltas(counts)
    b = f_varint(1, total) + f_double(2, s)
    if classic:
        cum = zero
        ci = 0
        for bound in CLASSIC_BOUNDS:
            while ci < len(counts) and upper_bound(counts[ci][0]) <= bound:
                cum += counts[ci][1]
                ci += 1
            b += f_bytes(3, f_varint(1, cum) + f_double(2, bound))
    b += f_sint(5, SCHEMA) + f_double(6, 2.0**-128) + f_varint(7, zero)
    for off, ln in spans:
        b += f_bytes(12, f_sint(1, off) + f_varint(2, ln))
    b += packed_sint(13, deltas)
    return b


def delimited(msg: bytes) -> bytes:
    return varint(len(msg)) + msg


class Targets:
    def __init__(self, args):
        self.args = args
        self.epoch = args.epoch if args.epoch else int(time.time())
        self.shapes = [
            [Shape(args.seed, k, m) for m in range(args.series)] for k in range(args.targets)
        ]
        self.lock = threading.Lock()
        self.scrapes = 0
        self.histograms = 0

    def body(self, k: int) -> bytes:
        now = int(time.time())
        ts = b""
        if self.args.quantize > 0:
            now -= now % self.args.quantize
            ts = f_varint(6, now * 1000)
        t = max(0, now - self.epoch)
        metrics = []
        for m, shape in enumerate(self.shapes[k]):
            lbls = labels([("endpoint", f"/api/v{m % 7}/item{m}"), ("method", "GET")])
            h = f_bytes(7, histogram(shape, t, self.args.classic))
            metrics.append(f_bytes(4, lbls + h + ts))
        fam = (
            f_str(1, "http_request_duration_seconds")
            + f_str(2, "Request latency.")
            + f_varint(3, 4)
            + b"".join(metrics)
        )
        # A counter of the target's seconds, a function of the (quantized) time like the rest.
        counter = (
            f_str(1, "hist_target_seconds_total")
            + f_str(2, "Seconds since the target's epoch.")
            + f_varint(3, 0)
            + f_bytes(4, f_bytes(3, f_double(1, float(t))) + ts)
        )
        with self.lock:
            self.scrapes += 1
            self.histograms += len(self.shapes[k])
        return delimited(fam) + delimited(counter)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=9300)
    ap.add_argument("--targets", type=int, default=10)
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epoch", type=int, default=0)
    ap.add_argument("--classic", action="store_true")
    ap.add_argument("--quantize", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=3600)
    args = ap.parse_args()
    targets = Targets(args)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts == ["-", "healthy"]:
                return self.reply(200, "text/plain", b"ok\n")
            if parts == ["stats"]:
                with targets.lock:
                    s = {"scrapes": targets.scrapes, "histograms": targets.histograms}
                return self.reply(200, "application/json", json.dumps(s).encode())
            if len(parts) == 2 and parts[0] == "metrics" and parts[1].isdigit():
                k = int(parts[1])
                if k < args.targets:
                    return self.reply(200, CONTENT_TYPE, targets.body(k))
            self.reply(404, "text/plain", b"not found\n")

        def reply(self, code, ct, body):
            self.send_response(code)
            self.send_header("Content-Type", ct)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    threading.Timer(args.max_seconds, lambda: (srv.shutdown())).start()
    print(f"hist-target: {args.targets} targets x {args.series} histograms on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
