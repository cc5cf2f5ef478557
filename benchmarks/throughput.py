"""Throughput and peak memory of ``extract`` on a large corpus, on one core.

Corpus: the dev articles (``../shared/dev``, read in place, never copied) replicated to
``--articles`` articles; then a 9:1 mix of irrelevant text (generated prose with no weapon in
it) and those articles, which the cheap relevance gate should pass over quickly. Beside each
figure it prints the time of spaCy's tokenizer alone on the same text, the floor any
spaCy-based pipeline pays.

    python benchmarks/throughput.py [--articles 10000] [--repeat 3] [--dev ../shared/dev]

Each figure is the best of ``--repeat`` runs (as timeit reports), with the slowest beside it:
on a shared machine the spread is noise from elsewhere, the best run is the code's own speed.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

from corpus import prose

import armsledger
from armsledger.catalog import load_catalog
from armsledger.extract import extract_facts
from armsledger.ingest import read_article
from armsledger.model import Article
from armsledger.segment import split_sentences


def _run(articles: list[Article]) -> tuple[float, int]:
    start = time.perf_counter()
    facts = 0
    for article in articles:
        facts += len(extract_facts(article))
    return time.perf_counter() - start, facts


def _tokenize_only(articles: list[Article]) -> float:
    from armsledger.segment import _nlp

    tokenizer = _nlp().tokenizer
    start = time.perf_counter()
    for article in articles:
        tokenizer(article.text)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    default_dev = Path(__file__).resolve().parents[2] / "shared" / "dev"
    parser.add_argument("--dev", type=Path, default=default_dev)
    args = parser.parse_args()

    dev = [read_article(p) for p in sorted(args.dev.glob("*.txt"))]
    if not dev:
        sys.exit(f"no .txt articles in {args.dev}")
    n = args.articles
    relevant = [
        Article(id=f"{i}-{a.id}", text=a.text, title=a.title, date=a.date)
        for i, a in zip(range(n), (dev[i % len(dev)] for i in range(n)), strict=True)
    ]
    rng = random.Random(7)
    fillers = [prose(rng) for _ in range(200)]
    mix = [
        relevant[i // 10] if i % 10 == 0 else Article(id=f"x{i}", text=fillers[i % len(fillers)])
        for i in range(n)
    ]
    start = time.perf_counter()
    load_catalog(Path(armsledger.__file__).parent / "data")  # a named folder: never cached
    print(f"catalog: loaded in {time.perf_counter() - start:.2f} s")
    extract_facts(dev[0])  # load the catalog and spaCy once, outside the timing
    split_sentences("Warm up.")

    words = sum(len(a.text.split()) for a in relevant)
    print(f"corpus: {n} articles replicated from {len(dev)} dev texts, {words / n:.0f} words each")
    for name, corpus in (("relevant", relevant), ("9:1 mix", mix)):
        runs = [_run(corpus) for _ in range(args.repeat)]
        seconds, facts = min(runs)
        slowest = max(s for s, _ in runs)
        tok = min(_tokenize_only(corpus) for _ in range(args.repeat))
        print(
            f"{name:>9}: {n / seconds:8.0f} articles/s (slowest run {n / slowest:.0f}; "
            f"{seconds:.2f} s, {facts} facts); spaCy tokenizer alone {n / tok:8.0f} articles/s "
            f"(ratio {seconds / tok:.1f}x)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB (max resident set size)")


if __name__ == "__main__":
    main()
