#!/usr/bin/env python3
"""Bytes per native-histogram sample in a server's head chunk files (`chunks_head/`).

Both Prometheus 2.42 and Sightline write every head chunk they cut (a full chunk, by their own
cutting rule) once to `<data>/chunks_head/`; an open chunk is never written there, not even at
shutdown (it is rebuilt from the WAL). So these files hold exactly the full chunks, and their
records give, per chunk, its bytes and (from the chunk's own header) its sample count.

  hist-chunk-bytes.py prometheus|sightline <data dir>

prints one JSON object: histogram chunks, their samples, the chunks' bytes as Prometheus'
chunk encoding defines them (`data`: for Sightline without its leading encoding byte, which
Prometheus keeps in the record header instead, so `data` is comparable byte for byte), the
records' bytes (`record`: the chunk plus each format's per-chunk header and checksum), and both
divided by the samples; and, for integer-histogram chunks, the bytes each chunk pays once
(header, layout, first sample in full) and the bytes of each later sample. Float chunks (`up`, the counter) are counted apart and not included.

Record layouts (see Prometheus v2.42.0 tsdb/chunks/head_chunks.go and Sightline's
host/tsdb/docs/format.md, "Head chunk files"):
  Prometheus: file header 8 bytes; per chunk: series ref 8, min t 8, max t 8 (big-endian),
              encoding 1 (1 XOR, 2 histogram, 3 float histogram), uvarint length, data, CRC 4.
              A histogram chunk's data starts with its sample count (u16, big-endian).
  Sightline:  magic `SLHEADC1`; per record: type 1 (1 chunk, 2 reset), series id 8, min t 8,
              max t 8, length 4 (little-endian), the chunk, CRC 4. The chunk's byte 0 is its
              encoding (1 XOR, 2 decimal, 3 histogram, 4 float histogram), bytes 1..3 the
              sample count (u16, big-endian).
A record cut short at the end of a file (a write in progress) ends that file's walk.
"""
from __future__ import annotations

import json
import os
import sys


def uvarint(b: bytes, i: int) -> tuple[int, int]:
    v = 0
    shift = 0
    while i < len(b):
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7
    raise ValueError("truncated uvarint")


class Bits:
    """A most-significant-bit-first reader of a chunk's bit stream."""

    def __init__(self, data: bytes, pos: int):
        self.v = int.from_bytes(data, "big")
        self.n = len(data) * 8
        self.pos = pos

    def read(self, k: int) -> int:
        if self.pos + k > self.n:
            raise ValueError("past the end")
        self.pos += k
        return (self.v >> (self.n - self.pos)) & ((1 << k) - 1)

    def varbit(self) -> None:
        """Skips one varbit number (Prometheus' putVarbitInt/Uint: a unary prefix of up to 8
        bits, then 0, 3, 6, 9, 12, 18, 25, 56 or 64 bits)."""
        ones = 0
        while ones < 8 and self.read(1) == 1:
            ones += 1
        self.read([0, 3, 6, 9, 12, 18, 25, 56, 64][ones])

    def uvarbit(self) -> int:
        ones = 0
        while ones < 8 and self.read(1) == 1:
            ones += 1
        return self.read([0, 3, 6, 9, 12, 18, 25, 56, 64][ones])


def head_bits(data: bytes) -> int | None:
    """Bits of an integer-histogram chunk (Prometheus' data: count u16, header byte, bit
    stream) up to the end of its first sample: the 3 header bytes, the layout (zero threshold,
    schema, spans) and the first sample written in full (time, count, zero count, sum, every
    bucket). What is left are the later samples' delta-of-deltas. None if undecodable."""
    try:
        r = Bits(data, 24)
        if r.read(8) == 255:
            r.read(64)
        r.varbit()  # Schema.
        buckets = 0
        for _ in range(2):  # Positive, then negative spans.
            for _ in range(r.uvarbit()):
                buckets += r.uvarbit()
                r.varbit()
        r.varbit()  # Time.
        r.uvarbit()  # Count.
        r.uvarbit()  # Zero count.
        r.read(64)  # Sum.
        for _ in range(buckets):
            r.varbit()
        return r.pos
    except ValueError:
        return None


def files(data_dir: str) -> list[str]:
    d = os.path.join(data_dir, "chunks_head")
    if not os.path.isdir(d):
        return []
    return [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.isdigit()]


def walk_prometheus(data_dir: str, acc: dict) -> None:
    for path in files(data_dir):
        b = open(path, "rb").read()
        i = 8
        while i + 25 <= len(b):
            enc = b[i + 24]
            if enc == 0:
                break  # Zero padding after the last record.
            try:
                n, j = uvarint(b, i + 25)
            except ValueError:
                break
            end = j + n + 4
            if end > len(b):
                break
            count = int.from_bytes(b[j : j + 2], "big")
            kind = "hist" if enc in (2, 3) else "float"
            acc[kind]["chunks"] += 1
            acc[kind]["samples"] += count
            acc[kind]["data"] += n
            acc[kind]["record"] += end - i
            if kind == "hist":
                acc["heads"].append(head_bits(b[j : j + n]) if enc == 2 else None)
                acc["sizes"].append((count, n))
            i = end


def walk_sightline(data_dir: str, acc: dict) -> None:
    for path in files(data_dir):
        b = open(path, "rb").read()
        if b[:8] != b"SLHEADC1":
            continue
        i = 8
        while i + 29 <= len(b):
            typ = b[i]
            n = int.from_bytes(b[i + 25 : i + 29], "little")
            end = i + 29 + n + 4
            if typ not in (1, 2) or end > len(b):
                break
            if typ == 1 and n >= 3:
                chunk = b[i + 29 : i + 29 + n]
                count = int.from_bytes(chunk[1:3], "big")
                kind = "hist" if chunk[0] in (3, 4) else "float"
                acc[kind]["chunks"] += 1
                acc[kind]["samples"] += count
                acc[kind]["data"] += n - 1
                acc[kind]["record"] += end - i
                if kind == "hist":
                    acc["heads"].append(head_bits(chunk[1:]) if chunk[0] == 3 else None)
                    acc["sizes"].append((count, n - 1))
            i = end


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("prometheus", "sightline"):
        sys.exit(__doc__)
    acc = {k: {"chunks": 0, "samples": 0, "data": 0, "record": 0} for k in ("hist", "float")}
    acc["heads"] = []
    acc["sizes"] = []
    (walk_prometheus if sys.argv[1] == "prometheus" else walk_sightline)(sys.argv[2], acc)
    h = acc["hist"]
    out = dict(h)
    if h["samples"]:
        out["data_per_sample"] = round(h["data"] / h["samples"], 3)
        out["record_per_sample"] = round(h["record"] / h["samples"], 3)
        out["samples_per_chunk"] = round(h["samples"] / h["chunks"], 1)
    # Integer-histogram chunks split into the part every chunk pays (header, layout, first
    # sample in full) and the bits of each later sample.
    pairs = [(hb, c, d) for hb, (c, d) in zip(acc["heads"], acc["sizes"]) if hb is not None and c > 1]
    if pairs:
        head = sum(hb for hb, _, _ in pairs)
        later_bits = sum(d * 8 - hb for hb, _, d in pairs)
        later = sum(c - 1 for _, c, _ in pairs)
        out["head_bytes_per_chunk"] = round(head / 8 / len(pairs), 1)
        out["later_bytes_per_sample"] = round(later_bits / 8 / later, 3)
    out["float_chunks"] = acc["float"]["chunks"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
