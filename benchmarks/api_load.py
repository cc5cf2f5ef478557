"""Requests per second and latency of the deals list, on a register of 100,000 facts.

Builds a register of synthetic facts (invented sentences, exact evidence spans, spread over
some thousands of deals), starts ``armsledger serve`` on a free port of 127.0.0.1, and sends
``GET /api/deals`` (a first page, then pages and filters in turn) from a few client threads
until ``--requests`` have been answered or ``--seconds`` have passed, whichever is first.
Traffic goes to 127.0.0.1 only, and the run stops by itself.

    python benchmarks/api_load.py [--facts 100000] [--requests 3000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from armsledger.model import Modality, Stage, deal_id
from armsledger.store import Register, articles, facts

#: Facts per synthetic article: about what a relevant news article yields.
FACTS_PER_ARTICLE = 5

SUPPLIERS = ["USA", "RUS", "FRA", "DEU", "CHN", "GBR", "ITA", "ISR", "KOR", "TUR"]
RECIPIENTS = [
    "IND", "SAU", "EGY", "QAT", "ARE", "POL", "TWN", "UKR", "PAK", "DZA",
    "IDN", "BRA", "GRC", "JPN", "AUS", "VNM", "MAR", "IRQ", "KAZ", "SRB",
]  # fmt: skip
SYSTEMS = [
    "S-400", "Su-35", "F-16", "F-35", "Rafale", "HIMARS", "Patriot", "Leopard 2",
    "K9 Thunder", "TB2", "J-10", "Typhoon", "T-90", "Iron Dome", "Javelin", "Apache",
]  # fmt: skip
VERBS = {
    Stage.INTEREST: "is interested in buying",
    Stage.NEGOTIATION: "is negotiating for",
    Stage.APPROVAL: "won approval to buy",
    Stage.CONTRACT: "signed a contract for",
    Stage.DELIVERY: "took delivery of",
}

#: The requests sent in turn: the register's first page, later pages, and filters.
PATHS = [
    "/api/deals",
    "/api/deals?offset=500",
    "/api/deals?supplier=RUS",
    "/api/deals?stage=contract&sort=-n_facts",
    "/api/deals?since=2022-01-01&limit=100",
]


def build_register(url: str, n_facts: int, seed: int = 7) -> int:
    """Fill the register at ``url`` with ``n_facts`` synthetic facts; returns the deals."""
    rng = random.Random(seed)
    register = Register(url)
    article_rows = []
    fact_rows = []
    start = dt.date(2015, 1, 1)
    for number in range(n_facts // FACTS_PER_ARTICLE):
        sentences = []
        planned = []
        offset = 0
        for _ in range(FACTS_PER_ARTICLE):
            supplier, recipient = rng.choice(SUPPLIERS), rng.choice(RECIPIENTS)
            system, stage = rng.choice(SYSTEMS), rng.choice(list(VERBS))
            count = rng.randint(2, 48)
            sentence = (
                f"Officials in {recipient} said the country {VERBS[stage]} {count} {system} "
                f"units from {supplier}, in report {number}."
            )
            planned.append((offset, sentence, supplier, recipient, system, stage, count))
            sentences.append(sentence)
            offset += len(sentence) + 1
        text = "\n".join(sentences) + "\n"
        article_rows.append(
            {
                "id": number + 1,
                "name": f"synthetic-{number:06d}.txt",
                "content_hash": hashlib.sha256(text.encode()).hexdigest(),
                "title": f"Synthetic report {number}",
                "date": start + dt.timedelta(days=rng.randrange(3650)),
                "text": text,
                "relevant": True,
                "extractor": "rules.v1",
                "ingested_at": dt.datetime.now(dt.UTC),
            }
        )
        for at, sentence, supplier, recipient, system, stage, count in planned:
            assert text[at : at + len(sentence)] == sentence
            fact_rows.append(
                {
                    "article_id": number + 1,
                    "deal_id": deal_id(supplier, recipient, system, 1),
                    "supplier": supplier,
                    "recipient": recipient,
                    "system": system,
                    "stage": str(stage),
                    "modality": str(Modality.ASSERTED),
                    "quantity_count": count,
                    "quantity_unit": "units",
                    "evidence": sentence,
                    "evidence_start": at,
                    "evidence_end": at + len(sentence),
                    "optional": False,
                    "extractor": "rules.v1",
                }
            )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(articles), article_rows)
        conn.execute(sa.insert(facts), fact_rows)
    engine.dispose()
    deals = register.rebuild_deals()
    register.close()
    return deals


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/deals?limit=1")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start in time")


def load(port: int, requests: int, seconds: float, threads: int) -> tuple[list[float], int]:
    """Latencies (seconds) of answered requests, and how many failed."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    issued = [0]
    deadline = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if issued[0] >= requests:
                    return
                path = PATHS[issued[0] % len(PATHS)]
                issued[0] += 1
            began = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - began
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    failures[0] += 1
        conn.close()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, failures[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3000, help="at most this many")
    parser.add_argument("--seconds", type=float, default=60.0, help="at most this long")
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'load.db'}"
        began = time.perf_counter()
        deals = build_register(url, args.facts)
        print(f"register: {args.facts:,} facts, {deals:,} deals, "
              f"built in {time.perf_counter() - began:.1f} s")  # fmt: skip
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", "from armsledger.cli import main; main()", "serve",
             "--db", url, "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait(port, time.monotonic() + 30)
            began = time.perf_counter()
            latencies, failures = load(port, args.requests, args.seconds, args.threads)
            wall = time.perf_counter() - began
        finally:
            server.terminate()
            server.wait(timeout=10)
    if not latencies:
        raise SystemExit(f"no request was answered ({failures} failed)")
    latencies.sort()

    def at(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000

    print(
        f"GET /api/deals ({len(PATHS)} variants), {args.threads} clients: "
        f"{len(latencies):,} answered, {failures} failed in {wall:.1f} s"
    )
    print(
        f"{len(latencies) / wall:,.0f} requests/s; latency p50 {at(0.50):.1f} ms, "
        f"p95 {at(0.95):.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
