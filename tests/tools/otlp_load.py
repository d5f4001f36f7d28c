#!/usr/bin/env python3
"""OTLP/HTTP load for the receiver benchmark (tests/bench/otlp-receiver.sh): realistic
export requests, built with opentelemetry-proto (the SDK's own message classes, from the venv of
tests/tools/otel-venv.sh) ahead of time and posted back to back over one keep-alive connection.

One request is one service instance's export: a resource with service.name, service.instance.id
and 5 more attributes, one scope, 20 counters and 10 gauges of 25 points each (3 attributes a
point), and 5 histograms of 10 points each (10 explicit bounds): 800 data points, which
translate to 1,400 samples. INSTANCES instances export every ROUNDS rounds, one simulated
second apart, starting 50 minutes ago (inside the head's window).
"""

import argparse
import http.client
import sys
import time

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue


def kv(k, v):
    x = KeyValue(key=k)
    x.value.string_value = v
    return x


def request(instance, t_ns, start_ns, rnd):
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.extend([
        kv("service.name", "checkout"), kv("service.namespace", "shop"),
        kv("service.instance.id", f"pod-{instance}"), kv("host.name", f"node-{instance % 7}"),
        kv("cloud.region", "eu-west-1"), kv("k8s.pod.name", f"checkout-7d9f8c-{instance:05}"),
        kv("telemetry.sdk.language", "python"), kv("telemetry.sdk.version", "1.27.0"),
    ])
    sm = rm.scope_metrics.add()
    sm.scope.name = "shop.checkout"
    sm.scope.version = "1.0.0"
    for m in range(20):
        met = sm.metrics.add(name=f"app.requests.{m}", unit="{request}", description="Requests.")
        met.sum.aggregation_temporality = 2
        met.sum.is_monotonic = True
        for p in range(25):
            dp = met.sum.data_points.add(start_time_unix_nano=start_ns, time_unix_nano=t_ns, as_int=rnd * (p + 1))
            dp.attributes.extend([kv("http.route", f"/api/items/{p}"), kv("http.method", "GET"), kv("http.status_code", "200")])
    for m in range(10):
        met = sm.metrics.add(name=f"app.queue.depth.{m}", unit="{item}")
        for p in range(25):
            dp = met.gauge.data_points.add(time_unix_nano=t_ns, as_double=float(p * rnd % 97))
            dp.attributes.extend([kv("queue", f"q{p}"), kv("partition", str(p % 4)), kv("tier", "gold")])
    bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    for m in range(5):
        met = sm.metrics.add(name=f"http.server.duration.{m}", unit="s")
        met.histogram.aggregation_temporality = 2
        for p in range(10):
            counts = [rnd * (i + 1) for i in range(11)]
            dp = met.histogram.data_points.add(start_time_unix_nano=start_ns, time_unix_nano=t_ns,
                                               count=sum(counts), sum=rnd * 12.5)
            dp.bucket_counts.extend(counts)
            dp.explicit_bounds.extend(bounds)
            dp.attributes.extend([kv("http.route", f"/api/items/{p}"), kv("http.method", "GET")])
    return req.SerializeToString()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--instances", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=60)
    a = ap.parse_args()
    now = time.time_ns()
    start = now - 50 * 60 * 10**9
    bodies = [request(i, start + (r + 1) * 10**9, start, r + 1)
              for r in range(a.rounds) for i in range(a.instances)]
    host, port = a.addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    t0 = time.monotonic()
    for b in bodies:
        conn.request("POST", "/api/v1/otlp/v1/metrics", body=b,
                     headers={"Content-Type": "application/x-protobuf"})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200 or body:
            print(f"HTTP {r.status}: {body[:300]!r}", file=sys.stderr)
            return 1
    dt = time.monotonic() - t0
    print(f"posted {len(bodies)} requests ({len(bodies) * 800} data points, "
          f"{sum(map(len, bodies)) / len(bodies) / 1024:.0f} KiB each) in {dt:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
