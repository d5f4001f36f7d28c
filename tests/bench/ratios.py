#!/usr/bin/env python3
"""Prints a Markdown table comparing two prom_run.py result files (Sightline / Prometheus)."""
import json
import math
import sys


def main() -> int:
    prom, sl = (json.load(open(p)) for p in sys.argv[1:3])
    print(f"Prometheus run {prom['started_utc']}, Sightline run {sl['started_utc']}; "
          f"config {sl.get('config')}; load {prom['host'].get('loadavg_start')} → {sl['host'].get('loadavg_end')}\n")
    print("| ingest | Prometheus 2.42 | Sightline | ratio |")
    print("|---|---|---|---|")
    for key in ("samples_per_s", "head_series", "cpu_us_per_sample", "cpu_us_per_served_sample",
                "rss_end_ingest_bytes", "rss_bytes_per_series", "disk_bytes_per_sample", "targets_up"):
        a, b = prom["ingest"].get(key), sl["ingest"].get(key)
        r = f"{b / a:.2f}×" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a else "–"
        print(f"| {key} | {a} | {b} | {r} |")
    print("\n| query | kind | Prometheus ms | Sightline ms | ratio |")
    print("|---|---|---|---|---|")
    ratios = []
    pq = {(q["query"], q.get("kind")): q for q in prom["queries"]}
    for q in sl["queries"]:
        p = pq.get((q["query"], q.get("kind")))
        a = p and p.get("median_ms")
        b = q.get("median_ms")
        r = "–"
        if a and b:
            ratios.append(b / a)
            r = f"{b / a:.2f}×"
        err = f" ({q['error']})" if q.get("error") else ""
        print(f"| `{q['query']}` | {q.get('kind')} | {a} | {b}{err} | {r} |")
    if ratios:
        g = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        print(f"\nGeometric mean of query latency ratios: {g:.2f}× (max {max(ratios):.2f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
