"""Articles per second of ``ingest`` and of ``batch`` on 1 and 2 Dask workers, with peak memory.

Corpus: ``--articles`` generated article files in a temporary folder, one in five relevant (a
mix of sentences from several development articles, ``../shared/dev``, read in place and
never copied into the repository, so no two are wire copies of each other) and the rest
irrelevant prose, each text different. Each mode writes a new SQLite register and runs in a
process of its own, so its peak memory is its own. Before the clock starts, each process
loads what it uses (catalog, cue words, language detector, MinHash: about 2 s), and for
``batch`` the cluster is started and each worker has loaded its pipeline; that start-up is
reported apart, with the rate counting it too, so the first rate is the steady one a long
run approaches. The clock stops when the run has ended, its deals merged.

``ingest``
    :func:`armsledger.batch.ingest_paths`, one process.
``batch``
    :func:`armsledger.parallel.batch_paths` on a LocalCluster of 1 or 2 worker processes
    (one thread each); the peak resident memory of each worker is reported, and that of
    the writer (the process that reads dumps, schedules and writes the register).

    python benchmarks/batch_scale.py [--articles 2000] [--dev ../shared/dev] [--as-dump]

With ``--as-dump`` the articles are one JSON Lines dump, which ``batch`` splits into
partitions of records as it reads it.

The issue's corpus of 100,000 articles is ``--articles 100000``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import prose

from armsledger.ingest import read_article


def make_corpus(folder: Path, n: int, dev: Path, *, dump: bool = False) -> Path:
    """Write ``n`` articles, one in five relevant, all texts distinct: as article files in
    ``folder``, or as one JSON Lines dump in it; the input to give ``ingest`` and ``batch``."""
    texts = [read_article(p).text for p in sorted(dev.glob("*.txt"))]
    if not texts:
        sys.exit(f"no .txt articles in {dev}")
    sentences = [s.strip() + "." for t in texts for s in t.split(". ") if len(s.split()) > 4]
    rng = random.Random(7)

    def body(i: int) -> str:
        if i % 5 == 0:
            return " ".join(rng.sample(sentences, 8)) + "\n\n" + prose(rng, 120)
        return prose(rng, 300)

    if not dump:
        for i in range(n):
            (folder / f"a{i:06d}.txt").write_text(body(i), encoding="utf-8")
        return folder
    path = folder / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps({"id": f"a{i:06d}", "text": body(i)}) + "\n")
    return path


def _measure(mode: str, corpus: Path, db: Path, workers: int) -> dict[str, object]:
    from armsledger.batch import ingest_paths
    from armsledger.parallel import batch_paths, warm_up
    from armsledger.store import Register

    with Register(f"sqlite:///{db}") as register:
        begin = time.perf_counter()
        warm_up()  # this process's catalog, cue words, language detector and MinHash
        if mode == "ingest":
            start = time.perf_counter()
            started = start - begin
            summary = ingest_paths([corpus], register, keep="problems")
            seconds = time.perf_counter() - start
            peaks = {"main": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
        else:
            import logging

            import distributed

            with distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster:
                with distributed.Client(cluster) as client:
                    client.run(warm_up)  # each worker loads its pipeline: part of start-up
                start = time.perf_counter()
                started = start - begin
                report = batch_paths(
                    [corpus],
                    register,
                    scheduler=cluster.scheduler_address,
                    keep="problems",
                )
                seconds = time.perf_counter() - start
            summary, peaks = report.summary, report.peak_rss
        counts = register.counts()
    n = summary.stored + summary.unchanged + summary.duplicate
    return {
        "mode": mode,
        "workers": workers,
        "articles": n,
        "seconds": round(seconds, 2),
        "articles_per_s": round(n / seconds, 1),
        "start_s": round(started, 2),
        "articles_per_s_with_start": round(n / (seconds + started), 1),
        "peak_mb_per_worker": sorted(round(v / 2**20) for v in peaks.values()),
        "writer_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "facts": counts["facts"],
        "deals": counts["deals"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    default_dev = Path(__file__).resolve().parents[2] / "shared" / "dev"
    parser.add_argument("--dev", type=Path, default=default_dev)
    parser.add_argument(
        "--as-dump",
        action="store_true",
        help="one JSON Lines dump of the articles instead of a folder of files",
    )
    parser.add_argument("--no-ingest", action="store_true", help="measure batch only")
    parser.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # one mode, in a process of its own
        mode, corpus, db, workers = args.measure
        print(json.dumps(_measure(mode, Path(corpus), Path(db), int(workers))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        corpus = make_corpus(folder, args.articles, args.dev, dump=args.as_dump)
        kind = "in one JSON Lines dump" if args.as_dump else "as article files"
        print(f"{args.articles} articles {kind}, one in five relevant")
        results = []
        modes = [("batch", 1), ("batch", 2)]
        if not args.no_ingest:
            modes.insert(0, ("ingest", 1))
        for mode, workers in modes:
            db = Path(tmp) / f"{mode}-{workers}.db"
            out = subprocess.run(
                [sys.executable, __file__, "--measure", mode, str(corpus), str(db), str(workers)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            results.append(result)
            print(
                f"{mode:6} workers {workers}: {result['articles']} articles in "
                f"{result['seconds']} s, {result['articles_per_s']} articles/s "
                f"({result['articles_per_s_with_start']} counting the start-up of "
                f"{result['start_s']} s), "
                f"peak {result['peak_mb_per_worker']} MB per worker, "
                f"{result['writer_peak_mb']} MB for the writer, "
                f"{result['facts']} facts, {result['deals']} deals"
            )
        same = {(r["facts"], r["deals"]) for r in results}
        print("same facts and deals in every mode:", len(same) == 1)
        one, two = results[-2]["articles_per_s"], results[-1]["articles_per_s"]
        print(f"batch speed-up, 2 workers over 1: {two / one:.2f}x")


if __name__ == "__main__":
    main()
