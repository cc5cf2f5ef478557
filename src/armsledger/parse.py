"""Money, counts and dates: parsers for a phrase, finders for a sentence.

``parse_money``, ``parse_quantity`` and ``parse_date`` turn one phrase into a model value
and raise ``ParseError`` for anything else. ``find_money``, ``find_quantities`` and
``find_dates`` return every such phrase in a sentence as ``Found(span, value)``, where the
span's offsets point into the sentence exactly (``text[start:end] == span.text``).

The words (currencies, magnitudes, approximation cues, number words, unit nouns, month
names) live in ``data/units.yaml``; this module holds the mechanism. The regexes are built
from that file once, on first use, and shared by parsers and finders so that a phrase a
finder returns always parses.

Conventions, following the gold annotations (ANNOTATION.md, "Attributes"):

* Money is kept as stated, never converted; ``$`` is USD, ``Rs`` and ``₹`` are INR. An
  approximation cue before the amount ("about", "nearly", "more than", "up to", "an
  estimated cost of") sets ``approximate`` and is part of the span. A range
  ("$1.5-2 billion") gives its upper bound, approximate.
* A quantity's unit is the head noun of the phrase, normalised by ``units.yaml`` (jets,
  fighters, warplanes: aircraft) and agreeing with the count: ``1 regimental set``,
  ``2 submarines``, ``36 aircraft``. Between count and noun may stand up to six words, at
  most three of them lower case ("five advanced S-400 Triumf surface-to-air missile systems").
* A date is the first day of what the text names: "December 2019" is 2019-12-01, "2020" is
  2020-01-01, "last year" is January 1 of the year before the reference. Phrases that need
  a reference ("July 12", "last year", "on Monday") raise or are skipped without one; a bare
  weekday is the latest such day on or before the reference.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Generic, TypeVar

import yaml

from armsledger.errors import CatalogError, ParseError
from armsledger.model import Quantity, Span, Value

__all__ = [
    "Found",
    "find_dates",
    "find_money",
    "find_quantities",
    "parse_date",
    "parse_money",
    "parse_quantity",
    "unit_for_count",
]

T = TypeVar("T")

#: Horizontal white space, the non-breaking kinds included: phrases never span a line break.
_SP = r"[^\S\r\n]"
#: Characters that, right before a number, make it part of a name or another number
#: ("Su-35", "F-16", "K9", "209/1400", "$5", "1.5").
_NOT_BEFORE_NUMBER = r"(?<![\w$€£₹₩₪.,/+'’\-–])"
#: A decimal number as news writes it: "5", "5,000", "7.87", "59,000.5".
_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,15})(?:\.[0-9]{1,6})?(?![0-9]|[.,][0-9])"
#: The most words between a count and its unit noun, and the most of them in lower case:
#: "four hundred twenty (420) M57 Army Tactical Missile Systems" needs five; three lower-case
#: words cover "five advanced S-400 Triumf surface-to-air missile systems".
_MAX_GAP = 6
_MAX_LOWER_GAP = 3
#: A count that looks like a year is a year ("in 2019 jets ..."), not 2019 things.
_YEARS = range(1900, 2100)


@dataclass(frozen=True, slots=True)
class Found(Generic[T]):
    """A phrase found in a text: where it is, and the value it states."""

    span: Span
    value: T


# --------------------------------------------------------------------------- grammar


def _key(phrase: str) -> str:
    """The lookup key of a phrase: case-folded, without white space ("US $" is "us$")."""
    return "".join(phrase.split()).casefold()


def _phrase(phrase: str) -> str:
    """A regex for a phrase whose words may be separated by any horizontal white space."""
    return f"{_SP}+".join(re.escape(word) for word in phrase.split())


def _alternation(phrases: Iterable[str]) -> str:
    """A non-capturing alternation of phrases, longest first so that the longest wins."""
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    if not ordered:
        return "(?!)"
    return "(?:" + "|".join(_phrase(p) for p in ordered) + ")"


def _cased(names: Iterable[str]) -> str:
    """Names matched as Title Case or UPPER CASE only, case-sensitively."""
    forms = {form for name in names for form in (name, name.upper())}
    return "(?-i:" + _alternation(forms) + ")"


class _Data:
    """Typed access to units.yaml; a malformed file raises ``CatalogError``."""

    def __init__(self, raw: Any, source: str) -> None:
        if not isinstance(raw, dict):
            raise CatalogError(f"{source}: expected a mapping of sections, got {type(raw)}")
        self.raw: dict[str, Any] = raw
        self.source = source

    def _fail(self, where: str, expected: str) -> CatalogError:
        return CatalogError(f"{self.source}: {where} must be {expected}")

    def section(self, name: str) -> Any:
        if name not in self.raw:
            raise CatalogError(f"{self.source}: section {name!r} is missing")
        return self.raw[name]

    def strings(self, value: Any, where: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(where, "a list of non-empty strings (quote yes/no/on/off)")
        return list(value)

    def string_list(self, name: str) -> list[str]:
        return self.strings(self.section(name), name)

    def numbers(self, name: str) -> dict[str, Decimal]:
        value = self.section(name)
        if not isinstance(value, dict):
            raise self._fail(name, "a mapping of phrase to number")
        out: dict[str, Decimal] = {}
        for phrase, number in value.items():
            if not isinstance(phrase, str) or isinstance(number, bool):
                raise self._fail(f"{name}.{phrase}", "a phrase mapped to a number")
            if not isinstance(number, int | float):
                raise self._fail(f"{name}.{phrase}", "a number")
            out[phrase] = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
        return out

    def integers(self, name: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for phrase, number in self.numbers(name).items():
            if number != number.to_integral_value():
                raise self._fail(f"{name}.{phrase}", "a whole number")
            out[phrase] = int(number)
        return out


@dataclass(frozen=True, slots=True)
class _Grammar:
    """Everything the parsers need, compiled once from units.yaml."""

    money_re: re.Pattern[str]
    currency_of: dict[str, str]
    needs_magnitude: frozenset[str]
    magnitude_of: dict[str, Decimal]
    number_of: dict[str, int]
    scale_of: dict[str, int]
    article_of: dict[str, int]
    pair_of: dict[str, int]
    count_re: re.Pattern[str]
    partitive_re: re.Pattern[str]
    unit_re: re.Pattern[str]
    unit_of: dict[str, str]
    plural_of: dict[str, str]
    no_article_units: frozenset[str]
    stopwords: frozenset[str]
    designators: frozenset[str]
    quantity_lead_re: re.Pattern[str]
    month_of: dict[str, int]
    month_names: frozenset[str]
    weekday_of: dict[str, int]
    relative_of: dict[str, int]
    date_re: re.Pattern[str]
    month_only_re: re.Pattern[str]
    date_lead_re: re.Pattern[str]


def _money_pattern(
    prefixes: list[str], suffixes: list[str], codes: list[str], data: _Data
) -> tuple[str, dict[str, Decimal]]:
    magnitudes = data.numbers("magnitudes")
    attached = data.numbers("attached_magnitudes")
    magnitude_of = {_key(k): v for k, v in {**magnitudes, **attached}.items()}
    approx = _alternation(data.string_list("approximations"))
    words = {**data.integers("number_words"), **data.integers("number_scales")}
    code_alt = "(?-i:" + _alternation(codes) + ")"
    prefix = f"(?:{_alternation(prefixes)}|{code_alt})"
    suffix = f"(?:{_alternation(suffixes)}|{code_alt})"
    mag_words = _alternation(magnitudes)
    number_words = _number_words_pattern(words)

    def magnitude(tag: str) -> str:
        return (
            f"(?:(?:{_SP}|-)?(?P<{tag}_mag>{mag_words}(?:{_SP}+{mag_words})?)"
            f"|(?P<{tag}_att>{_alternation(attached)}))(?!\\w)"
        )

    def range_to(tag: str) -> str:
        return (
            f"(?:(?:{_SP}?[-–—]{_SP}?|{_SP}+to{_SP}+)(?:{prefix}{_SP}?)?(?P<{tag}_hi>{_NUMBER}))?"
        )

    pattern = (
        r"(?<!\w)"
        f"(?:(?P<approx>{approx}){_SP}+)?"
        "(?:"
        f"(?P<p_cur>{prefix}){_SP}?(?P<p_num>{_NUMBER}){range_to('p')}(?:{magnitude('p')})?"
        "|"
        f"(?<![\\w.,])(?P<s_num>{_NUMBER}){range_to('s')}(?:{magnitude('s')})?"
        f"(?:{_SP}|-)?(?P<s_cur>{suffix})"
        "|"
        f"(?P<w_num>{number_words}|an?){_SP}+(?P<w_mag>{mag_words}(?:{_SP}+{mag_words})?)"
        f"(?:{_SP}|-)(?P<w_cur>{suffix})"
        ")"
        r"(?!\w)"
    )
    return pattern, magnitude_of


def _number_words_pattern(words: Mapping[str, int]) -> str:
    """Number words joined as news writes them: "eighty-two", "four hundred and twenty"."""
    word = f"(?:{_alternation(words)})(?!\\w)"
    return f"{word}(?:(?:-|{_SP}+(?:and{_SP}+)?){word})*(?!-\\w)"


def _build(data: _Data) -> _Grammar:
    # money
    currencies = data.section("currencies")
    if not isinstance(currencies, list):
        raise CatalogError(f"{data.source}: currencies must be a list of mappings")
    currency_of: dict[str, str] = {}
    needs_magnitude: set[str] = set()
    prefixes: list[str] = []
    suffixes: list[str] = []
    codes: list[str] = []
    for row in currencies:
        if not isinstance(row, dict) or not isinstance(row.get("code"), str):
            raise CatalogError(f"{data.source}: each currency needs a code: {row!r}")
        code = row["code"]
        row_prefix = data.strings(row.get("prefix"), f"currencies.{code}.prefix")
        row_suffix = data.strings(row.get("suffix"), f"currencies.{code}.suffix")
        row_codes = data.strings(row.get("codes"), f"currencies.{code}.codes")
        needs = data.strings(row.get("needs_magnitude"), f"currencies.{code}.needs_magnitude")
        for form in [*row_prefix, *row_suffix, *row_codes]:
            other = currency_of.setdefault(_key(form), code)
            if other != code:
                raise CatalogError(f"{data.source}: {form!r} is both {other} and {code}")
        prefixes += row_prefix
        suffixes += row_suffix
        codes += row_codes
        needs_magnitude.update(_key(n) for n in needs)
    money_pattern, magnitude_of = _money_pattern(prefixes, suffixes, codes, data)

    # counts and unit nouns
    number_of = {_key(k): v for k, v in data.integers("number_words").items()}
    scale_of = {_key(k): v for k, v in data.integers("number_scales").items()}
    articles = data.integers("article_counts")
    pairs = data.integers("pair_counts")
    units = data.section("units")
    if not isinstance(units, dict):
        raise CatalogError(f"{data.source}: units must map a unit to its plural and forms")
    unit_of: dict[str, str] = {}
    plural_of: dict[str, str] = {}
    no_article: set[str] = set()
    for unit, spec in units.items():
        if not isinstance(unit, str) or not isinstance(spec, dict):
            raise CatalogError(f"{data.source}: units.{unit} must be a mapping")
        plural = spec.get("plural")
        if not isinstance(plural, str):
            raise CatalogError(f"{data.source}: units.{unit}.plural must be a string")
        plural_of[unit] = plural
        if spec.get("article", True) is False:
            no_article.add(unit)
        for form in data.strings(spec.get("forms"), f"units.{unit}.forms"):
            other = unit_of.setdefault(_key(form), unit)
            if other != unit:
                raise CatalogError(f"{data.source}: {form!r} is both {other} and {unit}")
    all_number_words = {**data.integers("number_words"), **data.integers("number_scales")}
    count_pattern = (
        _NOT_BEFORE_NUMBER + "(?:"
        f"(?P<pair>{_alternation(pairs)})"
        f"|(?P<article>{_alternation(articles)})"
        f"(?:{_SP}+(?P<article_scale>{_alternation(data.integers('number_scales'))}))?"
        f"|(?P<words>{_number_words_pattern(all_number_words)})"
        f"(?:{_SP}*\\({_SP}*(?P<paren>[0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]{{1,7}}){_SP}*\\))?"
        f"|(?P<digits>[0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]{{1,7}})"
        f"(?:{_SP}+(?P<digits_scale>dozen))?"
        f")(?={_SP})"
    )
    unit_pattern = f"{_alternation(f for u in units for f in units[u]['forms'])}(?![\\w\\-])"
    partitive_pattern = f"{_SP}+{_alternation(data.string_list('partitives'))}(?={_SP})"
    lead_pattern = (
        f"(?:(?:{_alternation(data.string_list('approximations'))}"
        f"|{_alternation(data.string_list('quantity_leads'))}){_SP}+)*"
    )

    # dates
    months = data.integers("months")
    weekdays = data.integers("weekdays")
    relatives = data.integers("relative_words")
    month_of = {_key(k): v for k, v in months.items()}
    weekday_of = {_key(k): v for k, v in weekdays.items()}
    relative_of = {_key(k): v for k, v in relatives.items()}
    abbreviations = [
        name
        for name in months
        if any(len(other) > len(name) and other.startswith(name) for other in months)
    ]
    full_names = [name for name in months if name not in abbreviations]
    month = f"(?:{_cased(full_names)}(?!\\w)|{_cased(abbreviations)}(?!\\w)\\.?)"
    weekday = _cased(weekdays) + r"(?!\w)"
    relative = "(?i:" + _alternation(relatives) + ")"
    preps = data.string_list("date_prepositions")

    def day(tag: str) -> str:
        return f"(?P<{tag}>[0-3]?[0-9])(?:st|nd|rd|th)?(?!\\w)"

    def year(tag: str) -> str:
        return f"(?P<{tag}>(?:1[89]|20)[0-9]{{2}})(?!\\w|[,.\\-/][0-9])"

    weekday_prefix = f"(?:{weekday},?{_SP}+)?"
    ago_number = _alternation([*data.integers("number_words"), "a", "an"])
    date_pattern = (
        "(?:"
        r"(?<![\w.\-/])(?P<iso_y>[12][0-9]{3})-(?P<iso_m>[01][0-9])-(?P<iso_d>[0-3][0-9])(?![\w\-])"
        f"|{weekday_prefix}(?P<mdy_m>{month}){_SP}*{day('mdy_d')}(?:,{_SP}*|{_SP}+){year('mdy_y')}"
        f"|{weekday_prefix}(?<![\\w.,])"
        f"{day('dmy_d')}{_SP}+(?:of{_SP}+)?(?P<dmy_m>{month})(?:,?{_SP}+{year('dmy_y')})?"
        f"|(?P<my_m>{month})(?:,|{_SP}+of)?{_SP}+{year('my_y')}"
        f"|{weekday_prefix}(?P<md_m>{month}){_SP}*{day('md_d')}(?!{_SP}*[,:.]?{_SP}*[0-9])"
        f"|(?P<mo_prep>(?i:in|by|since|until|till|from|before|after|during|early|late|mid))"
        f"(?:{_SP}+|-)(?P<mo_m>{month})(?!\\.?{_SP}*,?{_SP}*[0-9])"
        f"|(?P<rel>{relative}){_SP}+(?P<rel_unit>(?i:year|month|week))(?!\\w)"
        f"|(?P<rel_wd_word>{relative}){_SP}+(?P<rel_wd>{weekday})"
        f"|(?<!\\w)(?P<ago_n>(?i:{ago_number})|[0-9]{{1,2}}){_SP}+"
        f"(?P<ago_unit>(?i:years?|months?|weeks?|days?)){_SP}+(?i:ago)(?!\\w)"
        r"|(?<!\w)(?P<day_word>(?i:yesterday|today|tomorrow))(?!\w)"
        f"|(?P<wd>{weekday})"
        f"|(?:(?<=[Mm]id-)|{_NOT_BEFORE_NUMBER}){year('year')}(?!{_SP}*%)"
        ")"
    )
    return _Grammar(
        money_re=re.compile(money_pattern, re.IGNORECASE),
        currency_of=currency_of,
        needs_magnitude=frozenset(needs_magnitude),
        magnitude_of=magnitude_of,
        number_of=number_of,
        scale_of=scale_of,
        article_of={_key(k): v for k, v in articles.items()},
        pair_of={_key(k): v for k, v in pairs.items()},
        count_re=re.compile(count_pattern, re.IGNORECASE),
        partitive_re=re.compile(partitive_pattern, re.IGNORECASE),
        unit_re=re.compile(unit_pattern, re.IGNORECASE),
        unit_of=unit_of,
        plural_of=plural_of,
        no_article_units=frozenset(no_article),
        stopwords=frozenset(_key(w) for w in data.string_list("gap_stopwords")),
        designators=frozenset(_key(w) for w in data.string_list("designator_words")),
        quantity_lead_re=re.compile(lead_pattern, re.IGNORECASE),
        month_of=month_of,
        month_names=frozenset(n for name in months for n in (name, name.upper())),
        weekday_of=weekday_of,
        relative_of=relative_of,
        date_re=re.compile(date_pattern),
        month_only_re=re.compile(f"(?P<m>{month})"),
        date_lead_re=re.compile(f"(?:{_alternation(preps)}(?:{_SP}+|(?<=-)))+", re.IGNORECASE),
    )


@cache
def _grammar() -> _Grammar:
    source = "armsledger/data/units.yaml"
    try:
        text = resources.files("armsledger").joinpath("data/units.yaml").read_text("utf-8")
        raw = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{source}: cannot be read: {exc}") from exc
    return _build(_Data(raw, source))


# --------------------------------------------------------------------------- money


def _decimal(number: str) -> Decimal:
    return Decimal(number.replace(",", ""))


def _money_value(g: _Grammar, m: re.Match[str]) -> Value | str:
    """The value of a money match, or why the match is not money."""
    for tag in ("p", "s", "w"):
        if m.group(f"{tag}_cur") is not None:
            break
    currency = g.currency_of.get(_key(m.group(f"{tag}_cur")))
    if currency is None:
        return f"unknown currency {m.group(f'{tag}_cur')!r}"
    mag_text: str | None = m.group(f"{tag}_mag")
    if mag_text is None and tag != "w":
        mag_text = m.group(f"{tag}_att")
    factor = Decimal(1)
    if mag_text is not None:
        for word in mag_text.split():
            part = g.magnitude_of.get(_key(word))
            if part is None:
                return f"unknown magnitude {word!r}"
            factor *= part
    approximate = m.group("approx") is not None
    if tag == "w":
        words = m.group("w_num")
        number = 1 if _key(words) in ("a", "an") else _words_value(g, words)
        if number is None:
            return f"unknown number {words!r}"
        amount = Decimal(number)
    else:
        raw = m.group(f"{tag}_hi") or m.group(f"{tag}_num")
        approximate = approximate or m.group(f"{tag}_hi") is not None
        try:
            amount = _decimal(raw)
        except InvalidOperation:  # pragma: no cover - the regex admits only numbers
            return f"not a number: {raw!r}"
        if mag_text is None and tag == "s":
            if _key(m.group("s_cur")) in g.needs_magnitude:
                return f"{m.group('s_cur')!r} needs a magnitude to be money"
            if "," not in raw and "." not in raw and int(raw) in _YEARS:
                return f"{raw} {m.group('s_cur')} reads as a price base year"
    return Value(float(amount * factor), currency, approximate)


def _money_matches(text: str) -> list[tuple[re.Match[str], Value]]:
    g = _grammar()
    found: list[tuple[re.Match[str], Value]] = []
    for m in g.money_re.finditer(text):
        value = _money_value(g, m)
        if isinstance(value, Value):
            found.append((m, value))
    return found


def parse_money(text: str) -> Value:
    """The amount of money a phrase states, in its own currency.

    Args:
        text: one money phrase, e.g. ``"about $1 billion"``, ``"Rs 5,000 crore"``,
            ``"nearly 8 billion euros"``, ``"€7.87bn"``; white space around it and a
            final full stop are ignored.

    Returns:
        The amount as stated (not converted), its ISO 4217 currency, and whether the
        text gives it as approximate ("about", "more than", "up to", a range).

    Raises:
        ParseError: the text is not one amount of money with a currency.
    """
    g = _grammar()
    phrase = text.strip().rstrip(".,;:").strip()
    m = g.money_re.fullmatch(phrase)
    if m is None:
        raise ParseError(
            f"not an amount of money: {text!r}; expected a number with a currency, "
            "such as '$1.2 billion', 'EUR 300 million' or '5,000 crore rupees'"
        )
    value = _money_value(g, m)
    if isinstance(value, str):
        raise ParseError(f"not an amount of money: {text!r}: {value}")
    return value


def find_money(text: str) -> list[Found[Value]]:
    """Every amount of money in a text, with its exact span, in order.

    An approximation cue right before the amount belongs to the span
    ("nearly $110 billion").
    """
    return [Found(Span.of(text, m.start(), m.end()), value) for m, value in _money_matches(text)]


# --------------------------------------------------------------------------- quantities


def _words_value(g: _Grammar, words: str) -> int | None:
    """The number that number words state: "eighty-two" is 82, "two dozen" is 24."""
    total = 0
    current = 0
    seen = False
    for word in re.split(r"[\s\-]+", words):
        key = _key(word)
        if not key or key == "and":
            continue
        if key in g.number_of:
            current += g.number_of[key]
        elif key in g.scale_of:
            scale = g.scale_of[key]
            if scale >= 1000:
                total += max(current, 1) * scale
                current = 0
            else:
                current = max(current, 1) * scale
        else:
            return None
        seen = True
    return total + current if seen else None


def _count_value(g: _Grammar, m: re.Match[str]) -> int | None:
    if m.group("pair") is not None:
        return g.pair_of.get(_key(m.group("pair")))
    if m.group("article") is not None:
        count = g.article_of.get(_key(m.group("article")))
        scale = m.group("article_scale")
        if count is not None and scale is not None:
            return g.scale_of.get(_key(scale))
        return count
    if m.group("words") is not None:
        if m.group("paren") is not None:
            return int(m.group("paren").replace(",", ""))
        return _words_value(g, m.group("words"))
    digits = m.group("digits")
    count = int(digits.replace(",", ""))
    if m.group("digits_scale") is not None:
        count *= 12
    return count


_PREVIOUS_WORD_RE = re.compile(f"([\\w.]+){_SP}+$")
_TOKEN_RE = re.compile(r"[^\W_][\w\-/'’.&+]*")
_WS_RE = re.compile(f"{_SP}+")
_NUMERIC_RE = re.compile(r"[0-9][0-9,.]*")


def _is_name_number(g: _Grammar, text: str, start: int) -> bool:
    """Whether the number at ``start`` is part of a name or a date ("Block 70", "July 12")."""
    before = _PREVIOUS_WORD_RE.search(text, max(0, start - 24), start)
    if before is None:
        return False
    word = _key(before.group(1))
    return (
        word in g.designators
        or word.rstrip(".") in g.designators
        or before.group(1).rstrip(".") in g.month_names
    )


def _quantity_at(g: _Grammar, text: str, m: re.Match[str]) -> tuple[int, Quantity] | None:
    """The quantity whose count is ``m``, as (end offset, quantity), or ``None``."""
    count = _count_value(g, m)
    if count is None:
        return None
    digits = m.group("digits")
    if digits is not None:
        if "," not in digits and count in _YEARS and m.group("digits_scale") is None:
            return None
        if _is_name_number(g, text, m.start()):
            return None
    is_article = m.group("article") is not None and m.group("article_scale") is None
    pos = m.end()
    # "six of the aircraft" is six aircraft; "one of the best fighters" is no count at all
    if m.group("pair") is None and not is_article and count != 1:
        partitive = g.partitive_re.match(text, pos)
        if partitive is not None:
            pos = partitive.end()
    best: tuple[int, str] | None = None
    words = lower = 0
    while words < _MAX_GAP:
        space = _WS_RE.match(text, pos)
        if space is None:
            break
        at = space.end()
        unit = g.unit_re.match(text, at)
        if unit is not None:
            name = g.unit_of.get(_key(unit.group()))
            if name is None:
                break
            best = (unit.end(), name)
            pos = unit.end()
            words += 1
            lower += unit.group()[0].islower()
            continue
        token = _TOKEN_RE.match(text, at)
        if token is None:
            break
        word = token.group()
        key = _key(word)
        if (
            key in g.stopwords
            or key in g.number_of
            or key in g.scale_of
            or _NUMERIC_RE.fullmatch(word)
            or word.rstrip(".") in g.month_names
            or (word.endswith(".") and "." not in word[:-1])
        ):
            break
        words += 1
        lower += word[0].islower()
        if lower > _MAX_LOWER_GAP:
            break
        pos = token.end()
    if best is None:
        return None
    end, name = best
    if is_article and name in g.no_article_units:
        return None
    return end, Quantity(count, name if count == 1 else g.plural_of[name])


def _quantity_matches(text: str) -> list[Found[Quantity]]:
    g = _grammar()
    money = [(m.start(), m.end()) for m, _ in _money_matches(text)]
    found: list[Found[Quantity]] = []
    last_end = 0
    for m in g.count_re.finditer(text):
        if m.start() < last_end:
            continue
        if any(start < m.end() and m.start() < end for start, end in money):
            continue
        quantity = _quantity_at(g, text, m)
        if quantity is None:
            continue
        end, value = quantity
        found.append(Found(Span.of(text, m.start(), end), value))
        last_end = end
    return found


_QUANTITY_REST_RE = re.compile(
    f"{_SP}*(?:\\([^()]*\\))?{_SP}*[.,;:!?]?{_SP}*|{_SP}+of{_SP}+\\S.*", re.DOTALL
)


def parse_quantity(text: str) -> Quantity:
    """The count and unit a quantity phrase states.

    Args:
        text: one quantity phrase, e.g. ``"36 jets"``, ``"a second regimental set"``,
            ``"24 Bayraktar TB2 drones"``, ``"eighty-two (82) M142 ... Systems"``. It may
            start with a cue ("about", "a total of") and end with an "of ..." complement
            or a parenthesis ("a regimental set of S-400").

    Returns:
        The count and the unit noun, normalised by units.yaml and agreeing with the count
        (``"36 jets"`` is 36 aircraft, ``"a regimental set"`` is 1 regimental set).

    Raises:
        ParseError: the text is not a count followed by a unit noun.
    """
    g = _grammar()
    phrase = text.strip()
    lead = g.quantity_lead_re.match(phrase)
    start = lead.end() if lead is not None else 0
    m = g.count_re.match(phrase, start)
    quantity = _quantity_at(g, phrase, m) if m is not None else None
    if quantity is None or not _QUANTITY_REST_RE.fullmatch(phrase, quantity[0]):
        raise ParseError(
            f"not a quantity: {text!r}; expected a count and a unit noun, "
            "such as '36 jets', 'two squadrons' or 'a regimental set'"
        )
    return quantity[1]


def unit_for_count(unit: str, count: int) -> str:
    """``unit`` (singular or plural, as units.yaml names it) in the number ``count`` takes:
    ``unit_for_count("frigates", 1)`` is ``"frigate"``. A unit units.yaml does not know is
    returned as given."""
    g = _grammar()
    singular = next((s for s, p in g.plural_of.items() if unit in (s, p)), None)
    if singular is None:
        return unit
    return singular if count == 1 else g.plural_of[singular]


def find_quantities(text: str) -> list[Found[Quantity]]:
    """Every count of things in a text, from the count to its unit noun, in order.

    Years, percentages, amounts of money, dates, numbers in names ("Su-35", "Block 70")
    and numbers without a unit noun are not quantities.
    """
    return _quantity_matches(text)


# --------------------------------------------------------------------------- dates


def _as_date(day: dt.date) -> dt.date:
    """A plain date, also when given a datetime."""
    return dt.date(day.year, day.month, day.day)


def _month_start(year: int, month: int) -> dt.date:
    year += (month - 1) // 12
    return dt.date(year, (month - 1) % 12 + 1, 1)


def _date_value(g: _Grammar, m: re.Match[str], reference: dt.date | None) -> dt.date | None:
    """The date a match names, or ``None`` (invalid, or relative with no reference)."""
    group = m.group
    try:
        if group("iso_y") is not None:
            return dt.date(int(group("iso_y")), int(group("iso_m")), int(group("iso_d")))
        if group("mdy_m") is not None:
            month = g.month_of[_key(group("mdy_m").rstrip("."))]
            return dt.date(int(group("mdy_y")), month, int(group("mdy_d")))
        if group("dmy_m") is not None:
            month = g.month_of[_key(group("dmy_m").rstrip("."))]
            if group("dmy_y") is not None:
                return dt.date(int(group("dmy_y")), month, int(group("dmy_d")))
            return (
                None if reference is None else dt.date(reference.year, month, int(group("dmy_d")))
            )
        if group("my_m") is not None:
            return dt.date(int(group("my_y")), g.month_of[_key(group("my_m").rstrip("."))], 1)
        if group("year") is not None:
            return dt.date(int(group("year")), 1, 1)
        if reference is None:
            return None
        ref = _as_date(reference)
        if group("md_m") is not None:
            month = g.month_of[_key(group("md_m").rstrip("."))]
            return dt.date(ref.year, month, int(group("md_d")))
        if group("mo_m") is not None:
            return dt.date(ref.year, g.month_of[_key(group("mo_m").rstrip("."))], 1)
        if group("rel") is not None:
            step = g.relative_of[_key(group("rel"))]
            unit = group("rel_unit").casefold()
            if unit == "year":
                return dt.date(ref.year + step, 1, 1)
            if unit == "month":
                return _month_start(ref.year, ref.month + step)
            return ref + dt.timedelta(weeks=step)
        if group("rel_wd") is not None:
            step = g.relative_of[_key(group("rel_wd_word"))]
            weekday = g.weekday_of[_key(group("rel_wd"))]
            if step < 0:
                return ref - dt.timedelta(days=(ref.weekday() - weekday) % 7 or 7)
            if step > 0:
                return ref + dt.timedelta(days=(weekday - ref.weekday()) % 7 or 7)
            return ref + dt.timedelta(days=(weekday - ref.weekday()) % 7)
        if group("ago_unit") is not None:
            n_text = group("ago_n")
            n = int(n_text) if n_text.isascii() and n_text.isdigit() else None
            if n is None:
                n = g.number_of.get(_key(n_text), 1 if _key(n_text) in ("a", "an") else None)
            if n is None:
                return None
            unit = group("ago_unit").casefold().rstrip("s")
            if unit == "year":
                return dt.date(ref.year - n, 1, 1)
            if unit == "month":
                return _month_start(ref.year, ref.month - n)
            return ref - dt.timedelta(days=n * (7 if unit == "week" else 1))
        if group("day_word") is not None:
            step = {"yesterday": -1, "today": 0, "tomorrow": 1}[group("day_word").casefold()]
            return ref + dt.timedelta(days=step)
        if group("wd") is not None:
            weekday = g.weekday_of[_key(group("wd"))]
            return ref - dt.timedelta(days=(ref.weekday() - weekday) % 7)
    except (ValueError, OverflowError, KeyError):
        return None
    return None  # pragma: no cover - every alternative is handled above


def _has_year(m: re.Match[str]) -> bool:
    """Whether a date match carries its own year (needs no reference)."""
    return any(m.group(name) is not None for name in ("iso_y", "mdy_y", "dmy_y", "my_y", "year"))


def _date_span(m: re.Match[str]) -> tuple[int, int]:
    """A date's span: the month alone in "in July", the whole match otherwise."""
    if m.group("mo_m") is not None:
        return m.span("mo_m")
    return m.span()


def parse_date(text: str, *, reference: dt.date | None = None) -> dt.date:
    """The date a phrase names: its first day where the phrase names a month or a year.

    Args:
        text: one date phrase, e.g. ``"December 2019"``, ``"Dec. 25, 2016"``,
            ``"2019-07-12"``, ``"12 July 2019"``, ``"in 2020"``, ``"last year"``.
        reference: the date the text was written (the article's date); needed for
            phrases without a year ("July 12", "in July", "last year", "on Monday").

    Raises:
        ParseError: the text is not one date, or it needs a reference and has none.
    """
    g = _grammar()
    phrase = text.strip().rstrip(",;:").strip()
    lead = g.date_lead_re.match(phrase)
    if lead is not None and lead.end() < len(phrase):
        phrase = phrase[lead.end() :]
    if phrase.endswith(".") and phrase[:-1].rstrip(".") not in g.month_of:
        phrase = phrase.rstrip(".")
    m = g.date_re.fullmatch(phrase)
    if m is None:
        month = g.month_only_re.fullmatch(phrase)
        if month is not None and reference is not None:
            key = _key(month.group("m").rstrip("."))
            if key in g.month_of:
                return dt.date(reference.year, g.month_of[key], 1)
        need = " (a month without a year needs a reference date)" if month is not None else ""
        raise ParseError(
            f"not a date: {text!r}{need}; expected e.g. 'December 2019', 'Dec. 25, 2016', "
            "'2019-07-12', '12 July 2019', '2020' or, with a reference date, 'July 12' "
            "or 'last year'"
        )
    value = _date_value(g, m, reference)
    if value is None:
        if reference is None and not _has_year(m):
            raise ParseError(f"not a date without a reference date: {text!r}")
        raise ParseError(f"not a valid date: {text!r}")
    return value


def find_dates(text: str, *, reference: dt.date | None = None) -> list[Found[dt.date]]:
    """Every date in a text, with its exact span, in order.

    Without ``reference`` only dates that carry their year are found.
    """
    g = _grammar()
    found: list[Found[dt.date]] = []
    for m in g.date_re.finditer(text):
        value = _date_value(g, m, reference)
        if value is not None:
            start, end = _date_span(m)
            found.append(Found(Span.of(text, start, end), value))
    return found


def parse_count(text: str) -> int:
    """A count written in digits or words: "36", "1,200", "eighty-two", "two dozen".

    Raises:
        ParseError: ``text`` is not a count.
    """
    stripped = text.strip()
    if re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})*|[0-9]+", stripped):
        return int(stripped.replace(",", ""))
    value = _words_value(_grammar(), stripped) if stripped else None
    if value is None:
        raise ParseError(f"not a count: {text!r} (expected digits or number words, e.g. 'twelve')")
    return value
