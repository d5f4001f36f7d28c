#!/usr/bin/env python3
"""Writes the synthetic benchmark workload (tests/tools/targets.py: K targets x M series,
the same values a live scrape of those targets returns) over a span of time as an
OpenMetrics file for backfill: `sightline import openmetrics` and `promtool tsdb
create-blocks-from openmetrics` read the same file.

Samples carry the `job` and `instance` labels a scrape would add. OpenMetrics keeps a metric
family's samples together, so each metric name's samples go to a temporary file (in time
order of targets and series, each series' points together) and the files are concatenated. --jitter-ms
adds a deterministic scrape jitter of up to that many milliseconds to each target's
timestamps.
"""
import argparse
import importlib.util
import os
import random
import sys


def load_targets(path):
    spec = importlib.util.spec_from_file_location("targets", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=10)
    ap.add_argument("--series-per-target", type=int, default=1000)
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--interval", type=float, default=15.0, help="seconds between samples")
    ap.add_argument("--start", type=int, default=1_700_000_000, help="first timestamp (unix seconds)")
    ap.add_argument("--jitter-ms", type=int, default=0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--targets-py", default=os.path.join(here, "..", "tools", "targets.py"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    tm = load_targets(args.targets_py)
    targets = [tm.Target(i, args.series_per_target, args.seed, float(args.start)) for i in range(args.targets)]
    rnd = random.Random(args.seed)
    steps = int(args.hours * 3600 / args.interval)
    samples = 0
    parts = {}
    tmpdir = args.out + ".parts"
    os.makedirs(tmpdir, exist_ok=True)

    def part(name):
        f = parts.get(name)
        if f is None:
            f = parts[name] = open(os.path.join(tmpdir, f"{len(parts):03d}"), "w", buffering=1 << 20)
        return f

    for i, tgt in enumerate(targets):
        # One target at a time, every step, grouped by series (OpenMetrics keeps a series'
        # points together and a family's series together).
        extra = f'instance="127.0.0.1:{19100 + i}",job="app"'
        points = {}
        for k in range(steps):
            t = args.start + k * args.interval
            body, _ = tgt.render(t)
            ms = int(round(t * 1000)) + (rnd.randint(0, args.jitter_ms) if args.jitter_ms else 0)
            ts = f"{ms // 1000}.{ms % 1000:03d}"
            for line in body.decode().splitlines():
                if not line or line[0] == "#":
                    continue
                name_labels, value = line.rsplit(" ", 1)
                points.setdefault(name_labels, []).append(f"{value} {ts}")
        for name_labels, vals in points.items():
            if name_labels.endswith("}"):
                name = name_labels[:name_labels.index("{")]
                series = f"{name_labels[:-1]},{extra}}}"
            else:
                name = name_labels
                series = f"{name_labels}{{{extra}}}"
            part(name).write("".join(f"{series} {v}\n" for v in vals))
            samples += len(vals)
    with open(args.out, "wb") as out:
        for f in parts.values():
            f.close()
            with open(f.name, "rb") as src:
                while chunk := src.read(1 << 22):
                    out.write(chunk)
            os.remove(f.name)
        out.write(b"# EOF\n")
    os.rmdir(tmpdir)
    print(f"{samples} samples, {steps} steps, {args.targets * args.series_per_target} series", file=sys.stderr)


if __name__ == "__main__":
    main()
