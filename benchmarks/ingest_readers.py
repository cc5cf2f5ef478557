"""Throughput and peak memory of each reader on generated inputs (no extraction, no register).

Writes invented articles into a feed, JSONL dumps (plain, gzip, zstd), a CSV dump and a
WARC archive in a temporary folder, then reads each with its reader and prints articles/s
and the peak of memory allocated while reading (tracemalloc).

    .venv/bin/python benchmarks/ingest_readers.py --articles 20000
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

import zstandard

from armsledger.readers import iter_records

WORDS = [
    "ministry", "officials", "contract", "batteries", "delivery", "navy", "radar", "talks",
    "budget", "crews", "training", "coast", "shipyard", "vessels", "engineers", "statement",
]  # fmt: skip


def texts(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(250)) + f" {i}." for i in range(count)]


def write_inputs(folder: Path, count: int) -> dict[str, Path]:
    bodies = texts(count)
    lines = b"".join(
        json.dumps({"id": i, "text": t}).encode() + b"\n" for i, t in enumerate(bodies)
    )
    paths = {"jsonl": folder / "d.jsonl", "jsonl.gz": folder / "d.jsonl.gz"}
    paths["jsonl"].write_bytes(lines)
    paths["jsonl.gz"].write_bytes(gzip.compress(lines, compresslevel=6))
    paths["jsonl.zst"] = folder / "d.jsonl.zst"
    paths["jsonl.zst"].write_bytes(zstandard.ZstdCompressor().compress(lines))
    paths["csv"] = folder / "d.csv"
    with paths["csv"].open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(bodies))
    paths["feed"] = folder / "f.xml"
    items = "".join(
        f"<item><title>t{i}</title><guid>g{i}</guid><description>{t}</description></item>"
        for i, t in enumerate(bodies[: min(count, 5000)])
    )
    paths["feed"].write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'
    )
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    paths["warc.gz"] = folder / "a.warc.gz"
    with paths["warc.gz"].open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i, t in enumerate(bodies[: min(count, 2000)]):
            html = f"<html><body><article><p>{t}</p><p>{t[::-1]}</p></article></body></html>"
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    f"https://site.example/{i}", "response",
                    payload=io.BytesIO(html.encode()), http_headers=headers,
                )
            )  # fmt: skip
    return paths


def measure(path: Path) -> tuple[int, float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    count = sum(1 for record in iter_records(path) if record.article is not None)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return count, elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_inputs(Path(tmp), args.articles)
        print(f"{'reader':<10} {'articles':>9} {'articles/s':>11} {'MB in':>7} {'peak MB':>8}")
        for name, path in paths.items():
            count, elapsed, peak = measure(path)
            size = path.stat().st_size / 2**20
            print(
                f"{name:<10} {count:>9,} {count / elapsed:>11,.0f} {size:>7.1f} "
                f"{peak / 2**20:>8.1f}"
            )


if __name__ == "__main__":
    main()
