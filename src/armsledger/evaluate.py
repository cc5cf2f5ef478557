"""Score an extractor against gold files, exactly by FORMAT.md's rules.

* Facts match within one article on the key (supplier, recipient, system, stage, lot), with
  ``system`` compared at family level after alias resolution (the catalog's ``family``) and a
  ``lot`` of ``None`` equal to 1. Predicted facts with one key are one fact.
* A predicted fact matching an ``optional`` gold fact counts neither way; an unmatched
  optional gold fact is not a miss. Precision, recall and F1 are micro-averaged over all
  articles; a ratio whose denominator is zero is 0.0 (nothing predicted, nothing found).
* On matched required facts, attribute accuracy for modality, quantity (the count), value
  (amount within 1 %, same currency) and speaker (same surname, case-insensitive), each over
  the matched facts whose gold value is not null.
* Relevance precision and recall over articles; an article is predicted relevant when the
  extractor returns any fact for it.
* Evidence is not scored, but every predicted evidence span is checked against the
  article's text, and those that are not an exact span are counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armsledger.errors import InputError
from armsledger.ingest import read_article
from armsledger.merge import merge_facts
from armsledger.model import Article, Fact, Quantity, Value
from armsledger.serialize import GoldArticle, GoldFact, parse_gold

__all__ = [
    "ATTRIBUTES",
    "Accuracy",
    "ArticleScore",
    "AttributeCheck",
    "Key",
    "Scores",
    "evaluate_dir",
    "format_key",
    "score_article",
]

#: The attributes whose accuracy is reported on matched facts, in FORMAT.md's order.
ATTRIBUTES: tuple[str, ...] = ("modality", "quantity", "value", "speaker")

#: FORMAT.md: a value matches when its amount is within 1 % of gold's, in the same currency.
VALUE_TOLERANCE = 0.01

#: (supplier, recipient, system family, stage, lot) with a lot of None read as 1.
Key = tuple[str | None, str | None, str | None, str, int]

_SURNAME_STRIP = ".,;:'\"()\u2019\u201c\u201d"


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


@dataclass(frozen=True, slots=True)
class Accuracy:
    """How many matched facts got an attribute right, out of those where gold states it."""

    correct: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float | None:
        """``correct / total``, or ``None`` where gold never states the attribute."""
        return self.correct / self.total if self.total else None

    def __add__(self, other: Accuracy) -> Accuracy:
        return Accuracy(self.correct + other.correct, self.total + other.total)

    def to_dict(self) -> dict[str, Any]:
        return {"correct": self.correct, "total": self.total, "accuracy": self.accuracy}


@dataclass(frozen=True, slots=True)
class AttributeCheck:
    """One attribute of a matched fact, gold against predicted (shown when wrong)."""

    key: Key
    attribute: str
    gold: str
    predicted: str
    correct: bool


@dataclass(frozen=True, slots=True)
class ArticleScore:
    """One article's result: the counts and the keys behind them."""

    article: str
    relevant: bool
    predicted_relevant: bool
    matched: tuple[Key, ...]
    missed: tuple[Key, ...]
    spurious: tuple[Key, ...]
    attributes: dict[str, Accuracy]
    mismatches: tuple[AttributeCheck, ...] = ()
    evidence_checked: int = 0
    evidence_not_exact: int = 0

    @property
    def tp(self) -> int:
        return len(self.matched)

    @property
    def fp(self) -> int:
        return len(self.spurious)

    @property
    def fn(self) -> int:
        return len(self.missed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "article": self.article,
            "relevant": self.relevant,
            "predicted_relevant": self.predicted_relevant,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "missed": [_key_to_dict(key) for key in self.missed],
            "spurious": [_key_to_dict(key) for key in self.spurious],
            "mismatches": [
                {
                    "key": _key_to_dict(m.key),
                    "attribute": m.attribute,
                    "gold": m.gold,
                    "predicted": m.predicted,
                }
                for m in self.mismatches
            ],
            "evidence_not_exact": self.evidence_not_exact,
        }


@dataclass(frozen=True, slots=True)
class Scores:
    """The result of one evaluation; every figure is derived from the per-article rows."""

    articles: tuple[ArticleScore, ...]
    extractor: str | None = None

    @property
    def tp(self) -> int:
        return sum(a.tp for a in self.articles)

    @property
    def fp(self) -> int:
        return sum(a.fp for a in self.articles)

    @property
    def fn(self) -> int:
        return sum(a.fn for a in self.articles)

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def attributes(self) -> dict[str, Accuracy]:
        return {
            name: sum((a.attributes[name] for a in self.articles), Accuracy())
            for name in ATTRIBUTES
        }

    @property
    def relevance_tp(self) -> int:
        return sum(a.relevant and a.predicted_relevant for a in self.articles)

    @property
    def relevance_fp(self) -> int:
        return sum(not a.relevant and a.predicted_relevant for a in self.articles)

    @property
    def relevance_fn(self) -> int:
        return sum(a.relevant and not a.predicted_relevant for a in self.articles)

    @property
    def relevance_precision(self) -> float:
        return _ratio(self.relevance_tp, self.relevance_tp + self.relevance_fp)

    @property
    def relevance_recall(self) -> float:
        return _ratio(self.relevance_tp, self.relevance_tp + self.relevance_fn)

    @property
    def evidence_checked(self) -> int:
        return sum(a.evidence_checked for a in self.articles)

    @property
    def evidence_not_exact(self) -> int:
        return sum(a.evidence_not_exact for a in self.articles)

    def to_dict(self) -> dict[str, Any]:
        """The figures as one JSON-ready object (``evaluate --json``)."""
        return {
            "extractor": self.extractor,
            "articles": len(self.articles),
            "facts": {
                "tp": self.tp,
                "fp": self.fp,
                "fn": self.fn,
                "precision": self.precision,
                "recall": self.recall,
                "f1": self.f1,
            },
            "attributes": {name: acc.to_dict() for name, acc in self.attributes.items()},
            "relevance": {
                "tp": self.relevance_tp,
                "fp": self.relevance_fp,
                "fn": self.relevance_fn,
                "precision": self.relevance_precision,
                "recall": self.relevance_recall,
            },
            "evidence": {
                "checked": self.evidence_checked,
                "not_exact": self.evidence_not_exact,
            },
            "per_article": [a.to_dict() for a in self.articles],
        }

    def to_table(self) -> str:
        """A plain-text table: one row per article, then the totals, headline figures last."""
        width = max([len("article"), *(len(a.article) for a in self.articles)])
        lines = [f"{'article':<{width}}  {'tp':>3} {'fp':>3} {'fn':>3}  rel  missed | spurious"]
        for a in self.articles:
            relevance = ("y" if a.relevant else "n") + ("y" if a.predicted_relevant else "n")
            keys = "; ".join(format_key(k) for k in a.missed) or "-"
            keys += " | " + ("; ".join(format_key(k) for k in a.spurious) or "-")
            lines.append(
                f"{a.article:<{width}}  {a.tp:>3} {a.fp:>3} {a.fn:>3}  {relevance:<3}  {keys}"
            )
        lines.append("(rel: gold then predicted relevance, y/n)")
        lines.append("")
        rows = [("measure", "score", "detail")]
        for name, acc in self.attributes.items():
            score = "-" if acc.accuracy is None else f"{acc.accuracy:.3f}"
            rows.append((f"{name} accuracy", score, f"{acc.correct} of {acc.total} matched"))
        rows += [
            (
                "evidence not exact",
                str(self.evidence_not_exact),
                f"of {self.evidence_checked} predicted spans",
            ),
            (
                "relevance precision",
                f"{self.relevance_precision:.3f}",
                f"tp {self.relevance_tp}, fp {self.relevance_fp}",
            ),
            (
                "relevance recall",
                f"{self.relevance_recall:.3f}",
                f"tp {self.relevance_tp}, fn {self.relevance_fn}, {len(self.articles)} articles",
            ),
            ("fact precision", f"{self.precision:.3f}", f"tp {self.tp}, fp {self.fp}"),
            ("fact recall", f"{self.recall:.3f}", f"tp {self.tp}, fn {self.fn}"),
            ("fact F1", f"{self.f1:.3f}", f"extractor {self.extractor or '-'}"),
        ]
        label = max(len(r[0]) for r in rows)
        lines += [f"{r[0]:<{label}}  {r[1]:>6}  {r[2]}".rstrip() for r in rows]
        return "\n".join(lines)


def format_key(key: Key) -> str:
    """A key as one short phrase: ``RUS>TUR S-400 negotiation lot 2``."""
    supplier, recipient, system, stage, lot = key
    text = f"{supplier or '?'}>{recipient or '?'} {system or '(no system)'} {stage}"
    return text if lot == 1 else f"{text} lot {lot}"


def _key_to_dict(key: Key) -> dict[str, Any]:
    supplier, recipient, system, stage, lot = key
    return {
        "supplier": supplier,
        "recipient": recipient,
        "system": system,
        "stage": stage,
        "lot": lot,
    }


def _surname(name: str) -> str:
    tokens = name.split()
    return tokens[-1].strip(_SURNAME_STRIP).casefold() if tokens else ""


def _quantity_text(quantity: Quantity | None) -> str:
    return "null" if quantity is None else f"{quantity.count} {quantity.unit}".strip()


def _value_text(value: Value | None) -> str:
    return "null" if value is None else f"{value.amount:g} {value.currency}"


def _value_matches(gold: Value, predicted: Value | None) -> bool:
    if predicted is None or predicted.currency.upper() != gold.currency.upper():
        return False
    return abs(predicted.amount - gold.amount) <= VALUE_TOLERANCE * abs(gold.amount)


def _compare(key: Key, gold: GoldFact, predicted: Fact) -> list[AttributeCheck]:
    """A check of each attribute that gold states (modality always)."""
    checks: list[tuple[str, bool, str, str]] = [
        ("modality", predicted.modality == gold.modality, str(gold.modality), predicted.modality)
    ]
    if gold.quantity is not None:
        right = predicted.quantity is not None and predicted.quantity.count == gold.quantity.count
        checks.append(
            ("quantity", right, _quantity_text(gold.quantity), _quantity_text(predicted.quantity))
        )
    if gold.value is not None:
        checks.append(
            (
                "value",
                _value_matches(gold.value, predicted.value),
                _value_text(gold.value),
                _value_text(predicted.value),
            )
        )
    if gold.speaker is not None:
        right = predicted.speaker is not None and _surname(predicted.speaker) == _surname(
            gold.speaker
        )
        checks.append(("speaker", right, gold.speaker, predicted.speaker or "null"))
    return [AttributeCheck(key, name, g, str(p), ok) for name, ok, g, p in checks]


def score_article(
    gold: GoldArticle,
    predicted: Sequence[Fact],
    text: str,
    family: Callable[[str], str],
) -> ArticleScore:
    """Score one article's predicted facts against its gold facts.

    Args:
        gold: the article's gold file.
        predicted: the extractor's facts, merged or not.
        text: the article's text, against which predicted evidence spans are checked.
        family: maps a system name to the family it is compared at (the catalog's).
    """

    def key(supplier: str | None, recipient: str | None, system: str | None, stage: str,
            lot: int | None) -> Key:  # fmt: skip
        return (supplier, recipient, family(system) if system else None, str(stage), lot or 1)

    spans = [span for fact in predicted for span in fact.spans]
    not_exact = sum(text[span.start : span.end] != span.text for span in spans)

    # Gold keys should be unique, but two variants may fold into one family: the key is
    # required if any of its facts is, and its attributes are those of the first such fact.
    required: dict[Key, GoldFact] = {}
    optional: set[Key] = set()
    for fact in gold.facts:
        k = key(fact.supplier, fact.recipient, fact.system, fact.stage, fact.lot)
        if fact.optional:
            optional.add(k)
        else:
            required.setdefault(k, fact)
    optional -= required.keys()

    folded = [
        dataclasses.replace(fact, system=family(fact.system) if fact.system else None)
        for fact in predicted
    ]
    merged = {
        key(f.supplier, f.recipient, f.system, f.stage, f.lot): f for f in merge_facts(folded)
    }

    matched = [k for k in merged if k in required]
    spurious = [k for k in merged if k not in required and k not in optional]
    missed = [k for k in required if k not in merged]

    attributes = {name: Accuracy() for name in ATTRIBUTES}
    mismatches = []
    for k in matched:
        for check in _compare(k, required[k], merged[k]):
            attributes[check.attribute] += Accuracy(int(check.correct), 1)
            if not check.correct:
                mismatches.append(check)

    return ArticleScore(
        article=gold.article,
        relevant=gold.relevant,
        predicted_relevant=bool(predicted),
        matched=tuple(matched),
        missed=tuple(missed),
        spurious=tuple(spurious),
        attributes=attributes,
        mismatches=tuple(mismatches),
        evidence_checked=len(spans),
        evidence_not_exact=not_exact,
    )


def _gold_paths(gold_dir: Path) -> list[Path]:
    if not gold_dir.is_dir():
        raise InputError(f"{gold_dir}: not a folder of gold files")
    paths = sorted(gold_dir.glob("*.gold.json"))
    if not paths:
        raise InputError(
            f"{gold_dir}: no *.gold.json files in it",
            hint="a gold folder holds NAME.txt, NAME.meta.json and NAME.gold.json per article",
        )
    return paths


def _article_path(gold_path: Path) -> Path:
    name = gold_path.name.removesuffix(".gold.json")
    text_path = gold_path.with_name(name + ".txt")
    if not text_path.is_file():
        raise InputError(f"{gold_path}: its article {text_path.name} is not beside it")
    return text_path


def _default_family() -> Callable[[str], str]:
    from armsledger.catalog import load_catalog

    return load_catalog().family


def evaluate_dir(
    gold_dir: Path | str,
    extract: Callable[[Article], Iterable[Fact]],
    *,
    family: Callable[[str], str] | None = None,
    extractor: str | None = None,
) -> Scores:
    """Run ``extract`` on every article of a gold folder and score it.

    Every ``NAME.gold.json`` in ``gold_dir`` is scored against the facts ``extract`` finds in
    its sibling ``NAME.txt``, read (with ``NAME.meta.json``) as ``ingest`` reads any article.

    Args:
        gold_dir: a folder of ``NAME.txt`` + ``NAME.gold.json`` pairs.
        extract: the extractor under test.
        family: how systems are folded for matching; the catalog's ``family`` by default.
        extractor: the extractor's versioned name, recorded in the scores.

    Raises:
        InputError: the folder holds no gold file, or a gold file has no article beside it.
        ParseError: a gold file is malformed.
    """
    gold_paths = _gold_paths(Path(gold_dir))
    family = family or _default_family()
    rows = []
    for gold_path in gold_paths:
        gold = parse_gold(gold_path)
        article = read_article(_article_path(gold_path))
        rows.append(score_article(gold, list(extract(article)), article.text, family))
    return Scores(articles=tuple(rows), extractor=extractor)
