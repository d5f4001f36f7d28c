#!/usr/bin/env python3
"""Regenerates host/daemon/link/symbol-order.txt: the functions a running daemon executes.

The release build hands that file to the linker (host/daemon/build.rs), which lays the listed
functions out first in .text, hottest first, so the pages of code a daemon touches are few
and adjacent instead of spread over the whole binary (a 10 k-series daemon's file-backed RSS
went from 23 to 11 MiB). The `.llvm.<hash>` suffixes of promoted local functions differ from
build to build (they hash modules that hold the checkout's paths); the build script gathers
those by their names without the hash, so the list works in any checkout, and `--check`
counts them that way. This script profiles the release binary under valgrind's callgrind,
which counts every function that runs, not a sample of them:

  1. the benchmark workload: 10 synthetic targets x 1,000 series (tests/tools/targets.py)
     scraped every 5 s, then the seed's queries, instant and range;
  2. the embedded default configuration (self-scrape, rules, the web UI's pages and API)
     with the plugins in plugins/*.wasm when they are built (`./dev plugins`); under valgrind
     wasmtime cannot reserve its memory pool, so plugin execution itself is not profiled.

Functions of the first run come first (by instructions executed), then those only the second
ran. Needs valgrind (apt-get install valgrind) and a release build. Everything listens on
127.0.0.1; every wait is bounded; what it starts it stops.

  tests/bench/link-order.py [--sightline BIN] [--seconds 60] [--out FILE]
  tests/bench/link-order.py --check [--sightline BIN]   # how much of the file BIN has
"""
from __future__ import annotations

import argparse
import collections
import http.client
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from benchlib import SEED_QUERIES as QUERIES, wait_ready  # noqa: E402

ORDER_FILE = ROOT / "host/daemon/link/symbol-order.txt"

WEB_PATHS = ["/", "/api/v1/targets", "/api/v1/rules", "/api/v1/alerts", "/metrics",
             "/api/v1/status/buildinfo", "/api/v1/label/__name__/values",
             "/api/v1/query?query=up", "/api/v2/alerts", "/api/v2/silences"]


def get(port: int, path: str, timeout: float = 300) -> None:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        c.getresponse().read()
    finally:
        c.close()


def stop(proc: subprocess.Popen, limit: float = 120) -> None:
    """SIGTERM (callgrind writes its profile when the process exits), then SIGKILL."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def callgrind(binary: Path, args: list[str], out: Path, log: Path) -> subprocess.Popen:
    cmd = ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}",
           "--dump-instr=no", "--collect-jumps=no", str(binary), *args]
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def functions(profile: Path, binary_name: str) -> dict[str, int]:
    """Self cost (instructions) of each function of `binary_name` in a callgrind profile."""
    names: dict[str, str] = {}
    objs: dict[str, str] = {}
    fn_obj: dict[str, str | None] = {}
    cost: collections.Counter[str] = collections.Counter()
    cur = cur_obj = None
    after_calls = False
    compressed = re.compile(r"\((\d+)\)(?: (.*))?")
    for line in profile.open(errors="replace"):
        key, eq, rest = line.rstrip("\n").partition("=")
        if eq and key in ("ob", "cob", "fn", "cfn", "fl", "fi", "fe", "cfi", "cfl", "calls"):
            m = compressed.match(rest)
            if key in ("ob", "cob"):
                if m and m.group(2) is not None:
                    objs[m.group(1)] = m.group(2)
                if key == "ob":
                    cur_obj = objs.get(m.group(1)) if m else rest
            elif key in ("fn", "cfn"):
                fid = m.group(1) if m else rest
                if m is None or m.group(2) is not None:
                    names[fid] = rest if m is None else m.group(2)
                if key == "fn":
                    cur, fn_obj[fid] = fid, cur_obj
            elif key == "calls":
                after_calls = True  # the next cost line is the call's inclusive cost
            continue
        if line[:1].isdigit() or line[:1] in "+-*":
            if after_calls:
                after_calls = False
                continue
            parts = line.split()
            if cur is not None and len(parts) >= 2 and parts[1].isdigit():
                cost[cur] += int(parts[1])
    out: dict[str, int] = {}
    for fid, c in cost.items():
        if c > 0 and (fn_obj.get(fid) or "").endswith("/" + binary_name):
            name = names[fid].split("'")[0]  # callgrind's recursion marker: name'2
            out[name] = out.get(name, 0) + c
    return out


def defined_text_symbols(binary: Path) -> dict[str, tuple[int, int]]:
    """Function symbols of `binary`: name -> (address, size)."""
    nm = subprocess.run(["nm", "-S", "--defined-only", str(binary)], check=True,
                        capture_output=True, text=True).stdout
    out = {}
    for line in nm.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tTwW":
            out[p[3]] = (int(p[0], 16), int(p[1], 16))
    return out


def unhashed(name: str) -> str:
    """`name` without the `.llvm.<hash>` suffix ThinLTO gives promoted local functions."""
    return re.sub(r"\.llvm\.\d+$", "", name)


def check(binary: Path) -> int:
    listed = [n for n in ORDER_FILE.read_text().splitlines() if n]
    syms = defined_text_symbols(binary)
    text = sum(s for _, s in syms.values())
    # The build script's linker script gathers the suffixed names whatever their hash
    # (host/daemon/build.rs, `hot_script`), so a build elsewhere matches them by the rest.
    by_base = collections.defaultdict(list)
    for name, at in syms.items():
        if unhashed(name) != name:
            by_base[unhashed(name)].append(at)
    exact = [n for n in listed if n in syms]
    hashed = {unhashed(n) for n in listed if unhashed(n) != n and unhashed(n) in by_base}
    found = exact + [n for n in listed if n not in syms and unhashed(n) in hashed]
    present = [syms[n] for n in exact] + [at for n in hashed for at in by_base[n]]
    present = list(set(present))
    size = sum(s for _, s in present)
    span = (max(a + s for a, s in present) - min(a for a, _ in present)) if present else 0
    # A few can sit elsewhere (a function LLVM merged into another's section is an alias
    # there): the narrowest stretch of text that holds 99 % of them says more.
    present.sort()
    k = max(1, (len(present) * 99 + 99) // 100)
    core = min((present[i + k - 1][0] + present[i + k - 1][1] - present[i][0]
                for i in range(len(present) - k + 1)), default=0)
    print(f"{len(found)} of {len(listed)} listed functions are in {binary} "
          f"({len(exact)} by their exact name, the rest by the name without its .llvm.<hash>); "
          f"with the copies of the latter that is {size / 2**20:.2f} MiB of "
          f"{text / 2**20:.1f} MiB of functions, spanning {span / 2**20:.2f} MiB of its text, "
          f"99 % of them {core / 2**20:.2f} MiB")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", type=Path, default=ROOT / "target/release/sightline")
    ap.add_argument("--seconds", type=float, default=60, help="ingest before the queries")
    ap.add_argument("--out", type=Path, default=ORDER_FILE)
    ap.add_argument("--port", type=int, default=19470, help="first of the ports used")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    binary = args.sightline.resolve()
    if not binary.is_file():
        raise SystemExit(f"no binary at {binary} (cargo build --release -p sightline-daemon)")
    if args.check:
        return check(binary)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    work = Path(tempfile.mkdtemp(prefix="sightline-link-order-"))
    procs: list[subprocess.Popen] = []
    try:
        tport, p1, p2 = args.port, args.port + 20, args.port + 21
        targets = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/tools/targets.py"), "--targets", "10",
             "--series-per-target", "1000", "--port", str(tport),
             "--max-seconds", str(int(args.seconds) + 900)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(targets)
        cfg = work / "bench.yml"
        tl = ", ".join(f"'127.0.0.1:{tport + i}'" for i in range(10))
        cfg.write_text("global:\n  scrape_interval: 5s\n  scrape_timeout: 5s\n"
                       f"scrape_configs:\n  - job_name: app\n    static_configs:\n"
                       f"      - targets: [{tl}]\n")
        plugins = work / "plugins"
        plugins.mkdir()
        for wasm in sorted((ROOT / "plugins").glob("*.wasm")):
            shutil.copy(wasm, plugins)
            toml = wasm.with_suffix(".toml")
            if toml.is_file():
                shutil.copy(toml, plugins)
        runs = [
            (p1, ["--config.file", str(cfg)], work / "empty-plugins"),
            (p2, [], plugins),  # the embedded default configuration
        ]
        for i, (port, extra, pdir) in enumerate(runs):
            data = work / f"data{i}"
            procs.append(callgrind(binary, [
                "serve", *extra, f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}", f"--plugins.dir={pdir}",
                "--log.level=warn"], work / f"cg{i}.out", work / f"vg{i}.log"))
        for (port, _, _), proc in zip(runs, procs[1:]):
            wait_ready(port, proc, limit=600)
        print(f"both daemons ready under callgrind; ingesting for {args.seconds:.0f} s", flush=True)
        time.sleep(args.seconds)
        end = time.time()
        for q in QUERIES:
            get(p1, "/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": f"{end:.3f}"}))
            get(p1, "/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": q, "start": f"{end - 60:.3f}", "end": f"{end:.3f}", "step": "5s"}))
        for path in WEB_PATHS:
            get(p2, path)
        print("queries and pages done; stopping", flush=True)
        for proc in procs[1:]:
            stop(proc)
        seen: set[str] = set()
        order: list[str] = []
        for i in range(len(runs)):
            prof = functions(work / f"cg{i}.out", binary.name)
            print(f"run {i + 1}: {len(prof)} functions", flush=True)
            for name, _ in sorted(prof.items(), key=lambda x: -x[1]):
                if name not in seen:
                    seen.add(name)
                    order.append(name)
        if len(order) < 1000:
            raise SystemExit(f"only {len(order)} functions profiled; see the logs in {work}")
        args.out.write_text("\n".join(order) + "\n")
        print(f"wrote {len(order)} functions to {args.out}")
        shutil.rmtree(work, ignore_errors=True)
        return 0
    finally:
        for proc in procs:
            stop(proc, limit=30)


if __name__ == "__main__":
    sys.exit(main())
