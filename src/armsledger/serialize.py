"""FORMAT.md's JSON, in and out, in one place.

Everything that writes or reads the exchange format (``extract --format json``, the gold
files, ``evaluate``, ``export``) goes through this module, so the field names and their
order are written down once. Output dicts keep FORMAT.md's field order, which makes the
JSON diffable against the gold files by eye.

Every CSV written for people to open (``export``, the API's download, ``compare-sipri``)
puts its cells through :func:`guard_csv_cell` here, so no text from the news is run by a
spreadsheet as a formula.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armsledger.errors import ParseError
from armsledger.model import Deal, DealEvent, Fact, Modality, Quantity, Stage, Value

__all__ = [
    "CSV_FORMULA_STARTS",
    "FACT_FIELDS",
    "GoldArticle",
    "GoldFact",
    "article_to_dict",
    "deal_to_dict",
    "fact_to_dict",
    "guard_csv_cell",
    "guard_csv_row",
    "parse_gold",
    "quantity_to_dict",
    "value_to_dict",
]

#: A fact's fields in FORMAT.md's order; ``optional`` is written by gold files only.
FACT_FIELDS: tuple[str, ...] = (
    "supplier",
    "recipient",
    "system",
    "stage",
    "modality",
    "lot",
    "quantity",
    "value",
    "speaker",
    "evidence",
    "optional",
)


#: First characters of a cell that a spreadsheet may read as a formula: OWASP's list in its
#: "CSV Injection" page (``=``, ``+``, ``-``, ``@``, tab and carriage return).
CSV_FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def guard_csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell that a spreadsheet shows and never runs.

    Evidence, speakers, titles and system names come from the news, which anyone can write:
    text starting with one of :data:`CSV_FORMULA_STARTS` gets a leading ``'``, OWASP's advice,
    which spreadsheets read as "this is text". Only text is guarded: numbers, booleans, dates
    and ``None`` pass unchanged, so a negative amount stays a number.
    """
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS):
        return "'" + value
    return value


def guard_csv_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a CSV row through :func:`guard_csv_cell`."""
    return [guard_csv_cell(value) for value in values]


def quantity_to_dict(quantity: Quantity | None) -> dict[str, Any] | None:
    """``{"count": N, "unit": "..."}``, or ``None``."""
    if quantity is None:
        return None
    return {"count": quantity.count, "unit": quantity.unit}


def value_to_dict(value: Value | None) -> dict[str, Any] | None:
    """``{"amount": x, "currency": "USD", "approximate": bool}``, or ``None``."""
    if value is None:
        return None
    return {"amount": value.amount, "currency": value.currency, "approximate": value.approximate}


def fact_to_dict(fact: Fact) -> dict[str, Any]:
    """One fact as FORMAT.md writes it, fields in FORMAT.md's order."""
    return {
        "supplier": fact.supplier,
        "recipient": fact.recipient,
        "system": fact.system,
        "stage": str(fact.stage),
        "modality": str(fact.modality),
        "lot": fact.lot,
        "quantity": quantity_to_dict(fact.quantity),
        "value": value_to_dict(fact.value),
        "speaker": fact.speaker,
        "evidence": fact.evidence,
        "optional": fact.optional,
    }


def article_to_dict(article_name: str, facts: Iterable[Fact]) -> dict[str, Any]:
    """One article's facts as FORMAT.md writes them; ``relevant`` is whether there are any."""
    fact_dicts = [fact_to_dict(fact) for fact in facts]
    return {"article": article_name, "relevant": bool(fact_dicts), "facts": fact_dicts}


def _event_to_dict(event: DealEvent) -> dict[str, Any]:
    return {
        "date": event.date.isoformat() if event.date else None,
        "stage": str(event.stage),
        "modality": str(event.modality),
        "article": event.article_id,
        "evidence": event.evidence,
        "speaker": event.speaker,
        "source": event.source,
        "confidence": event.confidence,
    }


def deal_to_dict(deal: Deal) -> dict[str, Any]:
    """A deal with its timeline, in FORMAT.md's field names where they apply."""
    stage = deal.stage
    return {
        "id": deal.id,
        "supplier": deal.supplier,
        "recipient": deal.recipient,
        "system": deal.system,
        "lot": deal.lot,
        "stage": str(stage) if stage is not None else None,
        "quantity": quantity_to_dict(deal.quantity),
        "value": value_to_dict(deal.value),
        "first_seen": deal.first_seen.isoformat() if deal.first_seen else None,
        "last_seen": deal.last_seen.isoformat() if deal.last_seen else None,
        "confidence": deal.confidence,
        "corroboration": [
            {"stage": str(c.stage), "sources": c.sources, "articles": list(c.articles)}
            for c in deal.corroboration
        ],
        "contradictions": [
            {
                "kind": c.kind,
                "stage": str(c.stage),
                "asserted_in": c.asserted_in,
                "contradicted_in": c.contradicted_in,
                "date": c.date.isoformat() if c.date else None,
            }
            for c in deal.contradictions
        ],
        "timeline": [_event_to_dict(event) for event in deal.timeline],
    }


@dataclass(frozen=True, slots=True)
class GoldFact:
    """One annotated fact. Gold carries its evidence as a string, not as a span."""

    supplier: str | None
    recipient: str | None
    system: str | None
    stage: Stage
    modality: Modality
    lot: int | None
    quantity: Quantity | None
    value: Value | None
    speaker: str | None
    evidence: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class GoldArticle:
    """One gold file: the article it annotates, whether it is relevant, and its facts."""

    article: str
    relevant: bool
    facts: tuple[GoldFact, ...]


class _Reader:
    """Pulls typed fields out of a gold file's JSON, naming the file and field on failure."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> ParseError:
        return ParseError(
            f"{self.path}: {where}: {problem}",
            hint="gold files follow FORMAT.md; check them with validate_gold.py",
        )

    def field(self, obj: Mapping[str, Any], name: str, where: str) -> Any:
        if name not in obj:
            raise self.fail(where, f"missing field {name!r}")
        return obj[name]

    def optional_str(self, obj: Mapping[str, Any], name: str, where: str) -> str | None:
        value = self.field(obj, name, where)
        if value is not None and not isinstance(value, str):
            raise self.fail(f"{where} field {name!r}", f"{value!r} is not a string or null")
        return value

    def number(self, obj: Mapping[str, Any], name: str, where: str) -> float:
        value = self.field(obj, name, where)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(f"{where} field {name!r}", f"{value!r} is not a number")
        return float(value)

    def choice(self, obj: Mapping[str, Any], name: str, where: str, allowed: type[Any]) -> Any:
        value = self.field(obj, name, where)
        try:
            return allowed(value)
        except ValueError:
            names = ", ".join(member.value for member in allowed)
            raise self.fail(f"{where} field {name!r}", f"{value!r} is not one of {names}") from None

    def quantity(self, fact: Mapping[str, Any], where: str) -> Quantity | None:
        raw = self.field(fact, "quantity", where)
        if raw is None:
            return None
        where = f"{where} field 'quantity'"
        if not isinstance(raw, dict):
            raise self.fail(where, f"{raw!r} is not an object or null")
        count = self.number(raw, "count", where)
        if not count.is_integer():
            raise self.fail(f"{where} field 'count'", f"{count!r} is not a whole number")
        unit = raw.get("unit") or ""
        if not isinstance(unit, str):
            raise self.fail(f"{where} field 'unit'", f"{unit!r} is not a string")
        return Quantity(count=int(count), unit=unit)

    def value(self, fact: Mapping[str, Any], where: str) -> Value | None:
        raw = self.field(fact, "value", where)
        if raw is None:
            return None
        where = f"{where} field 'value'"
        if not isinstance(raw, dict):
            raise self.fail(where, f"{raw!r} is not an object or null")
        amount = self.number(raw, "amount", where)
        currency = self.field(raw, "currency", where)
        if not isinstance(currency, str) or not currency:
            raise self.fail(f"{where} field 'currency'", f"{currency!r} is not a currency code")
        return Value(amount=amount, currency=currency, approximate=bool(raw.get("approximate")))

    def lot(self, fact: Mapping[str, Any], where: str) -> int | None:
        lot = self.field(fact, "lot", where)
        if lot is None:
            return None
        if isinstance(lot, bool) or not isinstance(lot, int) or lot < 1:
            raise self.fail(f"{where} field 'lot'", f"{lot!r} is not a positive whole number")
        return lot

    def fact(self, raw: Any, where: str) -> GoldFact:
        if not isinstance(raw, dict):
            raise self.fail(where, f"{raw!r} is not an object")
        evidence = self.field(raw, "evidence", where)
        if not isinstance(evidence, str):
            raise self.fail(f"{where} field 'evidence'", f"{evidence!r} is not a string")
        optional = raw.get("optional", False)
        if not isinstance(optional, bool):
            raise self.fail(f"{where} field 'optional'", f"{optional!r} is not true or false")
        return GoldFact(
            supplier=self.optional_str(raw, "supplier", where),
            recipient=self.optional_str(raw, "recipient", where),
            system=self.optional_str(raw, "system", where),
            stage=self.choice(raw, "stage", where, Stage),
            modality=self.choice(raw, "modality", where, Modality),
            lot=self.lot(raw, where),
            quantity=self.quantity(raw, where),
            value=self.value(raw, where),
            speaker=self.optional_str(raw, "speaker", where),
            evidence=evidence,
            optional=optional,
        )


def parse_gold(path: Path | str) -> GoldArticle:
    """Read one ``NAME.gold.json`` file.

    Raises:
        ParseError: the file cannot be read, is not JSON, or a field is missing or of the
            wrong kind; the message names the file, the fact's index and the field.
    """
    path = Path(path)
    reader = _Reader(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ParseError(f"{path}: cannot read gold file: {error.strerror or error}") from error
    except (UnicodeDecodeError, ValueError) as error:
        raise ParseError(f"{path}: not valid JSON: {error}") from error
    if not isinstance(raw, dict):
        raise reader.fail("top level", "is not a JSON object")
    article = reader.field(raw, "article", "top level")
    if not isinstance(article, str) or not article:
        raise reader.fail("field 'article'", f"{article!r} is not a file name")
    relevant = reader.field(raw, "relevant", "top level")
    if not isinstance(relevant, bool):
        raise reader.fail("field 'relevant'", f"{relevant!r} is not true or false")
    facts = reader.field(raw, "facts", "top level")
    if not isinstance(facts, list):
        raise reader.fail("field 'facts'", "is not a list")
    return GoldArticle(
        article=article,
        relevant=relevant,
        facts=tuple(reader.fact(fact, f"fact {index}") for index, fact in enumerate(facts)),
    )
