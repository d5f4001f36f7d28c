#!/usr/bin/env python3
"""Records Prometheus' own histogram chunks for the golden test (`golden_chunks` in
../tests.rs): sends the workload below to Prometheus (>= 2.42, native histograms on) by
remote write, stops it, and writes the histogram chunks of its chunks_head file as
`<count> <hex>` lines to prometheus-chunks.txt. Usage: golden.py [path to prometheus]."""
import os, signal, socket, struct, subprocess, sys, tempfile, time, urllib.request

T0 = 1_700_000_000_000
N = 400


def workload(k):
    """Step k of the workload; the Rust test builds the same."""
    t = T0 + k * 15000 + (k * 7 % 11) - 5
    nb = 25 if k >= 50 else 24
    spans = [(-5, 10), (2, nb - 10)]
    pos = [k * (i % 5 + 3) + ((k * k + i) % 3) for i in range(nb)]
    neg = [k, 2 * k]
    zc = k // 2
    count = sum(pos) + sum(neg) + zc
    s = k * 1.5 + ((k * k) % 97) * 0.125
    return t, spans, pos, neg, zc, count, s


def uv(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def zz(n):
    return (n << 1) ^ (n >> 63)


def key(f, wt):
    return uv(f << 3 | wt)


def ld(f, b):
    return key(f, 2) + uv(len(b)) + b


def dbl(f, v):
    return key(f, 1) + struct.pack("<d", v)


def deltas(abs_):
    out, prev = [], 0
    for a in abs_:
        out.append(a - prev)
        prev = a
    return out


def hist_pb(k):
    t, spans, pos, neg, zc, count, s = workload(k)
    b = key(1, 0) + uv(count) + dbl(3, s) + key(4, 0) + uv(zz(3) & 0xFFFFFFFF)
    b += dbl(5, 2.0 ** -128) + key(6, 0) + uv(zc)
    b += ld(8, key(1, 0) + uv(zz(0)) + key(2, 0) + uv(2))
    b += ld(9, b"".join(uv(zz(d) & (2**64 - 1)) for d in deltas(neg)))
    for off, ln in spans:
        b += ld(11, key(1, 0) + uv(zz(off) & 0xFFFFFFFF) + key(2, 0) + uv(ln))
    b += ld(12, b"".join(uv(zz(d) & (2**64 - 1)) for d in deltas(pos)))
    b += key(15, 0) + uv(t)
    return b


def snappy_literal(data):
    out = uv(len(data))
    i = 0
    while i < len(data):
        chunk = data[i : i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out += bytes([n << 2])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += chunk
        i += len(chunk)
    return out


def main():
    prom = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/prometheus"
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "p.yml"), "w") as f:
        f.write("global: {}\n")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = subprocess.Popen(
        [prom, "--config.file=" + os.path.join(d, "p.yml"), "--storage.tsdb.path=" + os.path.join(d, "data"),
         "--web.listen-address=127.0.0.1:%d" % port, "--enable-feature=native-histograms",
         "--web.enable-remote-write-receiver"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        labels = ld(1, ld(1, b"__name__") + ld(2, b"golden"))
        ts = labels + b"".join(ld(4, hist_pb(k)) for k in range(N))
        body = snappy_literal(ld(1, ts))
        req = urllib.request.Request("http://127.0.0.1:%d/api/v1/write" % port, data=body, headers={
            "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Write-Version": "0.1.0"})
        urllib.request.urlopen(req, timeout=10)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    data = open(os.path.join(d, "data", "chunks_head", "000001"), "rb").read()
    i, lines = 8, []
    while i + 25 < len(data):
        enc = data[i + 24]
        i += 25
        n, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        chunk = data[i : i + n]
        i += n + 4
        if n == 0:
            break
        if enc == 2:
            lines.append("%d %s" % (struct.unpack(">H", chunk[:2])[0], chunk.hex()))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prometheus-chunks.txt")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(len(lines), "chunks ->", out)


main()
