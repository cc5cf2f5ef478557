"""What changed in the register since a date, and which of those changes a watchlist wants.

A *change* is one of three things, each computed from deals and their timelines (nothing
extra is stored; the timeline's article dates say when each step was reported):

* ``new``: a deal first seen on or after the date;
* ``stage``: a deal whose current stage differs from its stage as of the date, i.e. from
  :attr:`armsledger.model.Deal.stage` over the events dated before it (undated events count
  as known then: nothing says they are new);
* ``contradiction``: a contradiction between sources that involves an article dated on or
  after the date (its ``date`` is the later of the two articles' dates).

A *watchlist* is a YAML file of rules; a rule names the changes it wants by supplier,
recipient, system (its family) and category (the catalog's category of the system), every
field given having to match. Alerts go out as one JSON object per line: to standard output,
appended to a file, or POSTed to a webhook.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from armsledger.catalog import CATEGORIES, load_catalog
from armsledger.errors import ArmsLedgerError, ConfigError, InputError
from armsledger.model import Contradiction, Deal, Modality, Stage

__all__ = [
    "CHANGE_KINDS",
    "RULE_FIELDS",
    "Alert",
    "Change",
    "Rule",
    "find_changes",
    "load_watchlist",
    "match_alerts",
    "post_webhook",
    "save_alerts",
]

#: The kinds of change, in the order they are listed for one deal.
CHANGE_KINDS: tuple[str, ...] = ("new", "stage", "contradiction")

#: Fields a watchlist rule may narrow changes by (besides its ``name``).
RULE_FIELDS: tuple[str, ...] = ("supplier", "recipient", "system", "category")

#: Seconds to wait for a webhook to answer: a hook that is down must not hold up a cron job.
DEFAULT_WEBHOOK_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that happened to a deal since a date.

    Attributes:
        kind: ``new``, ``stage`` or ``contradiction`` (:data:`CHANGE_KINDS`).
        deal: the deal as it stands now.
        date: when it was reported: the first date seen (new), the latest report (not a
            denial) of the current stage (stage), the contradiction's date (contradiction).
        previous_stage: the deal's stage as of the date (``stage`` changes only).
        contradiction: the contradiction (``contradiction`` changes only).
    """

    kind: str
    deal: Deal
    date: dt.date | None
    previous_stage: Stage | None = None
    contradiction: Contradiction | None = None

    def to_dict(self) -> dict[str, Any]:
        """The change as one JSON object (FORMAT.md's field names for the deal's key)."""
        c = self.contradiction
        return {
            "kind": self.kind,
            "deal": self.deal.id,
            "supplier": self.deal.supplier,
            "recipient": self.deal.recipient,
            "system": self.deal.system,
            "lot": self.deal.lot,
            "stage": str(self.deal.stage) if self.deal.stage else None,
            "previous_stage": str(self.previous_stage) if self.previous_stage else None,
            "date": self.date.isoformat() if self.date else None,
            "contradiction": None
            if c is None
            else {
                "kind": c.kind,
                "stage": str(c.stage),
                "asserted_in": c.asserted_in,
                "contradicted_in": c.contradicted_in,
            },
        }


def stage_as_of(deal: Deal, day: dt.date) -> Stage | None:
    """The stage ``deal`` stood at before ``day``: its stage over the events dated earlier.

    Undated events are kept (nothing says they came later); ``None`` when nothing was known.
    """
    before = tuple(e for e in deal.timeline if e.date is None or e.date < day)
    return dataclasses.replace(deal, timeline=before).stage


def find_changes(deals: Iterable[Deal], since: dt.date) -> list[Change]:
    """The changes to ``deals`` reported on or after ``since``, by date (undated last).

    A new deal is reported as ``new`` only, not also as a change of stage.
    """
    found: list[Change] = []
    for deal in deals:
        first = deal.first_seen
        if first is not None and first >= since:
            found.append(Change("new", deal, first))
        else:
            previous, current = stage_as_of(deal, since), deal.stage
            if current is not None and previous is not None and previous is not current:
                dates = [
                    e.date
                    for e in deal.timeline
                    if e.stage is current and e.date and e.modality is not Modality.DENIED
                ]
                found.append(Change("stage", deal, max(dates, default=None), previous))
        for contradiction in deal.contradictions:
            if contradiction.date is not None and contradiction.date >= since:
                found.append(
                    Change("contradiction", deal, contradiction.date, contradiction=contradiction)
                )
    return sorted(
        found,
        key=lambda c: (c.date or dt.date.max, c.deal.id, CHANGE_KINDS.index(c.kind)),
    )


# -- watchlists -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One watchlist rule: a change matches when it matches every field given.

    Each field holds the values allowed (any of them matches); an empty tuple leaves the
    field open. States are ISO alpha-3 codes, systems families, categories the catalog's.
    """

    name: str
    supplier: tuple[str, ...] = ()
    recipient: tuple[str, ...] = ()
    system: tuple[str, ...] = ()
    category: tuple[str, ...] = ()

    def matches(self, deal: Deal) -> bool:
        """Whether ``deal`` is one this rule watches."""
        if self.supplier and deal.supplier not in self.supplier:
            return False
        if self.recipient and deal.recipient not in self.recipient:
            return False
        if self.system and deal.system not in self.system:
            return False
        if self.category:
            system = load_catalog().resolve_system(deal.system) if deal.system else None
            if system is None or system.category not in self.category:
                return False
        return True


@dataclass(frozen=True, slots=True)
class Alert:
    """A change and the names of the watchlist rules it matched."""

    change: Change
    rules: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The alert as one JSON object: ``rules`` then the change's fields."""
        return {"rules": list(self.rules), **self.change.to_dict()}


def _values(raw: object, where: str) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(v, str) for v in raw):
        return list(raw)
    raise ValueError(f"{where} must be a string or a list of strings, not {raw!r}")


def _parse_rule(raw: object, index: int) -> Rule:
    if not isinstance(raw, dict):
        raise ValueError(f"rule {index} is not a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"rule {index} has no name")
    unknown = sorted(set(raw) - {"name", *RULE_FIELDS})
    if unknown:
        raise ValueError(
            f"rule {name!r} has unknown field {', '.join(map(str, unknown))}; "
            f"allowed: name, {', '.join(RULE_FIELDS)}"
        )
    if not set(raw) & set(RULE_FIELDS):
        raise ValueError(f"rule {name!r} names none of {', '.join(RULE_FIELDS)}")
    catalog = load_catalog()
    fields: dict[str, tuple[str, ...]] = {}
    for field in ("supplier", "recipient"):
        if field in raw:
            codes = []
            for value in _values(raw[field], f"rule {name!r} {field}"):
                code = catalog.resolve_state(value)
                if code is None:
                    raise ValueError(f"rule {name!r} {field} {value!r} is not a state")
                codes.append(code)
            fields[field] = tuple(codes)
    if "system" in raw:
        systems = _values(raw["system"], f"rule {name!r} system")
        fields["system"] = tuple(catalog.family(s) for s in systems)
    if "category" in raw:
        categories = _values(raw["category"], f"rule {name!r} category")
        wrong = [c for c in categories if c not in CATEGORIES]
        if wrong:
            raise ValueError(
                f"rule {name!r} category {wrong[0]!r} is not one of: "
                f"{', '.join(sorted(CATEGORIES))}"
            )
        fields["category"] = tuple(categories)
    return Rule(name=name.strip(), **fields)


def load_watchlist(path: Path | str) -> list[Rule]:
    """Read a watchlist: a YAML mapping whose ``rules`` is a list of rules.

    Each rule has a ``name`` and any of ``supplier`` and ``recipient`` (a state's code or
    name), ``system`` (a designation; compared by family) and ``category`` (one of the
    catalog's categories), each a string or a list of strings.

    Raises:
        InputError: the file cannot be read, or is not a watchlist; the message names the
            file and what is wrong.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the watchlist ({error})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise InputError(f"{path}: the watchlist is not YAML{line}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list) or not data["rules"]:
        raise InputError(f"{path}: a watchlist is a mapping with a non-empty list of 'rules'")
    try:
        rules = [_parse_rule(raw, index) for index, raw in enumerate(data["rules"], 1)]
    except ValueError as error:
        raise InputError(f"{path}: {error}") from None
    names = [r.name for r in rules]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"{path}: rule name {twice[0]!r} is used more than once")
    return rules


def match_alerts(changes: Iterable[Change], rules: Sequence[Rule]) -> list[Alert]:
    """The changes that match at least one rule, each with the names of the rules it matched."""
    alerts = []
    for change in changes:
        matched = tuple(rule.name for rule in rules if rule.matches(change.deal))
        if matched:
            alerts.append(Alert(change, matched))
    return alerts


# -- delivery ---------------------------------------------------------------------------------


def _line(alert: Alert) -> str:
    return json.dumps(alert.to_dict(), ensure_ascii=False, sort_keys=False)


def save_alerts(alerts: Iterable[Alert], out: IO[str] | Path | str) -> int:
    """Write each alert as one JSON line to a text stream, or append it to a file.

    Returns how many were written.

    Raises:
        ArmsLedgerError: the file cannot be written (named, with the reason).
    """
    if isinstance(out, str | Path):
        try:
            with open(out, "a", encoding="utf-8") as stream:
                return save_alerts(alerts, stream)
        except OSError as error:
            raise ArmsLedgerError(
                f"{out}: cannot write the alerts ({error.strerror or error})"
            ) from None
    count = 0
    for alert in alerts:
        out.write(_line(alert) + "\n")
        count += 1
    return count


def post_webhook(
    alerts: Iterable[Alert], url: str, *, timeout: float = DEFAULT_WEBHOOK_TIMEOUT
) -> int:
    """POST each alert as a JSON body to ``url``; returns how many were posted.

    Stops at the first failure: the alerts before it were delivered, the rest were not.

    Raises:
        ConfigError: ``url`` is not an http(s) URL.
        ArmsLedgerError: the webhook did not answer within ``timeout`` seconds, refused the
            connection or answered with an HTTP error; the message names the URL and why.
    """
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"webhook {url}: not an http:// or https:// URL")
    count = 0
    for alert in alerts:
        request = urllib.request.Request(
            url,
            data=_line(alert).encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": "armsledger"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                answer.read()
        except urllib.error.HTTPError as error:
            raise ArmsLedgerError(
                f"webhook {url}: HTTP {error.code} {error.reason} after {count} alerts"
            ) from None
        except TimeoutError:
            raise ArmsLedgerError(f"webhook {url}: no answer within {timeout:g} s") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise ArmsLedgerError(f"webhook {url}: no answer within {timeout:g} s") from None
            raise ArmsLedgerError(f"webhook {url}: cannot post ({reason})") from None
        count += 1
    return count


def changes_summary(changes: Sequence[Change]) -> Mapping[str, int]:
    """How many changes of each kind (:data:`CHANGE_KINDS`), for a one-line summary."""
    return {kind: sum(c.kind == kind for c in changes) for kind in CHANGE_KINDS}
