"""The cue lexicon (``data/cues.yaml``): words that state a stage, a modality, a lot, speech."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from armsledger.errors import CatalogError
from armsledger.model import Modality, Stage


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue found in a sentence: ``[start, end)`` relative to the sentence."""

    start: int
    end: int
    label: str
    text: str


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Compiled cue patterns, one alternation per label."""

    stages: dict[Stage, re.Pattern[str]]
    weak: frozenset[str]
    modality: dict[Modality, re.Pattern[str]]
    lot: dict[str, int]
    lot_pattern: re.Pattern[str]
    speech: re.Pattern[str]
    titles: frozenset[str]
    stages_anywhere: re.Pattern[str]
    supplier_agents: frozenset[str]
    blockers: re.Pattern[str]
    anaphors: tuple[str, ...]
    deal_content: re.Pattern[str]
    elaboration: re.Pattern[str]
    units_by_category: dict[str, frozenset[str]]
    not_in_sentence: dict[Stage, re.Pattern[str]]
    recipient_agents: frozenset[str]

    def fits(self, unit: str, category: str) -> bool:
        """Whether a count in ``unit`` can count a system of ``category``."""
        units = self.units_by_category
        return unit in units.get("any", ()) or unit in units.get(category, ())

    def agent_role(self, cue: Cue) -> str | None:
        """``supplier`` or ``recipient``: the role of the states before a cue's verb, if known.

        The last verb of a cue decides: "plans to supply" is the supplier's, "agreed to buy"
        the recipient's.
        """
        for word in reversed(cue.text.split()):
            if word in self.supplier_agents:
                return "supplier"
            if word in self.recipient_agents:
                return "recipient"
        return None

    def find_stages(self, sentence: str) -> list[Cue]:
        """Stage cues in a normalised sentence; of overlapping cues the longest stays, and
        cues inside a blocking phrase ("in service with") are dropped."""
        if self.stages_anywhere.search(sentence) is None:
            return []
        found = [
            Cue(m.start(), m.end(), stage.value, m.group())
            for stage, pattern in self.stages.items()
            for m in pattern.finditer(sentence)
        ]
        blocked = [(m.start(), m.end()) for m in self.blockers.finditer(sentence)]
        found = [c for c in found if not any(a < c.end and c.start < b for a, b in blocked)]
        for stage, pattern in self.not_in_sentence.items():
            if pattern.search(sentence):
                found = [c for c in found if c.label != stage.value]
        return _longest(found)

    def find_modality(self, sentence: str) -> list[Cue]:
        """Modality cues in a normalised sentence."""
        found = [
            Cue(m.start(), m.end(), modality.value, m.group())
            for modality, pattern in self.modality.items()
            for m in pattern.finditer(sentence)
        ]
        return _longest(found)

    def find_lots(self, sentence: str) -> list[Cue]:
        """Lot markers ("second", "another") with the lot they name as label."""
        return [
            Cue(m.start(), m.end(), str(self.lot[m.group()]), m.group())
            for m in self.lot_pattern.finditer(sentence)
        ]


def _longest(cues: list[Cue]) -> list[Cue]:
    cues.sort(key=lambda c: (-(c.end - c.start), c.start))
    kept: list[Cue] = []
    for cue in cues:
        if all(cue.end <= k.start or cue.start >= k.end for k in kept):
            kept.append(cue)
    kept.sort(key=lambda c: c.start)
    return kept


def _alternation(patterns: list[str], where: str) -> re.Pattern[str]:
    try:
        return re.compile(r"(?<![\w-])(?:" + "|".join(f"(?:{p})" for p in patterns) + r")(?![\w])")
    except re.error as exc:
        raise CatalogError(f"cues.yaml: {where}: bad pattern: {exc}") from exc


def _load(path: Path) -> Lexicon:
    try:
        data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read the cue lexicon: {exc}") from exc
    try:
        stages = {Stage(k): _alternation(v, f"stages.{k}") for k, v in data["stages"].items()}
        modality = {
            Modality(k): _alternation(v, f"modality.{k}") for k, v in data["modality"].items()
        }
        lot = {str(k): int(v) for k, v in data["lot"].items()}
        lot_pattern = _alternation([re.escape(k) for k in lot], "lot")
        speech = _alternation([re.escape(s) for s in data["speech"]], "speech")
        weak = frozenset(str(w) for w in data.get("weak", []))
        titles = frozenset(str(t).lower() for t in data.get("titles", []))
        not_in_sentence = {
            Stage(k): _alternation([re.escape(w) for w in v], f"not_in_sentence.{k}")
            for k, v in (data.get("not_in_sentence") or {}).items()
        }
        blockers = _alternation(list(data.get("blockers", [])) or ["(?!x)x"], "blockers")
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CatalogError(f"{path}: malformed cue lexicon: {exc!r}") from exc
    anywhere = re.compile("|".join(p.pattern for p in stages.values()))
    agents = data.get("agents", {})
    return Lexicon(
        stages,
        weak,
        modality,
        lot,
        lot_pattern,
        speech,
        titles,
        anywhere,
        frozenset(agents.get("supplier", [])),
        blockers,
        tuple(str(a) for a in data.get("anaphors", [])),
        re.compile(str(data.get("deal_content", "(?!x)x"))),
        re.compile(str(data.get("elaboration", "(?!x)x"))),
        {str(k): frozenset(map(str, v)) for k, v in (data.get("units_by_category") or {}).items()},
        not_in_sentence,
        frozenset(agents.get("recipient", [])),
    )


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The packaged cue lexicon, compiled once."""
    path = Path(str(resources.files("armsledger") / "data" / "cues.yaml"))
    return _load(path)
