"""rules.v1: transfer facts from stage cues next to weapon mentions and the states around them.

For each sentence: every stage cue (data/cues.yaml) is tied to the weapon it speaks of (the
nearest system named in the sentence and those coordinated with it; else a weapon class, or
a phrase referring back to the system the article was last about), then to its supplier and
recipient (from prepositions and word order around the states named, the system's country of
origin, an adjective such as "Russian-made", and failing those the article's main
counterpart), then to its modality (the modality cues of its clause), lot, quantity, value and
speaker. Nothing here is keyed to one article's wording: every phrase lives in the data files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from armsledger.catalog import Catalog
from armsledger.errors import ParseError
from armsledger.extract.cues import Cue, Lexicon
from armsledger.extract.mentions import Mention
from armsledger.model import Article, Fact, Modality, Quantity, Span, Stage, Value
from armsledger.parse import (
    Found,
    find_dates,
    find_money,
    find_quantities,
    parse_count,
    unit_for_count,
)

EXTRACTOR = "rules.v1"

#: Modality wins in this order where several cues share a clause.
_MODALITY_PRIORITY = (Modality.CONDITIONAL, Modality.DENIED, Modality.POSSIBLE, Modality.PLANNED)
#: Stages whose own cue words ("plans to buy") already carry the plan: a plan is still asserted.
_PLAN_STAGES = frozenset({Stage.INTEREST})
#: How far before a stage cue a negation still scopes it ("has not yet received").
_NEGATION_REACH = 40
#: "without" denies only its own object ("left without the jets", "without a contract").
_WITHOUT_REACH = 12
#: A clause of its own between a cue and a later modal verb ("are being delivered, and
#: whether sanctions will follow"): the modal governs that clause, not the cue.
_NEW_CLAUSE = re.compile(r",\s*(?:and|or)\b|\bwhether\b")
#: How far before and after its cue a word of plan or possibility still scopes it.
_MODAL_BEFORE = 45
_MODAL_AFTER = 60
#: Clause boundaries inside a sentence.
_CLAUSE = re.compile(
    r";|:\s|\s-\s|\bbut\b(?! also)|\bthough\b|\bwhile\b|\bwhereas\b|\bbecause\b|\balthough\b"
    r"|\band that\b"  # a second reported statement: "X said that A, and that B may C"
)
#: Words that refer back to something named before ("the", "these aircraft").
_DETERMINER = re.compile(
    r"(?:the|these|those|this|that|such|its|their|our|his|her)\s+(?:\w+\s+){0,2}$"
)
#: Text allowed between coordinated mentions ("Azerbaijan, Ukraine and Qatar").
_COORDINATION = re.compile(r"^[\s,]*(?:(?:and|or|as well as|plus|&)\s+)?(?:the\s+)?$")
#: Text allowed between coordinated systems ("Rafale fighter jets and two Scorpene submarines").
_SYSTEM_COORDINATION = re.compile(
    r"^[\s()\[\]/-]*$"
    r"|^[^:.]{0,60}?(?:[,;]|\band\b|\bas well as\b|\bplus\b|\bsuch as\b|\bincluding\b)[^:.]{0,50}$"
)
#: Sentences that only introduce a quotation ("About the deal, Shugaev said:").
_QUOTE_INTRO = re.compile(r"\b(?:said|says|noted|added|stated|told \w+)\s*:\s*$")
_RECIPIENT_BEFORE = re.compile(
    r"(?:\bto|\bfor|\binto|\bat|\bsupply|\bsupplies|\bsupplied|\bsupplying|\bprovide|\bprovides|"
    r"\bprovided|\bproviding|\bsell|\bsells|\bsold|\bselling|\bgive|\bgives|\bgave|\bgiving|"
    r"\barm|\barming|\bequip|\bequipping)\s+(?:the\s+)?$"
)
_SUPPLIER_BEFORE = re.compile(r"\bfrom\s+(?:the\s+)?$")
#: States named as bystanders: who sanctions or objects, or the buyer a weapon was meant for.
_BYSTANDER_BEFORE = re.compile(
    r"(?:\b(?:sanctions|criticism|pressure|objections?|warnings?|concerns?|opposition|protests?)"
    r"\s+(?:from|by|of)|\b(?:intended|destined|meant|earmarked|built|made)\s+for"
    r"|\b(?:concern|threat|problem|worry|risk|message|signal|blow|challenge|affront|counterweight"
    r"|counter|response|rival|answer|deterrent)[\"']?\s+(?:for|to))"
    r"\s+(?:the\s+)?$"
)
#: An unnamed group of states as the subject ("no countries have committed"): the supplier is
#: not known, and a system's maker is no substitute.
_UNNAMED_STATES = re.compile(
    r"\b(?:no|other|western|several|many|some|european|nato|allied|\d+|a coalition of \d+)\s+"
    r"(?:countries|nations|states|allies|partners|members)\b"
)
#: A state named as the subject of a threat or a protest ("Washington imposing sanctions on
#: Cairo", "the U.S. warned Ankara"): it stands outside the transfer.
_BYSTANDER_AFTER = re.compile(
    r"^(?:'s)?\s+(?:\w+\s+)?(?:imposing|imposes|imposed|impose|threaten(?:s|ed|ing)?"
    r"|warn(?:s|ed|ing)?|object(?:s|ed|ing)?|protest(?:s|ed|ing)?|condemn(?:s|ed|ing)?"
    r"|criticis(?:es|ed|ing)|criticiz(?:es|ed|ing))\b"
)
_LOCATION_BEFORE = re.compile(
    r"\b(?:based|stationed|deployed|located|headquartered|held|hosted)\s+(?:\w+\s+){0,2}?"
    r"(?:in|at|to|near)\s+(?:the\s+)?(?:\w+\s+of\s+)?$"
)
_IN_BEFORE = re.compile(r"\b(?:in|at)\s+(?:the\s+)?$")
#: People of a state ("Turkish specialists", "Iranian pilots"): the side that receives.
_PERSONNEL_AFTER = re.compile(
    r"^(?:'s)?\s+(?:\w+\s+){0,2}?(?:pilots?|specialists?|personnel|crews?|technicians?|"
    r"engineers?|soldiers?|troops?|officers?|servicemen|operators?|colleagues?|trainees?|cadets?|"
    r"authorities|government|side|leadership|air force|navy|army|armed forces|military|fleet)\b"
)
_POSSESSIVE_AFTER = re.compile(r"^'s?\b")
#: Nouns of a further batch ("a second regimental set", "another batch of").
_BATCH = re.compile(
    r"\s+(?:\w+\s+){0,2}?(?:(?:regimental\s+)?sets?|batch(?:es)?|lots?|tranches?|squadrons?|"
    r"regiments?|consignments?|shipments?|deliveries|delivery)\b"
)
#: A new contract or deal is not a further batch of the same one.
_NOT_BATCH = re.compile(r"\s+(?:contract|deal|order|agreement|round|time|phase)s?\b")
#: How close before a system a lot marker must stand ("additional F-35s", "a second S-400 set").
_LOT_REACH = 25
#: The unit of a bare count of a system of each category.
_UNITS = {
    "aircraft": "aircraft",
    "helicopter": "helicopters",
    "uav": "drones",
    "ship": "ships",
    "submarine": "submarines",
    "armoured vehicle": "vehicles",
    "artillery": "systems",
    "air defence system": "systems",
    "missile": "missiles",
    "sensor": "systems",
    "engine": "engines",
}
#: A passive verb ("the F-16s were inducted"): its subject is the weapon, not the receiver.
_PASSIVE_BEFORE = re.compile(r"\b(?:was|were|been|being|is|are)\s+(?:\w+\s+)?$")
#: The article's two parties, referred to together.
_BOTH_SIDES = re.compile(
    r"\b(?:the two|both) (?:countries|sides|nations|states|governments|parties)\b"
)
#: Words that open a condition running to the next comma ("If the Turkish side decides, ...").
_CONDITION_OPENERS = frozenset(
    {"if", "unless", "in case", "as and when", "provided that", "providing that"}
)
#: Nouns of a purchase, which talks, plans and offers can be about.
_NOMINAL_DEAL = re.compile(
    r"(?:purchase|acquisition|procurement|sale|sales|deal|deals|contract|exports?|transfers?"
    r"|supplies|delivery|deliveries|shipments?|(?:will|would|to) (?:buy|purchase|acquire|procure))"
)
#: Between a training cue and what it teaches ("training in maintaining and servicing").
_TAUGHT = re.compile(r"\s+(?:in|on)\s+(?:(?:\w+ing|and|the|how to|to)\s+){0,3}")
#: An infinitive of buying, the purpose of a verb before it ("signed a deal to buy").
_PURPOSE = re.compile(r"to (?:buy|purchase|acquire|procure)")
#: How far after a contract cue its purpose may stand (about ten words).
_PURPOSE_REACH = 60
_BEFORE_CONTRACT = frozenset(
    {Stage.INTEREST.value, Stage.OFFER.value, Stage.NEGOTIATION.value, Stage.APPROVAL.value}
)
#: Stages whose facts carry the deal's value.
_VALUED_STAGES = frozenset(
    {
        Stage.INTEREST,
        Stage.OFFER,
        Stage.NEGOTIATION,
        Stage.APPROVAL,
        Stage.AGREEMENT,
        Stage.CONTRACT,
        Stage.SERVICING,
        Stage.CANCELLED,
    }
)
#: How close a count must stand to a cue of another stage to be that cue's object ("took
#: delivery of four", "an order for 126"): about five words.
_OWN_COUNT_REACH = 30
#: Words that make a phrase refer back to something named before: "such a major purchase of
#: weaponry", "these weapons", "and related equipment".
_REFERRING = re.compile(
    r"(?:\b(?:such(?:\s+an?)?|these|those|this|that|the)\s+(?:[\w-]+\s+){0,2}"
    r"|\b(?:related|associated|ancillary|accompanying)\s+)$"
)
#: Nouns of a deal that, after a definite determiner, refer back to one ("the deal").
_DEAL_NOUNS = frozenset({"deal", "deals", "contract", "contracts", "order", "orders", "pact"})
#: A definite determiner and at most three modifiers ("the five-year", "this $2 billion").
_DEFINITE_BEFORE = re.compile(r"\b(?:the|this|that|these|those)\s+(?:[\w$€£.,-]+\s+){0,3}$")
#: The stages a "the deal" may refer back to, the contract first.
_DEAL_STAGES = (Stage.CONTRACT, Stage.AGREEMENT, Stage.SERVICING, Stage.PRODUCTION)
#: How far after a system a weapon class may stand to be listed beside it.
_LIST_GAP = 60
#: How close to its cue a referring phrase outweighs a system named further away.
_ADJACENT = 20
#: A system named after "in favour of" is the alternative, not what the cue speaks of.
_ALTERNATIVE = re.compile(
    r"\b(?:in favou?r of|instead of|rather than|alternative to|as opposed to)\s+"
    r"(?:the\s+)?(?:[\w-]+\s+){0,2}$"
)
#: Heads that may refer to any weapon ("the system", "the equipment").
_GENERIC_HEADS = frozenset(
    {
        "system",
        "systems",
        "equipment",
        "hardware",
        "weapon",
        "weapons",
        "platform",
        "platforms",
        "units",
        "complex",
        "complexes",
        "weaponry",
        "arms",
        "armaments",
    }
)
#: How many sentences back a referring phrase ("these aircraft") may find its system.
_REFERENCE_REACH = 6
#: How far a system named outside the cue's clause may stand and still be what it speaks of.
_OTHER_CLAUSE_REACH = 40
#: How close before its cue a state must stand to be the verb's subject ("Turkey bought").
_SUBJECT_REACH = 60
#: How close before a cue a possessive names the buyer ("India's plan to purchase").
_POSSESSIVE_REACH = 12
#: How far after the cue or the weapon "to X" / "for X" still names the recipient.
_DESTINATION_REACH = 80
#: How far from the cue or the weapon "from X" / "with X" still names the supplier.
_SOURCE_REACH = 50
#: A stage whose evidence names a weapon only through a definite phrase still needs one.
_ANAPHORA_STAGES = frozenset(Stage) - {Stage.INTEREST}


@dataclass
class _Topic:
    """What the article was last about: the system (and lot) of the latest fact-bearing mention."""

    system: str | None = None
    lot: int | None = None
    sentence: int = -10


@dataclass
class _Reading:
    """What reading an article has gathered so far, for the sentences still to come."""

    systems: list[str]
    """Every system the article names, in order (later ones included)."""
    state_counts: Counter[str]
    """How often each state is named (the headline counts twice)."""
    topic: _Topic = field(default_factory=_Topic)
    memory: dict[str, tuple[str, str]] = field(default_factory=dict)
    """The pair a sentence settled for a system (or a supplier's unnamed weapons)."""
    recent: dict[str, int] = field(default_factory=dict)
    """Each system named so far, and the last sentence that named it."""
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)
    """The last pair given to each system, however weakly settled."""
    held: Modality | None = None
    """How the previous sentence held its last fact, for a sentence that restates it."""
    generic: set[int] = field(default_factory=set)
    """The ids of facts whose weapon is only a word like "weapons" or "equipment"."""
    references: set[int] = field(default_factory=set)
    """The ids of facts stated only by a definite "the deal", which refers back to a deal."""


@dataclass(frozen=True)
class _Target:
    """A weapon a cue speaks of: a system (or None for a class), where it stands, its maker."""

    system: str | None
    anchor: Mention | None
    origin: str | None
    inherited: bool = False
    via_class: bool = False


class RuleExtractor:
    """The rules.v1 extractor for one catalog and cue lexicon."""

    def __init__(self, catalog: Catalog, lexicon: Lexicon) -> None:
        self.catalog = catalog
        self.lexicon = lexicon
        self.forces = frozenset(
            label.lower()
            for org in catalog.organisations
            if org.kind == "force"
            for label in (org.name, *org.aliases)
        )
        self.makers = frozenset(
            label.lower()
            for org in catalog.organisations
            if org.kind == "manufacturer"
            for label in (org.name, *org.aliases)
        )

    # ------------------------------------------------------------------ article level

    def extract(
        self,
        article: Article,
        lowered: str,
        sentences: Sequence[Span],
        mentions: Sequence[Mention],
        speakers: Sequence[str | None],
    ) -> list[Fact]:
        state_counts = Counter(m.target for m in mentions if m.is_state)
        if article.title:
            for m in mentions:
                if m.is_state and m.start < len(article.title) + 2:
                    state_counts[m.target] += 1
        reading = _Reading([m.target for m in mentions if m.kind == "system"], state_counts)
        facts: list[Fact] = []
        by_sentence: list[list[Mention]] = [[] for _ in sentences]
        k = 0
        for m in mentions:
            while k < len(sentences) and sentences[k].end <= m.start:
                k += 1
            if k < len(sentences) and sentences[k].start <= m.start:
                by_sentence[k].append(m)
        for i, sent in enumerate(sentences):
            norm = lowered[sent.start : sent.end]
            local = [
                Mention(m.start - sent.start, m.end - sent.start, m.kind, m.target, m.phrase)
                for m in by_sentence[i]
            ]
            new = self._sentence(article, sent, norm, local, speakers[i], i, reading)
            facts.extend(new)
            reading.held = new[-1].modality if new else None
            named = [m for m in local if m.kind == "system"]
            for m in named:
                reading.recent[m.target] = i
            if named:
                last = named[-1]
                lot = next((f.lot for f in new if f.system == last.target), None)
                if lot is None:
                    lot = self._lot(
                        norm,
                        Cue(last.start, last.end, "", ""),
                        _Target(last.target, last, None),
                        (0, len(norm)),
                    )
                reading.topic = _Topic(last.target, lot, i)
            elif new and new[-1].system:
                reading.topic = _Topic(new[-1].system, new[-1].lot, i)
        facts = _resolve_references(facts, reading.references)
        return _share_values(_fold_generic(facts, reading.generic))

    # ------------------------------------------------------------------ sentence level

    def _sentence(
        self,
        article: Article,
        sent: Span,
        norm: str,
        mentions: list[Mention],
        speaker: str | None,
        index: int,
        reading: _Reading,
    ) -> list[Fact]:
        topic, memory = reading.topic, reading.memory
        if _QUOTE_INTRO.search(norm):
            return []
        if not (
            any(m.kind in ("system", "class", "anaphor") for m in mentions)
            or (topic.system and index - topic.sentence <= 2)
        ):
            return []  # nothing a cue could speak of
        cues = self.lexicon.find_stages(norm)
        if not cues:
            return []
        modalities = self.lexicon.find_modality(norm)
        conditions = _condition_spans(norm, modalities)
        clauses = _clause_bounds(norm)
        systems = [m for m in mentions if m.kind == "system"]
        classes = [m for m in mentions if m.kind in ("class", "anaphor")]
        states = [m for m in mentions if m.is_state]
        facts: list[Fact] = []
        generics: list[bool] = []  # whether each fact's weapon is only "weapons", "equipment"
        refers: list[bool] = []  # whether each fact is stated only by "the deal"
        referring: list[bool] = []  # whether its cue or weapon refers back ("such a purchase")
        amounts = _Amounts(sent.text)
        # "Under the deal, Poland will receive 24 drones": the contract's terms, not a delivery
        terms = self.lexicon.deal_content.search(norm) is not None
        restates = self.lexicon.elaboration.search(norm) is not None
        cues = [c for c in cues if not any(a <= c.start < b for a, b in conditions)]
        objects = [c for c in cues if _object_of_earlier_cue(norm, c, cues)]
        steps = [c for c in cues if c not in objects]  # what a modal verb may scope over
        for cue in cues:
            if cue in objects:
                continue
            if cue.text in self.lexicon.weak and not _near(
                cue, systems + [c for c in classes if c.kind == "class"], 40
            ):
                continue
            if _in_a_name(sent.text, cue):
                continue
            clause = _clause_of(cue, clauses)
            targets = self._targets(cue, norm, systems, classes, index, reading, clause)
            if not targets:
                continue
            stage = Stage(cue.label)
            modality = self._modality(cue, stage, modalities, clause, steps, norm)
            if restates and reading.held and modality is Modality.ASSERTED:
                modality = reading.held
            if modality is Modality.ASSERTED and _dated_later(amounts, cue, clause, article.date):
                modality = Modality.PLANNED  # "delivered in early 2023" written in 2021
            if terms and stage in (Stage.DELIVERY, Stage.DELIVERED):
                stage, modality = Stage.CONTRACT, Modality.ASSERTED
            for target in targets:
                lot = self._lot(norm, cue, target, clause) or (
                    topic.lot if target.inherited else None
                )
                pairs, firm = self._parties(
                    norm,
                    cue,
                    target,
                    states,
                    reading.state_counts,
                    clause,
                    conditions,
                    list(memory.values()),
                )
                if target.inherited and target.anchor is None and stage is Stage.NEGOTIATION:
                    deal = memory.get(target.system or "") or reading.seen.get(target.system or "")
                    if deal and any(m.target not in deal for m in states):
                        continue  # talks with a third state are about something else
                remembered = memory.get(
                    target.system or (pairs[0][0] if pairs else target.origin or "")
                )
                if firm:
                    for pair in pairs:
                        memory[pair[0]] = pair
                        if target.system:
                            memory[target.system] = pair
                elif remembered and (not pairs or remembered[0] == pairs[0][0]):
                    pairs = [remembered]
                else:  # "an agreement between the U.S. and the Saudis": the order settled before
                    known = set(memory.values())
                    pairs = [(r, s) if (r, s) in known else (s, r) for s, r in pairs]
                if (
                    firm
                    and remembered
                    and target.system
                    and pairs
                    and all(p[0] == target.origin for p in pairs)
                    and remembered[0] != target.origin
                    and any(p[1] == remembered[1] for p in pairs)
                ):
                    pairs = [remembered]  # used or donated: the earlier sentence named the giver
                elif (
                    not firm
                    and remembered
                    and target.system
                    and pairs
                    and all(p[0] == target.origin for p in pairs)
                    and remembered[0] != target.origin
                    and not any(m.target == target.origin for m in states)
                ):
                    pairs = [remembered]  # "the jets", no one named: the deal settled before
                if target.system and pairs:
                    reading.seen[target.system] = pairs[0]
                system = target.system
                if target.via_class and remembered and remembered not in pairs:
                    system = None  # "drones" sold to others than the deal's buyer: unnamed
                    if target.system:  # and the system's own deal stays as it was
                        memory[target.system] = remembered
                if stage is Stage.APPROVAL:
                    pairs = [p for p in pairs if not _approved_by(norm, states, p[1])]
                for supplier, recipient in pairs:
                    refers.append(self._refers_back(norm, cue))
                    referring.append(
                        _REFERRING.search(norm[: cue.start]) is not None
                        or (
                            target.anchor is not None
                            and _REFERRING.search(norm[: target.anchor.start]) is not None
                        )
                    )
                    generics.append(
                        system is None
                        and not (target.anchor is not None and self._concrete(target.anchor))
                    )
                    facts.append(
                        Fact(
                            article_id=article.id,
                            supplier=supplier,
                            recipient=recipient,
                            system=system,
                            stage=stage,
                            modality=modality,
                            spans=(sent,),
                            lot=lot,
                            quantity=self._quantity(amounts, target, cue, cues),
                            value=_value(amounts, stage),
                            speaker=speaker,
                            extractor=EXTRACTOR,
                        )
                    )
        # "a deal for the S-400 in its first major weapons purchase": the weapons are the S-400,
        # and what the sentence says of them (a value) is said of it
        named = {(f.supplier, f.recipient, f.stage): i for i, f in enumerate(facts) if f.system}
        kept: dict[int, Fact] = {}
        for i, (fact, generic) in enumerate(zip(facts, generics, strict=True)):
            same = named.get((fact.supplier, fact.recipient, fact.stage))
            if fact.system or not generic or same is None:
                kept.setdefault(i, fact)
            elif fact.value and not facts[same].value:
                kept[same] = dataclasses.replace(facts[same], value=fact.value)
        result = [kept[i] for i in sorted(kept)]
        reading.references.update(id(kept[i]) for i in sorted(kept) if refers[i])
        reading.generic.update(id(kept[i]) for i in sorted(kept) if generics[i] and referring[i])
        return result

    def _refers_back(self, norm: str, cue: Cue) -> bool:
        """Whether a cue is a definite noun of a deal ("the deal", "the $7.6 billion deal",
        "this contract"): it names a deal the article has already stated, not a new step."""
        return cue.label == Stage.CONTRACT.value and (
            cue.text in _DEAL_NOUNS and _DEFINITE_BEFORE.search(norm[: cue.start]) is not None
        )

    def _targets(
        self,
        cue: Cue,
        norm: str,
        systems: list[Mention],
        classes: list[Mention],
        index: int,
        reading: _Reading,
        clause: tuple[int, int],
    ) -> list[_Target]:
        """What a cue speaks of: named systems first, then a class word or a referring phrase."""
        topic, recent = reading.topic, reading.recent
        systems = [
            m for m in systems if not _ALTERNATIVE.search(norm[max(0, m.start - 24) : m.start])
        ]
        in_clause = [m for m in systems if clause[0] <= m.start < clause[1]]
        before = [m for m in systems if m.end <= cue.start]
        after = [m for m in systems if _distance(m, cue) <= _OTHER_CLAUSE_REACH]
        pool = in_clause or before or after
        closest_class = min(classes, key=lambda m: _distance(m, cue), default=None)
        if (
            pool
            and closest_class is not None
            and _distance(closest_class, cue) <= _ADJACENT
            and _distance(closest_class, cue) < min(_distance(m, cue) for m in pool)
            and _DETERMINER.search(norm[: closest_class.start])
        ):
            pool = []  # "the purchase of the jets": the phrase next to the cue says what
        if pool:
            nearest = min(pool, key=lambda m: _distance(m, cue))
            group = [
                m
                for m in _coordinated(nearest, systems, norm)
                if m is nearest
                or not self.lexicon.stages_anywhere.search(
                    norm[min(m.end, nearest.end) : max(m.start, nearest.start)]
                )
            ]
            targets = [self._system_target(m) for m in group]
            # "the S-400 and four stealth frigates": a kind of weapon listed beside the system
            for cls in classes:
                if (
                    cls.kind == "class"
                    and self._concrete(cls)
                    and not self._head_of_system(cls, systems, norm)
                    and any(
                        0 < cls.start - m.end <= _LIST_GAP
                        and _SYSTEM_COORDINATION.search(norm[m.end : cls.start])
                        and re.search(r"\band\b|,", norm[m.end : cls.start])
                        and not self._same_kind(m.target, cls)
                        for m in group
                    )
                ):
                    # listed in the same deal, it comes from the same seller
                    targets.append(_Target(None, cls, targets[0].origin))
            return targets
        for cls in sorted(classes, key=lambda m: _distance(m, cue)):
            head = cls.phrase.lower().split()[-1]
            matching = [
                name
                for name in dict.fromkeys(reading.systems)
                if any(_same_head(k, head) for k in self.catalog.systems[name].kind)
            ]
            definite = _DETERMINER.search(norm[: cls.start]) is not None
            if definite:
                fresh = [
                    n for n in matching if n in recent and index - recent[n] <= _REFERENCE_REACH
                ]
                if fresh:
                    name = max(fresh, key=lambda n: recent[n])
                    return [_Target(name, cls, self._origin(name), name == topic.system)]
                if head in _GENERIC_HEADS and topic.system and index - topic.sentence <= 2:
                    return [_Target(topic.system, cls, self._origin(topic.system), True)]
            if cls.kind == "anaphor":
                continue
            if len(matching) == 1:
                name = matching[0]
                return [_Target(name, cls, self._origin(name), via_class=True)]
            fresh = [n for n in matching if n in recent and index - recent[n] <= _REFERENCE_REACH]
            if fresh:
                name = max(fresh, key=lambda n: recent[n])
                return [_Target(name, cls, self._origin(name), via_class=True)]
            return [_Target(None, cls, None)]
        stage = Stage(cue.label)
        if (
            topic.system
            and stage in _ANAPHORA_STAGES
            and index - topic.sentence <= 2
            and cue.text not in self.lexicon.weak
        ):
            return [_Target(topic.system, None, self._origin(topic.system), True)]
        return []

    def _concrete(self, cls: Mention) -> bool:
        """Whether a class phrase names a kind of weapon ("frigates"), not just "weapons"."""
        found = self.catalog.weapon_class(cls.phrase)
        return bool(found and found.concrete)

    def _head_of_system(self, cls: Mention, systems: list[Mention], norm: str) -> bool:
        """Whether a class phrase is the head noun of a system just named ("Scorpene-class
        submarines", "S-400 air defence systems"): the system itself, not one more weapon."""
        return any(
            0 <= cls.start - m.end <= 12
            and re.fullmatch(r"[\s-]*(?:class|type|model|series)?[\s-]*", norm[m.end : cls.start])
            and self._same_kind(m.target, cls)
            for m in systems
        )

    def _same_kind(self, system: str, cls: Mention) -> bool:
        """Whether a class phrase could name the system itself ("S-400 air defence systems")."""
        head = cls.phrase.lower().split()[-1]
        found = self.catalog.systems.get(system)
        return bool(found and any(_same_head(k, head) for k in found.kind))

    def _system_target(self, mention: Mention) -> _Target:
        return _Target(mention.target, mention, self._origin(mention.target))

    def _quantity(
        self, amounts: _Amounts, target: _Target, cue: Cue, cues: Sequence[Cue] = ()
    ) -> Quantity | None:
        """The count nearest the weapon, in a unit that can count it."""
        found = self.catalog.systems.get(target.system or "")

        def fits(unit: str) -> bool:
            return found is None or self.lexicon.fits(unit, found.category)

        return _quantity(amounts, target, cue, self._unit(target), fits, cues)

    def _unit(self, target: _Target) -> str | None:
        """The unit a bare count of a system is in ("36 Rafales" are 36 aircraft)."""
        found = self.catalog.systems.get(target.system or "")
        return _UNITS.get(found.category) if found else None

    def _origin(self, system: str) -> str | None:
        found = self.catalog.systems.get(system)
        return found.origin if found else None

    def _modality(
        self,
        cue: Cue,
        stage: Stage,
        modalities: list[Cue],
        clause: tuple[int, int],
        cues: list[Cue],
        norm: str = "",
    ) -> Modality:
        """The modality of a cue: the firmest-ranked modality word that scopes over it.

        A condition scopes over its whole clause; a plan or a possibility only where it stands
        near the cue ("will be delivered", "deliveries ... should begin") with no other stage
        cue between them; a negation only just before the cue ("has not received").
        """
        present: set[Modality] = set()
        for m in modalities:
            if not clause[0] <= m.start < clause[1]:
                continue
            modality = Modality(m.label)
            overlaps = m.start < cue.end and cue.start < m.end
            if modality in (Modality.PLANNED, Modality.POSSIBLE) and not overlaps:
                # "ready to discuss the supply ... and production": a modal verb that heads a
                # cue of its own scopes over the rest of its clause
                heads = any(c.start <= m.start < c.end for c in cues) and m.start < cue.start
                before = 0 <= cue.start - m.end <= _MODAL_BEFORE
                after = 0 <= m.start - cue.end <= _MODAL_AFTER and not _NEW_CLAUSE.search(
                    norm[cue.end : m.start]
                )
                between = (min(m.end, cue.end), max(m.start, cue.start))
                if not heads and (
                    not (before or after)
                    or any(between[0] <= c.start < between[1] for c in cues if c is not cue)
                ):
                    continue
            if modality is Modality.PLANNED and stage in _PLAN_STAGES:
                continue  # "plans to buy" is an interest, asserted
            if modality is Modality.DENIED and overlaps and stage is Stage.CANCELLED:
                continue  # "not be allowed to participate" is the cancellation itself
            if modality is Modality.DENIED and not (
                0 <= cue.start - m.end <= _NEGATION_REACH or overlaps
            ):
                continue
            if m.text == "without" and cue.start - m.end > _WITHOUT_REACH:
                continue  # "without prior notice, decided to scrap": a manner, not a denial
            present.add(modality)
        for modality in _MODALITY_PRIORITY:
            if modality in present:
                return modality
        return Modality.ASSERTED

    def _lot(self, norm: str, cue: Cue, target: _Target, clause: tuple[int, int]) -> int | None:
        """The lot a marker names right before the weapon ("a second regimental set of S-400")."""
        anchor = target.anchor.start if target.anchor else None
        for lot in self.lexicon.find_lots(norm):
            if not clause[0] <= lot.start < clause[1] or norm[lot.end : lot.end + 1] == "-":
                continue
            after = norm[lot.end :]
            batch = _BATCH.match(after)
            if anchor is not None and 0 <= anchor - lot.end <= _LOT_REACH:
                crosses = re.search(r"\bof\b", norm[lot.end : anchor]) is not None
                if not _NOT_BATCH.match(after) and (batch or not crosses):
                    return int(lot.label)  # "a second S-400 set", not "the second buyer of"
            elif (
                batch
                and cue.label in (Stage.DELIVERY.value, Stage.DELIVERED.value)
                and (anchor is None or 0 <= anchor - lot.end <= 2 * _LOT_REACH)
            ):
                return int(lot.label)  # "the third batch": a further delivery
        return None

    def _parties(
        self,
        norm: str,
        cue: Cue,
        target: _Target,
        states: list[Mention],
        state_counts: Counter[str],
        clause: tuple[int, int],
        conditions: list[tuple[int, int]],
        settled: Iterable[tuple[str, str]] = (),
    ) -> tuple[list[tuple[str, str]], bool]:
        """Supplier and recipient pairs for a cue, and whether the sentence itself fixes them.

        Prepositions decide first ("to X", "from X"), then word order (the subject of a verb
        of buying or of selling), then the states the article names most.
        """
        role = self.lexicon.agent_role(cue)
        maker: str | None = None
        sources: list[str] = []
        destinations: list[str] = []
        crews: list[str] = []  # "Turkish specialists", "the Iranian Air Force"
        others: list[Mention] = []
        stage = Stage(cue.label)
        near = (
            (cue.start, cue.end)
            if target.anchor is None
            else (min(cue.start, target.anchor.start), max(cue.end, target.anchor.end))
        )
        for m in states:
            before = norm[max(0, m.start - 12) : m.start]
            if _LOCATION_BEFORE.search(norm[max(0, m.start - 30) : m.start]):
                continue  # "based in Crimea": where a unit stands, not a party
            if _BYSTANDER_BEFORE.search(norm[max(0, m.start - 30) : m.start]):
                continue
            if _BYSTANDER_AFTER.match(norm[m.end : m.end + 40]):
                continue  # who threatens the buyer is no party to the purchase
            if target.anchor and m.kind == "adjective" and 0 <= target.anchor.start - m.end <= 20:
                maker = m.target  # "Russian-made S-400", "French submarines"
            elif _SUPPLIER_BEFORE.search(before) and (
                _distance(m, cue) <= _SOURCE_REACH
                or (target.anchor is not None and 0 <= m.start - target.anchor.end <= _SOURCE_REACH)
            ):
                sources.append(m.target)
            elif stage is Stage.TRAINING and _IN_BEFORE.search(before):
                # trained in Russia: the trainer; the place after the cue is the training's own
                if m.start > cue.start:
                    sources.insert(0, m.target)
                else:
                    sources.append(m.target)
            elif (
                _RECIPIENT_BEFORE.search(before)
                and m.kind != "adjective"
                and near[0] <= m.start <= near[1] + _DESTINATION_REACH
            ):
                group = _coordinated(m, states, norm)
                destinations.extend(g.target for g in group)
            elif _PERSONNEL_AFTER.match(norm[m.end :]):
                crews.append(m.target)
            else:
                others.append(m)
        subject = [
            m
            for m in others
            if clause[0] <= m.start
            and m.end <= cue.start
            and m.kind != "adjective"
            and cue.start - m.end <= _SUBJECT_REACH
            and not any(a <= m.start < b for a, b in conditions)
        ]
        subjects = [m.target for m in _coordinated(subject[-1], subject, norm)] if subject else []

        if sources:
            suppliers = sources[:1]
        elif role == "supplier" and subjects:
            suppliers = subjects
        elif role == "supplier" and _UNNAMED_STATES.search(norm[clause[0] : cue.start]):
            return [], True
        elif target.origin or maker:
            suppliers = [target.origin or maker or ""]
        else:
            made_by = [m.target for m in others if m.phrase.lower() in self.makers]
            if not made_by:
                return [], False
            suppliers = made_by[:1]  # "Raytheon", "Dassault": the maker's state sells
        suppliers = list(dict.fromkeys(suppliers))
        if role == "recipient" and subjects and set(subjects) <= set(suppliers):
            if not any(
                m.target not in suppliers and clause[0] <= m.start < clause[1] for m in states
            ):
                return [], True  # a state buying for its own forces: no transfer
            subjects = []  # the seller signs too ("Hanwha signed a contract with Poland")
        own_forces = [
            m
            for m in states
            if m.phrase.lower() in self.forces
            and m.target in suppliers
            and clause[0] <= m.start < cue.start
            and cue.start - m.end <= _SUBJECT_REACH
        ]
        if own_forces and not destinations and not crews:
            return [], True  # "the U.S. Army has contracted ... production": its own order
        firm = True
        recipients = [d for d in dict.fromkeys(destinations) if d not in suppliers]
        if destinations and not recipients and not sources:
            return [], True  # "inducted into the Pakistan Air Force" a jet Pakistan makes
        if not recipients:
            recipients = [  # "India's plan to purchase", "Turkey's purchase of"
                m.target
                for m in others
                if m.target not in suppliers
                and _POSSESSIVE_AFTER.match(norm[m.end :])
                and 0 <= cue.start - m.end <= _POSSESSIVE_REACH
            ][:1]
        if not recipients and role == "recipient":
            recipients = [s for s in subjects if s not in suppliers]
        if not recipients:
            recipients = [c for c in dict.fromkeys(crews) if c not in suppliers][:1]
        if not recipients:
            firm = False
            candidates = [m for m in others if m.target not in suppliers]
            possessive = [m for m in candidates if _POSSESSIVE_AFTER.match(norm[m.end :])]
            if possessive or candidates:
                # a bystander (the state threatening sanctions) is named less than the buyer
                chosen = min(
                    possessive or candidates,
                    key=lambda m: (-state_counts[m.target], _distance(m, cue)),
                )
                recipients = [chosen.target]
        if (
            not recipients
            and role == "recipient"
            and len(re.findall(r"\w+", norm[clause[0] : cue.start])) >= 2
            and not _BOTH_SIDES.search(norm[clause[0] : cue.start])
            and not _PASSIVE_BEFORE.search(norm[max(0, cue.start - 20) : cue.start])
        ):
            return [], False  # someone unnamed ("a regiment") receives: no buyer to guess
        if not recipients and len(suppliers) == 1:
            counterpart = _main_counterpart(state_counts, suppliers[0], settled)
            if counterpart:
                recipients = [counterpart]
        pairs = []
        for supplier in suppliers:
            for recipient in recipients:
                if recipient == target.origin and supplier != target.origin:
                    supplier, recipient = (
                        recipient,
                        supplier,
                    )  # a system returns to its maker only rarely
                if supplier != recipient and (supplier, recipient) not in pairs:
                    pairs.append((supplier, recipient))
        return pairs, firm


# ---------------------------------------------------------------------- helpers


def _same_head(kind: str, head: str) -> bool:
    """Whether a system's kind noun ("fighter jets") ends in the head of a phrase ("jets")."""
    head = head.rstrip("s")
    return any(word.rstrip("s") == head for word in kind.lower().split())


def _approved_by(norm: str, states: list[Mention], recipient: str) -> bool:
    """An approval given by the buyer itself ("approved by the Greek parliament") is no approval
    of the sale by the supplier's government."""
    for m in states:
        if m.target == recipient and re.search(
            r"\bby\s+(?:the\s+)?$", norm[max(0, m.start - 8) : m.start]
        ):
            return True
    return False


def _object_of_earlier_cue(norm: str, cue: Cue, cues: list[Cue]) -> bool:
    """A purchase or a delivery named as what talks, plans, offers or approvals are about
    ("talks over the purchase of", "in talks to buy", "approved the delivery of") is the
    object of that earlier step, not a step of its own."""
    # "training in maintaining and servicing the jets": what the training teaches
    if cue.label == Stage.SERVICING.value and any(
        c.label == Stage.TRAINING.value
        and c.end <= cue.start
        and _TAUGHT.fullmatch(norm[c.end : cue.start])
        for c in cues
    ):
        return True
    # "signed a deal with Raytheon to buy": the purpose of the signing, held as it is held
    if (
        cue.label == Stage.CONTRACT.value
        and _PURPOSE.fullmatch(cue.text)
        and any(
            c.label == cue.label and c.end <= cue.start and cue.start - c.end <= _PURPOSE_REACH
            for c in cues
        )
    ):
        return True
    if cue.label not in (Stage.CONTRACT.value, Stage.DELIVERY.value) or not _NOMINAL_DEAL.fullmatch(
        cue.text
    ):
        return False
    return any(
        c.label in _BEFORE_CONTRACT and 0 <= cue.start - c.end <= 30 and c.end <= cue.start
        for c in cues
    )


def _in_a_name(sentence: str, cue: Cue) -> bool:
    """A capitalised cue inside running text is part of a name ("Training Aviation Base")."""
    if cue.start == 0 or not sentence[cue.start : cue.start + 1].isupper():
        return False
    words = re.findall(r"[A-Za-z][\w-]*", sentence)
    if sum(1 for w in words if w[0].isupper()) * 10 >= 7 * len(words):
        return False  # a headline capitalises every word
    before = re.findall(r"[\w-]+", sentence[: cue.start])
    after = re.findall(r"[\w-]+", sentence[cue.end :])
    return bool((before and before[-1][0].isupper()) or (after and after[0][0].isupper()))


def _distance(m: Mention | Cue, cue: Cue) -> int:
    if m.end <= cue.start:
        return cue.start - m.end
    if m.start >= cue.end:
        return m.start - cue.end
    return 0


def _near(cue: Cue, mentions: list[Mention], reach: int) -> bool:
    return any(_distance(m, cue) <= reach for m in mentions)


def _coordinated(first: Mention, mentions: list[Mention], norm: str) -> list[Mention]:
    """``first`` and the mentions of its kind coordinated with it ("A, B and C")."""
    same = sorted(
        (m for m in mentions if (m.kind == "system") == (first.kind == "system")),
        key=lambda m: m.start,
    )
    pattern = _SYSTEM_COORDINATION if first.kind == "system" else _COORDINATION
    i = same.index(first)
    group = [first]
    j = i
    while j + 1 < len(same) and pattern.search(norm[same[j].end : same[j + 1].start]):
        j += 1
        group.append(same[j])
    j = i
    while j > 0 and pattern.search(norm[same[j - 1].end : same[j].start]):
        j -= 1
        group.insert(0, same[j])
    unique: dict[str, Mention] = {}
    for m in group:
        unique.setdefault(m.target, m)
    return list(unique.values())


def _clause_bounds(norm: str) -> list[tuple[int, int]]:
    cuts = [0] + [m.start() for m in _CLAUSE.finditer(norm)] + [len(norm)]
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a] or [(0, len(norm))]


def _clause_of(cue: Cue, clauses: list[tuple[int, int]]) -> tuple[int, int]:
    for a, b in clauses:
        if a <= cue.start < b:
            return a, b
    return clauses[-1]


def _condition_spans(norm: str, modalities: list[Cue]) -> list[tuple[int, int]]:
    """The "if ..." parts of a sentence, up to the comma that ends the condition."""
    spans = []
    for m in modalities:
        if m.label == Modality.CONDITIONAL.value and m.text in _CONDITION_OPENERS:
            comma = norm.find(",", m.end)
            spans.append((m.start, comma if comma != -1 else m.end))
    return spans


def _main_counterpart(
    state_counts: Counter[str], supplier: str, settled: Iterable[tuple[str, str]] = ()
) -> str | None:
    """The article's buyer for this supplier: the recipient earlier sentences settled most
    often, else the state the article names most often besides the supplier (twice at least)."""
    buyers = Counter(r for s, r in settled if s == supplier and r != supplier)
    if buyers:
        return buyers.most_common(1)[0][0]
    for code, n in state_counts.most_common():
        if code != supplier:
            return code if n >= 2 else None
    return None


class _Amounts:
    """The quantities and money of one sentence, parsed once and only when a fact needs them."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def quantities(self) -> list[Found[Quantity]]:
        return find_quantities(self.text)

    @cached_property
    def money(self) -> list[Found[Value]]:
        return find_money(self.text)

    @cached_property
    def dates(self) -> list[Found[dt.date]]:
        return find_dates(self.text)


#: How far after its cue a date still says when that step happens ("delivered in May 2023").
_DATE_REACH = 40
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
#: Words before a date that make it the end of a span, not the time of the step.
_UNTIL = re.compile(r"\b(?:until|till|through|to|thru|for)\s+(?:the\s+)?(?:\w+\s+)?$")


def _dated_later(
    amounts: _Amounts, cue: Cue, clause: tuple[int, int], written: dt.date | None
) -> bool:
    """Whether the step a cue names is dated after the article was written: a step in a
    later year than the article's ("the last jets delivered in early 2023", in a 2021
    article) is still to come, however the verb is written."""
    if written is None:
        return False
    window = amounts.text[cue.end : min(clause[1], cue.end + _DATE_REACH + 12)]
    if not any(int(y) > written.year for y in _YEAR.findall(window)):
        return False  # the cheap test first: no later year near the cue
    for found in amounts.dates:
        start = found.span.start
        if not (clause[0] <= start < clause[1]) or not 0 <= start - cue.end <= _DATE_REACH:
            continue
        if _UNTIL.search(amounts.text[max(0, start - 20) : start]):
            continue
        if found.value.year > written.year:
            return True
    return False


def _quantity(
    amounts: _Amounts,
    target: _Target,
    cue: Cue,
    unit: str | None,
    fits: Callable[[str], bool],
    cues: Sequence[Cue] = (),
) -> Quantity | None:
    """The count of the weapon a cue speaks of: a count right before the system ("36
    Rafales"), else the nearest count in a unit that fits. A count that stands nearer a cue of
    another stage is that cue's object ("received four Su-35s, the first instalment of an
    acquisition"), not this one's; and a delivery of "the first of four frigates" is of one."""
    rivals = [c for c in cues if c is not cue and _family(c.label) != _family(cue.label)]

    def owned(start: int, end: int) -> bool:
        span = Cue(start, end, "", "")
        mine = _distance(span, cue)
        before = [c for c in rivals if c.end <= start]  # a verb's object follows it
        rival = min(before, key=lambda c: _distance(span, c), default=None)
        if rival is None or _distance(span, rival) >= mine:
            return True
        # "the cancellation of an order for 126 jets": the nearer cue is this one's object
        between = cue.end <= rival.start and rival.end <= start
        return between or _distance(span, rival) > _OWN_COUNT_REACH

    delivery = cue.label in (Stage.DELIVERY.value, Stage.DELIVERED.value)
    if target.anchor is not None and unit is not None:
        before = _count_before(amounts.text, target.anchor.start)
        if before is not None and owned(before[1], before[2]):
            count = before[0]  # "36 Rafales", "24 Su-35s": a count right before the system
            first = _first_of(amounts.text, before[1]) if delivery else None
            return Quantity(first or count, unit_for_count(unit, first or count))
    found = [
        f
        for f in amounts.quantities
        if fits(f.value.unit)
        and owned(f.span.start, f.span.end)
        and (not _ARTICLE_COUNT.match(f.span.text) or _names(f, target))
    ]
    if not found:
        return None
    anchor = target.anchor.start if target.anchor else cue.start

    def gap(f: Found[Quantity]) -> int:  # from the weapon, or from the cue it is the object of
        return min(
            abs(f.span.start - anchor), _distance(Cue(f.span.start, f.span.end, "", ""), cue)
        )

    best = min(found, key=gap)
    if gap(best) > 80:
        return None
    first = _first_of(amounts.text, best.span.start) if delivery else None
    if first is not None:
        return Quantity(first, unit_for_count(best.value.unit, first))
    return best.value


#: A count of one written as an article ("a FREMM frigate", "an airplane").
_ARTICLE_COUNT = re.compile(r"an?\s", re.I)


def _names(found: Found[Quantity], target: _Target) -> bool:
    """Whether a quantity phrase holds or touches the weapon's own mention: "a" counts one
    only there ("a FREMM frigate", "a regimental set of S-400"), not in "a capable airplane"."""
    anchor = target.anchor
    return anchor is not None and (found.span.start - 5 <= anchor.start <= found.span.end + 5)


def _family(label: str) -> str:
    """Stages whose cues count the same things: a delivery and its completion."""
    return Stage.DELIVERY.value if label == Stage.DELIVERED.value else label


#: "the first of four frigates", "the first two of 12 jets": the part delivered so far.
_FIRST_OF = re.compile(r"\b(?:the\s+)?(?:first|initial)\s+(?:([\w-]+)\s+)?of\s+(?:the\s+)?$", re.I)


def _first_of(text: str, start: int) -> int | None:
    """The count of a first part of the count at ``start`` ("the first two of 12"), or None."""
    m = _FIRST_OF.search(text[max(0, start - 40) : start])
    if m is None:
        return None
    if m.group(1) is None:
        return 1
    try:
        count = parse_count(m.group(1))
    except ParseError:
        return None
    return count if 0 < count < 10_000 else None


def _resolve_references(facts: list[Fact], references: set[int]) -> list[Fact]:
    """Give a fact stated only by "the deal" the stage and modality of the deal it refers to.

    "He expects to sign a deal for Patriots ... the deal is necessary": the second sentence
    restates the planned contract, it does not assert one. "Two agreements for maintenance
    were signed ... the five-year contract is worth $300 million": the contract is the
    servicing deal. The deal referred to is the latest earlier fact of the same parties and
    system, a contract if there is one; a "the deal" with none before it stays as it is.
    """
    if not references:
        return facts
    out: list[Fact] = []
    for i, fact in enumerate(facts):
        if id(fact) in references:
            earlier = [
                f
                for f in facts[:i]
                if id(f) not in references
                and (f.supplier, f.recipient, f.system)
                == (fact.supplier, fact.recipient, fact.system)
                and f.stage in _DEAL_STAGES
            ]
            if earlier:
                deal = next(
                    (f for f in reversed(earlier) if f.stage is Stage.CONTRACT), earlier[-1]
                )
                fact = dataclasses.replace(fact, stage=deal.stage, modality=deal.modality)
        out.append(fact)
    return out


def _fold_generic(facts: list[Fact], generic: set[int]) -> list[Fact]:
    """Fold a fact about unnamed "weapons" that refers back into the article's fact about a
    named system.

    "Turkey bought the S-400 ... such a major purchase of weaponry from Moscow": where the
    article states the same step between the same two states for a named system, the
    weapons are that system; a value or count the generic sentence gives goes to it if it
    is the only such system and has none of its own.
    """
    if not generic:
        return facts
    named: dict[tuple[str | None, str | None, Stage], list[int]] = {}
    for i, fact in enumerate(facts):
        if fact.system and id(fact) not in generic:
            named.setdefault((fact.supplier, fact.recipient, fact.stage), []).append(i)
    out = list(facts)
    drop: set[int] = set()
    for i, fact in enumerate(facts):
        same = named.get((fact.supplier, fact.recipient, fact.stage))
        if id(fact) not in generic or fact.system or not same:
            continue
        drop.add(i)
        if len({facts[j].system for j in same}) == 1:
            j = same[0]
            out[j] = dataclasses.replace(
                out[j],
                value=out[j].value or fact.value,
                quantity=out[j].quantity or fact.quantity,
            )
    return [f for i, f in enumerate(out) if i not in drop]


def _share_values(facts: list[Fact]) -> list[Fact]:
    """Give a contract its value stated in another sentence of the article.

    Where the article states exactly one value for the contracts between two states ("a 5.2
    billion euro deal for Rafales, a FREMM frigate and missiles"), each of their contract facts
    without a value takes it. Two different values leave every fact as it was, and a value of
    unnamed equipment ("a portfolio of orders worth $1 billion") is no contract's price.
    """
    values: dict[tuple[str | None, str | None], set[Value]] = {}
    for fact in facts:
        if fact.stage is Stage.CONTRACT and fact.value is not None and fact.system:
            values.setdefault((fact.supplier, fact.recipient), set()).add(fact.value)
    shared = {pair: next(iter(v)) for pair, v in values.items() if len(v) == 1}
    return [
        dataclasses.replace(fact, value=shared[(fact.supplier, fact.recipient)])
        if fact.stage is Stage.CONTRACT
        and fact.value is None
        and (fact.supplier, fact.recipient) in shared
        else fact
        for fact in facts
    ]


#: "five of the Su-35s": a count of part of the fleet named after it.
_PARTITIVE_BEFORE = re.compile(r"\s+of\s+(?:the|these|those|its|their)\s+$", re.I)


def _count_before(text: str, start: int) -> tuple[int, int, int] | None:
    """A count standing right before ``start``, at most one word between ("36 new Rafales")
    or a partitive ("five of the Su-35s"), and where it stands. A comma between them ends
    the phrase: in "24 Rafales, FREMM frigate" the count is the Rafales'."""
    low = max(0, start - 40)
    head = text[low:start]
    partitive = _PARTITIVE_BEFORE.search(head)
    if partitive is not None:
        head = head[: partitive.start()]
    matches = list(re.finditer(r"[\w,-]+", head))[-3:]
    words = [m.group() for m in matches]
    for size in (1, 2):
        for end in (len(words), len(words) - 1):
            if end < 0:
                continue  # nothing before the weapon: it opens the text
            if end < len(words) and (
                partitive is not None
                or words[end].lower() in ("of", "the")
                or words[end].endswith(",")
            ):
                continue
            phrase = " ".join(words[max(0, end - size) : end])
            if not phrase:
                continue
            try:
                count = parse_count(phrase)
            except ParseError:
                continue
            if partitive is not None and count == 1:
                continue  # "one of the S-400 buyers" counts nothing
            if 0 < count < 10_000 and not (1900 <= count <= 2099 and phrase.isdigit()):
                return (
                    count,
                    low + matches[max(0, end - size)].start(),
                    low + matches[end - 1].end(),
                )
    return None


def _value(amounts: _Amounts, stage: Stage) -> Value | None:
    if stage not in _VALUED_STAGES:
        return None
    found = amounts.money
    return found[0].value if found else None
