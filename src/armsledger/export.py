"""Write the register's facts or deals out as CSV, JSON or Parquet.

JSON keeps FORMAT.md's nesting (``quantity`` and ``value`` objects, a deal's ``timeline``).
CSV and Parquet are flat tables: ``quantity`` becomes ``quantity_count`` and
``quantity_unit``, ``value`` becomes ``value_amount``, ``value_currency`` and
``value_approximate``, and a deal's timeline is left to the JSON export (its length is the
``events`` column, its contradictions are counted in ``contradictions``, its corroboration is
JSON only). Every fact row carries its ``article`` and its ``deal`` id.

A CSV text cell that a spreadsheet would run as a formula (one starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is written with a leading ``'``
(:func:`armsledger.serialize.guard_csv_cell`); numbers are written as they are. JSON and
Parquet keep every value as it is: their readers do not run formulas.

All three are written as the rows come, so an export never holds the whole register.

Flows (who supplies whom) are written as a graph for Gephi and networkx users: GraphML or
GEXF, a node per state and an edge per supplier and recipient with its deal and fact counts
and systems.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import networkx as nx
import pyarrow as pa
import pyarrow.parquet as pq

from armsledger.errors import ArmsLedgerError, ConfigError
from armsledger.merge import fact_deal_id
from armsledger.model import Deal, Fact
from armsledger.serialize import deal_to_dict, fact_to_dict, guard_csv_cell

__all__ = [
    "FORMATS",
    "GRAPH_FORMATS",
    "DEAL_SCHEMA",
    "FACT_SCHEMA",
    "export_deals",
    "export_facts",
    "export_flows",
]

#: The formats an export can be written in.
FORMATS: tuple[str, ...] = ("csv", "json", "parquet")

#: The formats the flows graph can be written in.
GRAPH_FORMATS: tuple[str, ...] = ("graphml", "gexf")

#: Rows per Parquet row group: large enough to compress well, small enough to stream.
_PARQUET_BATCH = 10_000

_FLAT_QUANTITY = [("quantity_count", pa.int64()), ("quantity_unit", pa.string())]
_FLAT_VALUE = [
    ("value_amount", pa.float64()),
    ("value_currency", pa.string()),
    ("value_approximate", pa.bool_()),
]

#: Columns of a flat fact row (CSV, Parquet), in order.
FACT_SCHEMA = pa.schema(
    [
        ("article", pa.string()),
        ("deal", pa.string()),
        ("supplier", pa.string()),
        ("recipient", pa.string()),
        ("system", pa.string()),
        ("stage", pa.string()),
        ("modality", pa.string()),
        ("lot", pa.int64()),
        *_FLAT_QUANTITY,
        *_FLAT_VALUE,
        ("speaker", pa.string()),
        ("evidence", pa.string()),
        ("optional", pa.bool_()),
    ]
)

#: Columns of a flat deal row (CSV, Parquet), in order.
DEAL_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("supplier", pa.string()),
        ("recipient", pa.string()),
        ("system", pa.string()),
        ("lot", pa.int64()),
        ("stage", pa.string()),
        *_FLAT_QUANTITY,
        *_FLAT_VALUE,
        ("first_seen", pa.string()),
        ("last_seen", pa.string()),
        ("events", pa.int64()),
        ("confidence", pa.float64()),
        ("contradictions", pa.int64()),
    ]
)


class FactRegister(Protocol):
    """What an export reads: the register's ``iter_facts``."""

    def iter_facts(self) -> Iterable[Fact]: ...


class DealRegister(Protocol):
    """What an export reads: the register's ``iter_deals``."""

    def iter_deals(self) -> Iterable[Deal]: ...


def _fact_row(fact: Fact) -> dict[str, Any]:
    """A fact as FORMAT.md writes it, after its article and deal ids."""
    return {
        "article": fact.article_id,
        "deal": fact_deal_id(fact),
        **fact_to_dict(fact),
    }


def _flatten(row: dict[str, Any]) -> dict[str, Any]:
    """Nested ``quantity`` and ``value`` as flat columns; other fields as they are."""
    flat = dict(row)
    quantity = flat.pop("quantity", None) or {}
    value = flat.pop("value", None) or {}
    flat.update(
        quantity_count=quantity.get("count"),
        quantity_unit=quantity.get("unit"),
        value_amount=value.get("amount"),
        value_currency=value.get("currency"),
        value_approximate=value.get("approximate"),
    )
    return flat


def _flat_deal_row(deal: Deal) -> dict[str, Any]:
    row = _flatten(deal_to_dict(deal))
    row["events"] = len(row.pop("timeline"))
    row.pop("corroboration")
    row["contradictions"] = len(row.pop("contradictions"))
    return row


def _write_json(rows: Iterable[dict[str, Any]], out: IO[bytes]) -> None:
    out.write(b"[")
    for index, row in enumerate(rows):
        out.write(b",\n  " if index else b"\n  ")
        out.write(json.dumps(row, ensure_ascii=False).encode("utf-8"))
    out.write(b"\n]\n")


def _write_csv(rows: Iterable[dict[str, Any]], out: IO[bytes], schema: pa.Schema) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        writer = csv.DictWriter(text, fieldnames=schema.names)
        writer.writeheader()
        writer.writerows(
            {name: guard_csv_cell(value) for name, value in row.items()} for row in rows
        )
        text.flush()
    finally:
        text.detach()


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_parquet(rows: Iterable[dict[str, Any]], out: IO[bytes], schema: pa.Schema) -> None:
    with pq.ParquetWriter(out, schema) as writer:
        wrote = False
        for batch in _batches(rows, _PARQUET_BATCH):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            wrote = True
        if not wrote:
            writer.write_table(schema.empty_table())


def _export(
    rows: Iterable[Any],
    fmt: str,
    out: IO[bytes] | Path | str,
    schema: pa.Schema,
    nested: Callable[[Any], dict[str, Any]],
    flat: Callable[[Any], dict[str, Any]],
) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    with contextlib.ExitStack() as stack:
        if isinstance(out, str | Path):
            try:
                stream: IO[bytes] = stack.enter_context(open(out, "wb"))  # noqa: SIM115
            except OSError as error:
                raise ArmsLedgerError(
                    f"{out}: cannot write the export: {error.strerror or error}"
                ) from error
        else:
            stream = out
        if fmt == "json":
            _write_json(map(nested, rows), stream)
        elif fmt == "csv":
            _write_csv(map(flat, rows), stream, schema)
        else:
            _write_parquet(map(flat, rows), stream, schema)


def export_facts(register: FactRegister, fmt: str, out: IO[bytes] | Path | str) -> None:
    """Write every fact of the register to ``out`` (a binary stream or a file path).

    Raises:
        ConfigError: ``fmt`` is not one of ``FORMATS``.
        ArmsLedgerError: the output file cannot be written.
    """
    _export(
        register.iter_facts(),
        fmt,
        out,
        FACT_SCHEMA,
        _fact_row,
        lambda fact: _flatten(_fact_row(fact)),
    )


def export_deals(register: DealRegister, fmt: str, out: IO[bytes] | Path | str) -> None:
    """Write every deal of the register to ``out``; JSON includes each deal's timeline.

    Raises:
        ConfigError: ``fmt`` is not one of ``FORMATS``.
        ArmsLedgerError: the output file cannot be written.
    """
    _export(register.iter_deals(), fmt, out, DEAL_SCHEMA, deal_to_dict, _flat_deal_row)


def flow_graph(deals: Iterable[Deal], name: Callable[[str], str] = str) -> nx.DiGraph:
    """Who supplies whom: a node per state (``label`` its name), an edge per supplier and
    recipient with its ``deals``, ``facts`` and ``systems`` (sorted, comma-separated).
    Deals with an unknown party are left out: a graph edge needs both ends."""
    graph = nx.DiGraph()
    systems: dict[tuple[str, str], set[str]] = {}
    for deal in deals:
        if not deal.supplier or not deal.recipient:
            continue
        for code in (deal.supplier, deal.recipient):
            if code not in graph:
                graph.add_node(code, label=name(code))
        edge = (deal.supplier, deal.recipient)
        if not graph.has_edge(*edge):
            graph.add_edge(*edge, deals=0, facts=0)
        graph.edges[edge]["deals"] += 1
        graph.edges[edge]["facts"] += len(deal.timeline)
        if deal.system:
            systems.setdefault(edge, set()).add(deal.system)
    for edge in graph.edges:
        graph.edges[edge]["systems"] = ", ".join(sorted(systems.get(edge, ())))
    return graph


def export_flows(
    register: DealRegister,
    fmt: str,
    out: IO[bytes] | Path | str,
    name: Callable[[str], str] = str,
) -> None:
    """Write the supplier-to-recipient flows of the register as a GraphML or GEXF graph.

    Raises:
        ConfigError: ``fmt`` is not one of ``GRAPH_FORMATS``.
        ArmsLedgerError: the output file cannot be written.
    """
    if fmt not in GRAPH_FORMATS:
        raise ConfigError(f"flows format {fmt!r} is not one of {', '.join(GRAPH_FORMATS)}")
    graph = flow_graph(register.iter_deals(), name)
    write = nx.write_graphml if fmt == "graphml" else nx.write_gexf
    try:
        write(graph, out)
    except OSError as error:
        raise ArmsLedgerError(
            f"{out}: cannot write the export: {error.strerror or error}"
        ) from error
