#!/usr/bin/env python3
"""Pushes metrics to an OTLP/HTTP endpoint with the real OpenTelemetry Python SDK, for the
OTLP receiver's end-to-end test (host/daemon/tests/e2e/otlp.rs).

Every round adds 5 to a counter (`shop.orders`, unit `{order}`) and 1024 to a byte counter
(`net.io`, unit `By`), moves an up-down counter (`queue.items`) by +3 then -1, records
0.2, 3 and 7 in a histogram (`http.server.request.duration`, unit `s`, default buckets), and
an observable gauge (`process.cpu.utilization`, unit `1`) reports 0.25; then the provider is
flushed (one export per round). With `--temporality delta` the counters and the histogram
are exported with delta temporality (the SDK's `delta` preference), the rest cumulative.

Bounded: the exporter's timeout is 5 s, the periodic reader never fires on its own (the
interval is an hour), and the provider is not shut down at exit (that would export again).
Installed with tests/tools/otel-venv.sh (pinned in tests/tools/otel-requirements.txt).
"""

import argparse
import sys
import time

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--temporality", choices=["cumulative", "delta"], default="cumulative")
    p.add_argument("--instance", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--gzip", action="store_true")
    a = p.parse_args()

    d, c = AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE
    if a.temporality == "delta":
        temporality = {
            Counter: d,
            UpDownCounter: c,
            Histogram: d,
            ObservableCounter: d,
            ObservableUpDownCounter: c,
            ObservableGauge: c,
        }
    else:
        temporality = {k: c for k in (Counter, UpDownCounter, Histogram, ObservableCounter,
                                      ObservableUpDownCounter, ObservableGauge)}
    exporter = OTLPMetricExporter(
        endpoint=a.endpoint,
        timeout=5,
        compression=Compression.Gzip if a.gzip else Compression.NoCompression,
        preferred_temporality=temporality,
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create({
        "service.name": "checkout",
        "service.namespace": "shop",
        "service.instance.id": a.instance,
        "deployment.environment": "test",
    })
    provider = MeterProvider(resource=resource, metric_readers=[reader], shutdown_on_exit=False)
    meter = provider.get_meter("shop.checkout", "1.0.0")

    orders = meter.create_counter("shop.orders", unit="{order}", description="Orders placed.")
    net = meter.create_counter("net.io", unit="By", description="Bytes sent.")
    queue = meter.create_up_down_counter("queue.items", unit="{item}", description="Items queued.")
    latency = meter.create_histogram("http.server.request.duration", unit="s",
                                     description="Request duration.")

    def cpu(_options: CallbackOptions):
        yield Observation(0.25, {"cpu": "0"})

    meter.create_observable_gauge("process.cpu.utilization", callbacks=[cpu], unit="1",
                                  description="CPU utilisation.")

    for _ in range(a.rounds):
        orders.add(5, {"payment.method": "card"})
        net.add(1024)
        queue.add(3)
        queue.add(-1)
        for v in (0.2, 3, 7):
            latency.record(v, {"http.route": "/pay"})
        if not provider.force_flush(timeout_millis=10_000):
            print("force_flush failed", file=sys.stderr)
            return 1
        # Distinct millisecond timestamps between rounds.
        time.sleep(0.3)
    print(f"pushed {a.rounds} rounds ({a.temporality})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
