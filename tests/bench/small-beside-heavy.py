#!/usr/bin/env python3
"""Small queries beside heavy ones, two running servers side by side (issue 21).

Usage: small-beside-heavy.py BEFORE_PORT AFTER_PORT [ROUNDS]

Both servers must already scrape the same targets (e.g. ../shared/bench/targets.py
--targets 30 --series-per-target 10000, a prometheus.yml at 15 s, two data directories).
Alternating the order each round, it times on each server: the small queries alone, each
heavy query and the small queries right after it (instant and range over the last 10 min),
then 15 s of small queries while heavy ones run back to back on another connection.
Prints medians and p90 per server as a Markdown table."""
import json, statistics, sys, threading, time, urllib.parse, urllib.request
PORTS = {"before": int(sys.argv[1]), "after": int(sys.argv[2])}
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 6
HEAVY = ["histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))",
         'rate(http_requests_total{status=~"5.."}[2m])']
SMALL = ["topk(5, rate(process_cpu_seconds_total[5m]))", "up == 0", "avg_over_time(up[30m])"]
def q(port, expr, rng=False):
    now = time.time()
    if rng:
        p = {"query": expr, "start": f"{now-600:.3f}", "end": f"{now:.3f}", "step": "15s"}
        url = f"http://127.0.0.1:{port}/api/v1/query_range?" + urllib.parse.urlencode(p)
    else:
        url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{now:.3f}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        body = r.read()
    assert json.loads(body)["status"] == "success"
    return (time.perf_counter() - t0) * 1000
res = {}
def add(k, v): res.setdefault(k, []).append(v)
order = list(PORTS)
for r in range(ROUNDS):
    for name in (order if r % 2 == 0 else order[::-1]):
        port = PORTS[name]
        for rng in (False, True):
            kind = "range" if rng else "instant"
            for s in SMALL:
                time.sleep(0.3)
                add((name, kind, "alone", s), q(port, s, rng))
            for h in HEAVY:
                add((name, kind, "heavy", h), q(port, h, rng))
                for s in SMALL:
                    add((name, kind, "after", s), q(port, s, rng))
# concurrent: heavy loop on one thread, small queries on another, 15 s per server, alternating
for r in range(2):
    for name in (order if r % 2 == 0 else order[::-1]):
        port = PORTS[name]; stop = threading.Event()
        def loop():
            while not stop.is_set():
                add((name, "instant", "heavy-loop", HEAVY[0]), q(port, HEAVY[0]))
        th = threading.Thread(target=loop); th.start()
        end = time.time() + 15
        while time.time() < end:
            for s in SMALL:
                add((name, "instant", "during", s), q(port, s)); time.sleep(0.1)
        stop.set(); th.join()
keys = sorted({k[1:] for k in res})
print("| kind | when | query | before median (p90) ms | after median (p90) ms | n |")
print("|---|---|---|---|---|---|")
for k in keys:
    b, a = sorted(res.get(("before",) + k, [0])), sorted(res.get(("after",) + k, [0]))
    f = lambda v: f"{statistics.median(v):.1f} ({v[int(len(v)*0.9)]:.1f})"
    print(f"| {k[0]} | {k[1]} | `{k[2]}` | {f(b)} | {f(a)} | {len(b)}/{len(a)} |")
