"""Compare the register with an export of the SIPRI Arms Transfers Database (trade register).

SIPRI's trade register records orders and deliveries of major conventional arms; the news
register records what the news said about them. Lined up by supplier, recipient and system
family, the two show deals the news reports that SIPRI does not (yet) hold, SIPRI deals the
news also covers, and deals where they disagree about how far the transfer went.

Two export layouts are read (both Latin-1, after some lines of notes; the header row tells
them apart):

``orders``
    ``Recipient,Supplier,Year of order, ,Number ordered, ,Weapon designation,...``: one row
    per deal, delivery years as a ``;``-separated list, a free-text ``Comments`` column that
    may break a record across two lines (it is not quoted), ``?`` flags in unnamed columns.
``deliveries``
    ``SIPRI AT Database ID,Supplier,Recipient,Designation,...``: one row per deal and
    delivery year (rows of one deal share its ID), each line ending in ``;``.

SIPRI's data may not be redistributed: it is read from where the user keeps it, never
shipped with armsledger.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from armsledger.catalog import Catalog, load_catalog
from armsledger.errors import InputError, ParseError
from armsledger.model import SIDE_STAGES, Deal, Modality, Stage
from armsledger.serialize import guard_csv_row

__all__ = [
    "Comparison",
    "Disagreement",
    "Match",
    "SipriDeal",
    "SipriRegister",
    "compare_register",
    "load_sipri",
    "save_sipri_csv",
]

#: Lines of notes to look through for the header row (SIPRI writes 11).
_MAX_PREAMBLE = 40

_ORDERS_HEADER = "Recipient,Supplier,Year of order"
_DELIVERIES_HEADER = "SIPRI AT Database ID,Supplier,Recipient"
_ORDERS_FIELDS = 16
#: Physical lines one record of the orders layout may be broken over, after its first
#: (SIPRI's exports break a few at newlines in Comments; one is seen, three allowed).
_MAX_BROKEN_LINES = 3
_DELIVERIES_FIELDS = 17

#: News deals are compared with SIPRI orders placed up to this many years after the last
#: report and still delivering (or pending) this many years before the first: a deal of the
#: 1990s between the same states for the same family is another deal.
_WINDOW_YEARS = 1


@dataclass(frozen=True, slots=True)
class SipriDeal:
    """One deal of a SIPRI export, with SIPRI's own names and what the catalog makes of them.

    Attributes:
        record: where it is in the file (``FILE:LINE`` of its first row) or, in the
            deliveries layout, its SIPRI AT Database ID.
        supplier_name, recipient_name, designation, description: as SIPRI writes them.
        supplier, recipient: ISO alpha-3 codes, or ``None`` where the catalog does not know
            the name (non-state actors, states that no longer exist).
        family: the catalog's system family of the designation, or ``None``.
        order_year: the year of order (``None`` where not given).
        ordered: the number ordered (orders layout only; ``None`` where not given).
        delivered: the number delivered so far.
        delivery_years: the years of deliveries, in order.
    """

    record: str
    supplier_name: str
    recipient_name: str
    designation: str
    description: str
    supplier: str | None
    recipient: str | None
    family: str | None
    order_year: int | None
    ordered: int | None
    delivered: int
    delivery_years: tuple[int, ...]

    @property
    def key(self) -> tuple[str | None, str | None, str | None]:
        return (self.supplier, self.recipient, self.family)

    @property
    def stage(self) -> Stage:
        """The furthest stage SIPRI records: delivered (all ordered), delivery, or contract."""
        if self.delivered and self.ordered and self.delivered >= self.ordered:
            return Stage.DELIVERED
        return Stage.DELIVERY if self.delivered else Stage.CONTRACT

    def describe(self) -> str:
        """One line: designation, order year, numbers ordered and delivered, years."""
        years = self.delivery_years
        span = f" in {years[0]}" if len(years) == 1 else ""
        if len(years) > 1:
            span = f" in {years[0]}-{years[-1]}"
        ordered = f"{self.ordered} " if self.ordered is not None else ""
        return (
            f"{self.designation} ({self.description}), ordered {self.order_year or '?'}"
            f"{': ' + ordered.strip() if ordered else ''}; delivered {self.delivered}{span}"
        )


@dataclass(frozen=True, slots=True)
class SipriRegister:
    """A SIPRI export as read: its layout, header columns, deals and unresolved rows."""

    path: str
    layout: str
    columns: tuple[str, ...]
    generated: str | None
    deals: tuple[SipriDeal, ...]

    @property
    def unresolved(self) -> int:
        """Deals whose supplier, recipient or designation the catalog does not know."""
        return sum(None in d.key for d in self.deals)


@dataclass(frozen=True, slots=True)
class Match:
    """A news deal and the SIPRI deals of its key and time it lines up with."""

    deal: Deal
    sipri: tuple[SipriDeal, ...]


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A news deal whose stage disagrees with the latest SIPRI deal it lines up with.

    ``later`` is True where SIPRI's deliveries all began after the news's last report:
    the news is then not wrong, only older.
    """

    deal: Deal
    sipri: SipriDeal
    news_stage: Stage
    sipri_stage: Stage
    later: bool

    def describe(self) -> str:
        """One line saying how they disagree."""
        last = self.deal.last_seen
        if self.sipri_stage is Stage.CONTRACT:
            said = "SIPRI records an order, no delivery"
        else:
            years = self.sipri.delivery_years
            span = f"{years[0]}" if years else ""
            span += f"-{years[-1]}" if len(years) > 1 else ""
            said = (
                f"SIPRI records deliveries ({self.sipri.delivered}{' in ' + span if span else ''})"
            )
        news = f"the news shows {self.news_stage}"
        news += f" (last report {last.isoformat()})" if last else ""
        return f"{said}; {news}" + (
            "; deliveries began after the last report" if self.later else ""
        )


@dataclass(frozen=True, slots=True)
class Comparison:
    """The register and a SIPRI export, lined up.

    Attributes:
        sipri: the export as read.
        compared: the news deals with supplier, recipient and system (the others cannot be
            lined up).
        absent: news deals whose supplier, recipient and system family SIPRI never records.
        covered: news deals SIPRI also records, with the SIPRI deals they line up with.
        disagreements: covered deals whose stage disagrees with SIPRI's.
    """

    sipri: SipriRegister
    compared: tuple[Deal, ...]
    absent: tuple[Deal, ...]
    covered: tuple[Match, ...]
    disagreements: tuple[Disagreement, ...] = field(default=())

    def summary(self) -> list[str]:
        """The comparison in a few lines (no SIPRI rows)."""
        covered_sipri = {d.record for m in self.covered for d in m.sipri}
        return [
            f"SIPRI register: {self.sipri.path} ({self.sipri.layout} layout"
            + (f", generated {self.sipri.generated}" if self.sipri.generated else "")
            + f"): {len(self.sipri.deals)} deals, {self.sipri.unresolved} with a party or "
            "designation the catalog does not know",
            f"news deals compared: {len(self.compared)} (with supplier, recipient and system)",
            f"news deals absent from SIPRI: {len(self.absent)}",
            f"news deals SIPRI also records: {len(self.covered)} "
            f"(SIPRI deals covered by the news: {len(covered_sipri)})",
            f"stage disagreements: {len(self.disagreements)}"
            f" ({sum(d.later for d in self.disagreements)} where deliveries began after "
            "the last report)",
        ]


# -- reading ----------------------------------------------------------------------------------


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _years(text: str) -> tuple[int, ...]:
    return tuple(sorted({int(y) for y in re.findall(r"\b\d{4}\b", text)}))


def resolve_designation(catalog: Catalog, designation: str) -> str | None:
    """The catalog family a SIPRI designation names, or ``None``.

    SIPRI adds versions and names to designations ("F-16C Block-50/52", "S-400 Triumf",
    "F-35A Lightning-2"): the whole designation is tried, then its first part before a
    ``/``, then shorter and shorter leading words.
    """
    tried: list[str] = [designation]
    if "/" in designation:
        tried.append(designation.split("/")[0])
    words = designation.split()
    tried.extend(" ".join(words[:n]) for n in range(len(words) - 1, 0, -1))
    for text in tried:
        system = catalog.resolve_system(text)
        if system is not None:
            return system.family
    return None


def _open_lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with open(path, encoding="latin-1", newline="") as stream:
            for number, line in enumerate(stream, 1):
                yield number, line.rstrip("\r\n")
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None


def load_sipri(path: Path | str, catalog: Catalog | None = None) -> SipriRegister:
    """Read a SIPRI trade-register export (either layout) and resolve its names.

    Raises:
        InputError: the file cannot be read.
        ParseError: it is not a SIPRI trade-register export, or a record is malformed; the
            message names the file and line.
    """
    path = Path(path)
    catalog = catalog or load_catalog()
    lines = _open_lines(path)
    generated = None
    header: tuple[int, str] | None = None
    for number, line in lines:
        if line.startswith("Data generated:"):
            generated = line.removeprefix("Data generated:").strip(" ;")
        if line.startswith((_ORDERS_HEADER, _DELIVERIES_HEADER)):
            header = (number, line)
            break
        if number >= _MAX_PREAMBLE:
            break
    if header is None:
        raise ParseError(
            f"{path}: not a SIPRI trade-register export: no header row "
            f"({_ORDERS_HEADER!r} or {_DELIVERIES_HEADER!r}) in its first {_MAX_PREAMBLE} lines"
        )
    number, line = header
    layout = "orders" if line.startswith(_ORDERS_HEADER) else "deliveries"
    width = _ORDERS_FIELDS if layout == "orders" else _DELIVERIES_FIELDS
    columns = tuple(next(csv.reader([line.removesuffix(";")])))
    if len(columns) != width:
        raise ParseError(f"{path}:{number}: the header has {len(columns)} columns, not {width}")
    read = _orders if layout == "orders" else _deliveries
    records = read(path, lines, catalog)
    return SipriRegister(str(path), layout, columns, generated, tuple(records))


def _orders(path: Path, lines: Iterator[tuple[int, str]], catalog: Catalog) -> list[SipriDeal]:
    deals = []
    pending, start = "", 0
    for number, line in lines:
        if not pending and not line.strip():
            continue
        text = f"{pending} {line}" if pending else line
        start = start or number
        row = next(csv.reader([text]))
        if len(row) < _ORDERS_FIELDS and number - start < _MAX_BROKEN_LINES:
            pending = text  # a Comments field broken across lines
            continue
        if len(row) != _ORDERS_FIELDS:
            raise ParseError(
                f"{path}:{start}: a record has {len(row)} fields, not {_ORDERS_FIELDS}"
            )
        deals.append(
            SipriDeal(
                record=f"{path.name}:{start}",
                supplier_name=row[1],
                recipient_name=row[0],
                designation=row[6],
                description=row[7],
                supplier=catalog.resolve_state(row[1]),
                recipient=catalog.resolve_state(row[0]),
                family=resolve_designation(catalog, row[6]),
                order_year=_int(row[2]),
                ordered=_int(row[4]),
                delivered=_int(row[8]) or 0,
                delivery_years=_years(row[10]),
            )
        )
        pending, start = "", 0
    if pending:
        raise ParseError(f"{path}:{start}: the last record is cut short")
    return deals


def _deliveries(path: Path, lines: Iterator[tuple[int, str]], catalog: Catalog) -> list[SipriDeal]:
    rows: dict[str, list[list[str]]] = {}
    for number, line in lines:
        if not line.strip(" ;"):
            continue
        row = next(csv.reader([line.removesuffix(";")]))
        if len(row) != _DELIVERIES_FIELDS:
            raise ParseError(
                f"{path}:{number}: a record has {len(row)} fields, not {_DELIVERIES_FIELDS}"
            )
        rows.setdefault(row[0], []).append(row)
    deals = []
    for record, group in rows.items():
        first = group[0]
        deals.append(
            SipriDeal(
                record=record,
                supplier_name=first[1],
                recipient_name=first[2],
                designation=first[3],
                description=first[4],
                supplier=catalog.resolve_state(first[1]),
                recipient=catalog.resolve_state(first[2]),
                family=resolve_designation(catalog, first[3]),
                order_year=_int(first[6]),
                ordered=None,
                delivered=sum(_int(r[8]) or 0 for r in group),
                delivery_years=tuple(sorted({y for r in group for y in _years(r[10])})),
            )
        )
    return deals


# -- comparing --------------------------------------------------------------------------------

#: How far a stage goes, in the phases SIPRI can tell apart: before an order, ordered,
#: delivering, cancelled.
_PHASE: dict[Stage, int] = {
    Stage.INTEREST: 0,
    Stage.OFFER: 0,
    Stage.NEGOTIATION: 0,
    Stage.APPROVAL: 0,
    Stage.AGREEMENT: 0,
    Stage.CONTRACT: 1,
    Stage.DELIVERY: 2,
    Stage.DELIVERED: 2,
    Stage.CANCELLED: 3,
}


def _in_window(deal: Deal, sipri: SipriDeal) -> bool:
    first, last = deal.first_seen, deal.last_seen
    if first is None or last is None:
        return True
    if sipri.order_year is not None and sipri.order_year > last.year + _WINDOW_YEARS:
        return False
    pending = not sipri.delivery_years or (sipri.ordered or 0) > sipri.delivered
    active = sipri.delivery_years[-1] if sipri.delivery_years else sipri.order_year
    return pending or active is None or active >= first.year - _WINDOW_YEARS


def _order(sipri: SipriDeal) -> tuple[int, str]:
    return (sipri.order_year or 0, sipri.record)


def _closest(deal: Deal, lined: Sequence[SipriDeal]) -> SipriDeal:
    """Of the SIPRI deals a news deal lines up with, the one of its very system (S-400 rather
    than its 48N6 missiles, where there is one) ordered last by the news's last report, else
    the first ordered after it."""
    catalog = load_catalog()
    same = [
        r for r in lined if (s := catalog.resolve_system(r.designation)) and s.name == deal.system
    ]
    last = deal.last_seen.year if deal.last_seen else None

    def nearest(record: SipriDeal) -> tuple[bool, int, str]:
        year = record.order_year or 0
        return (
            last is None or year <= last,
            year if last is None or year <= last else -year,
            record.record,
        )

    return max(same or lined, key=nearest)


def compare_register(deals: Iterable[Deal], sipri: SipriRegister) -> Comparison:
    """Line the register's deals up with a SIPRI export.

    A news deal is compared by supplier, recipient and system family (lots are not: SIPRI
    has its own way of splitting orders). It lines up with the SIPRI deals of its key ordered
    no later than a year after its last report and still delivering (or pending) a year
    before its first, or, where none is, with the latest SIPRI deal of its key. Its stage
    is compared with that of the latest of them, by phase: before an order (interest to
    agreement), ordered (contract), delivering (delivery, delivered) or cancelled; side
    stages (training, servicing, production) are not compared.
    """
    by_key: dict[tuple[str | None, str | None, str | None], list[SipriDeal]] = {}
    for record in sipri.deals:
        if None not in record.key:
            by_key.setdefault(record.key, []).append(record)
    compared, absent, covered, disagreements = [], [], [], []
    for deal in deals:
        if not (deal.supplier and deal.recipient and deal.system):
            continue
        compared.append(deal)
        family = load_catalog().family(deal.system)
        candidates = by_key.get((deal.supplier, deal.recipient, family), [])
        if not candidates:
            absent.append(deal)
            continue
        lined = sorted((c for c in candidates if _in_window(deal, c)), key=_order)
        lined = lined or [max(candidates, key=_order)]
        covered.append(Match(deal, tuple(lined)))
        stage = deal.stage
        if stage is None or stage in SIDE_STAGES:
            continue
        latest = _closest(deal, lined)
        if _PHASE[stage] != _PHASE[latest.stage]:
            last = deal.last_seen
            later = bool(
                latest.delivery_years and last is not None and latest.delivery_years[0] > last.year
            )
            disagreements.append(Disagreement(deal, latest, stage, latest.stage, later))
    return Comparison(sipri, tuple(compared), tuple(absent), tuple(covered), tuple(disagreements))


# -- writing the register in SIPRI's columns --------------------------------------------------


def _stage_years(deal: Deal, stages: Sequence[Stage]) -> list[int]:
    return sorted(
        {
            e.date.year
            for e in deal.timeline
            if e.stage in stages and e.date and e.modality is Modality.ASSERTED
        }
    )


def _sipri_row(
    deal: Deal, comparison: Comparison, names: dict[str, str], catalog: Catalog
) -> dict[str, Any]:
    """One deal's values by meaning; :func:`save_sipri_csv` puts them in the file's columns."""
    matched = next((m.sipri for m in comparison.covered if m.deal.id == deal.id), ())
    orders = _stage_years(deal, (Stage.CONTRACT, Stage.AGREEMENT))
    deliveries = _stage_years(deal, (Stage.DELIVERY, Stage.DELIVERED))
    system = catalog.resolve_system(deal.system) if deal.system else None
    return {
        "id": _closest(deal, matched).record
        if matched and comparison.sipri.layout == "deliveries"
        else "",
        "supplier": names.get(deal.supplier or "", catalog.state_name(deal.supplier or "")),
        "recipient": names.get(deal.recipient or "", catalog.state_name(deal.recipient or "")),
        "designation": deal.system or "",
        "description": system.category if system else "",
        "order_year": str(orders[0]) if orders else "",
        "ordered": str(deal.quantity.count) if deal.quantity else "",
        "delivery_years": "; ".join(map(str, deliveries)),
        "comments": f"armsledger deal {deal.id}, lot {deal.lot}: {deal.stage or '-'}",
    }


#: Which of our values goes in which column of each layout (other columns stay empty).
_COLUMNS: dict[str, dict[int, str]] = {
    "orders": {
        0: "recipient",
        1: "supplier",
        2: "order_year",
        4: "ordered",
        6: "designation",
        7: "description",
        10: "delivery_years",
        12: "comments",
    },
    "deliveries": {
        0: "id",
        1: "supplier",
        2: "recipient",
        3: "designation",
        4: "description",
        6: "order_year",
        10: "delivery_years",
    },
}


def save_sipri_csv(
    deals: Iterable[Deal], comparison: Comparison, out: IO[str] | None = None
) -> str:
    """Write the register's deals as CSV in the SIPRI export's own columns.

    The header row is the export's; each deal is one row: its states under SIPRI's names
    for them (where the export names them), its system, the year of its first asserted
    contract or agreement, the count stated, the years of asserted deliveries, and (orders
    layout) a comment naming the deal and its stage; the deliveries layout gets the SIPRI
    ID of the deal it lines up with. Number delivered and TIVs are left empty: the news
    does not give them. Returns the text when ``out`` is not given.

    Text cells a spreadsheet would run as a formula get a leading ``'``
    (:func:`armsledger.serialize.guard_csv_cell`).
    """
    catalog = load_catalog()
    names: dict[str, str] = {}
    for record in comparison.sipri.deals:
        for code, name in (
            (record.supplier, record.supplier_name),
            (record.recipient, record.recipient_name),
        ):
            if code is not None:
                names.setdefault(code, name)
    columns = comparison.sipri.columns
    where = _COLUMNS[comparison.sipri.layout]
    buffer = out or io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(guard_csv_row(columns))
    for deal in deals:
        values = _sipri_row(deal, comparison, names, catalog)
        writer.writerow(
            guard_csv_row(values[where[i]] if i in where else "" for i in range(len(columns)))
        )
    return buffer.getvalue() if out is None and isinstance(buffer, io.StringIO) else ""
