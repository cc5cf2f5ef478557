"""Tests for armsledger.parse: money, quantities and dates, parsed and found.

The phrases below are written for the tests in the style of defence news; none is copied
from an article.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from armsledger.errors import ParseError
from armsledger.model import Quantity, Value
from armsledger.parse import (
    Found,
    find_dates,
    find_money,
    find_quantities,
    parse_date,
    parse_money,
    parse_quantity,
    unit_for_count,
)

REF = dt.date(2019, 7, 20)  # a Saturday

# --------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("about $1 billion", Value(1e9, "USD", True)),
        ("EUR 7.87 billion", Value(7.87e9, "EUR", False)),
        ("€7.87bn", Value(7.87e9, "EUR", False)),
        ("€7.87 bn", Value(7.87e9, "EUR", False)),
        ("Rs 5,000 crore", Value(5e10, "INR", False)),
        ("Rs. 5,000 crore", Value(5e10, "INR", False)),
        ("Rs5,000 crore", Value(5e10, "INR", False)),
        ("₹500 crore", Value(5e9, "INR", False)),
        ("INR 1.5 lakh crore", Value(1.5e12, "INR", False)),
        ("$2.5bn", Value(2.5e9, "USD", False)),
        ("$1bn", Value(1e9, "USD", False)),
        ("$110b", Value(1.1e11, "USD", False)),
        ("$624.601M", Value(624.601e6, "USD", False)),
        ("$500m", Value(5e8, "USD", False)),
        ("1.5 billion dollars", Value(1.5e9, "USD", False)),
        ("5 billion dollar", Value(5e9, "USD", False)),
        ("a 5 billion-dollar", None),
        ("US$620 million", Value(6.2e8, "USD", False)),
        ("US $8.85 billion", Value(8.85e9, "USD", False)),
        ("USD2 billion", Value(2e9, "USD", False)),
        ("USD 300 million", Value(3e8, "USD", False)),
        ("5.6 billion U.S. dollars", Value(5.6e9, "USD", False)),
        ("nearly 8 billion euros", Value(8e9, "EUR", True)),
        ("5.2 billion euro", Value(5.2e9, "EUR", False)),
        ("59,000 crore rupees", Value(5.9e11, "INR", False)),
        ("$110 billion", Value(1.1e11, "USD", False)),
        ("$1.25 Billion", Value(1.25e9, "USD", False)),
        ("£1.2bn", Value(1.2e9, "GBP", False)),
        ("$ 500 million", Value(5e8, "USD", False)),
        ("$5-billion", Value(5e9, "USD", False)),
        ("1.2 trillion won", Value(1.2e12, "KRW", False)),
        ("3 billion yuan", Value(3e9, "CNY", False)),
        ("RMB 3 billion", Value(3e9, "CNY", False)),
        ("50 billion roubles", Value(5e10, "RUB", False)),
        ("50 billion rubles", Value(5e10, "RUB", False)),
        ("100 billion yen", Value(1e11, "JPY", False)),
        ("2 billion lira", Value(2e9, "TRY", False)),
        ("10 billion riyals", Value(1e10, "SAR", False)),
        ("A$3.5 billion", Value(3.5e9, "AUD", False)),
        ("two billion euros", Value(2e9, "EUR", False)),
        ("a billion dollars", Value(1e9, "USD", False)),
        ("$1,000", Value(1000.0, "USD", False)),
        ("more than US$2 billion", Value(2e9, "USD", True)),
        ("up to $350 billion", Value(3.5e11, "USD", True)),
        ("some $2.7 billion", Value(2.7e9, "USD", True)),
        ("approximately $4.6 billion", Value(4.6e9, "USD", True)),
        ("an estimated cost of $4.05 billion", Value(4.05e9, "USD", True)),
        ("estimated to be worth USD 300 million", Value(3e8, "USD", True)),
        ("in excess of $1 billion", Value(1e9, "USD", True)),
        ("$1.5-2 billion", Value(2e9, "USD", True)),
        ("  $4.6 billion. ", Value(4.6e9, "USD", False)),
    ],
)
def test_parse_money_table(text: str, expected: Value | None) -> None:
    if expected is None:
        with pytest.raises(ParseError):
            parse_money(text)
    else:
        assert parse_money(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "billion",
        "36 jets",
        "$",
        "2019",
        "500 pounds",  # a bomb's weight as often as a price
        "5,000 won",  # "won" without a magnitude is a verb as often as a currency
        "2019 dollars",  # a price base year
        "a multibillion-dollar deal",
        "$5 billion and $6 billion",
        "S-400",
    ],
)
def test_parse_money_rejects(text: str) -> None:
    with pytest.raises(ParseError, match="money"):
        parse_money(text)


def test_parse_money_error_names_the_text() -> None:
    with pytest.raises(ParseError, match="'forty camels'"):
        parse_money("forty camels")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Greece signed a EUR 2.3 billion ($2.8 billion) deal for the jets.",
            [("EUR 2.3 billion", Value(2.3e9, "EUR")), ("$2.8 billion", Value(2.8e9, "USD"))],
        ),
        (
            "The deal is worth nearly $110 billion, officials said.",
            [("nearly $110 billion", Value(1.1e11, "USD", True))],
        ),
        (
            "It concluded a 5 billion dollar missile deal on Friday.",
            [("5 billion dollar", Value(5e9, "USD"))],
        ),
        (
            "The order for 36 jets costs Rs 59,000 crore, or about €7.87bn.",
            [
                ("Rs 59,000 crore", Value(5.9e11, "INR")),
                ("about €7.87bn", Value(7.87e9, "EUR", True)),
            ],
        ),
        ("In 2019 dollars the price was lower.", []),
        ("The 500 pounds bomb and a multibillion-dollar deal.", []),
        ("Seoul won 2 contracts in 2019.", []),
        ("Turkey bought the S-400 in 2017 for 36 jets.", []),
    ],
)
def test_parse_find_money(text: str, expected: list[tuple[str, Value]]) -> None:
    found = find_money(text)
    assert [(f.span.text, f.value) for f in found] == expected
    for f in found:
        assert text[f.span.start : f.span.end] == f.span.text


# --------------------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("36 jets", Quantity(36, "aircraft")),
        ("36 Rafale fighter jets", Quantity(36, "aircraft")),
        ("18 Rafale fighter jets", Quantity(18, "aircraft")),
        ("36 Rafale fighter-bombers", Quantity(36, "aircraft")),
        ("24 Rafale warplanes", Quantity(24, "aircraft")),
        ("32 F-35A Joint Strike Fighters", Quantity(32, "aircraft")),
        ("a second regimental set", Quantity(1, "regimental set")),
        ("a second regimental set of S-400", Quantity(1, "regimental set")),
        ("two regimental sets", Quantity(2, "regimental sets")),
        ("two squadrons", Quantity(2, "squadrons")),
        ("a squadron", Quantity(1, "squadron")),
        ("24 Bayraktar TB2 drones", Quantity(24, "drones")),
        ("one drone", Quantity(1, "drone")),
        ("four S-400 batteries", Quantity(4, "batteries")),
        ("five advanced S-400 surface-to-air missile systems", Quantity(5, "systems")),
        ("two dozen Bayraktar TB2 drones", Quantity(24, "drones")),
        ("a dozen helicopters", Quantity(12, "helicopters")),
        ("a pair of frigates", Quantity(2, "frigates")),
        ("an advanced submarine", Quantity(1, "submarine")),
        ("A French Rafale fighter jet", Quantity(1, "aircraft")),
        ("two French Mistral warships", Quantity(2, "ships")),
        ("two aircraft carriers", Quantity(2, "aircraft carriers")),
        ("1,648 missiles", Quantity(1648, "missiles")),
        ("1 submarine", Quantity(1, "submarine")),
        ("54 high-mobility artillery-rocket-system launchers", Quantity(54, "launchers")),
        (
            "eighty-two (82) M142 High Mobility Artillery Rocket Systems (HIMARS)",
            Quantity(82, "systems"),
        ),
        ("four hundred twenty (420) M57 missiles", Quantity(420, "missiles")),
        ("two hundred and fifty tanks", Quantity(250, "tanks")),
        ("Six of the second-hand aircraft", Quantity(6, "aircraft")),
        ("more than two dozen aircraft", Quantity(24, "aircraft")),
        ("a total of 42 planes", Quantity(42, "aircraft")),
        ("about 90 tanks.", Quantity(90, "tanks")),
        ("three UAVs", Quantity(3, "drones")),
        ("270 aircrafts", Quantity(270, "aircraft")),
    ],
)
def test_parse_quantity_table(text: str, expected: Quantity) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "36",
        "jets",
        "2019 jets",  # a year
        "36% of the jets",
        "36 months",
        "$36 million",
        "S-400 systems",
        "Block 70 jets",
        "a round of talks",
        "a set of rules",
        "one of the most advanced fighters",
        "36 jets and 12 tanks",
        "36.5 jets",
    ],
)
def test_parse_quantity_rejects(text: str) -> None:
    with pytest.raises(ParseError, match="quantity"):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "India is buying 36 Rafale fighter jets and four stealth frigates.",
            [("36 Rafale fighter jets", 36, "aircraft"), ("four stealth frigates", 4, "frigates")],
        ),
        (
            "Talks to supply a second regimental set of S-400 are under way.",
            [("a second regimental set", 1, "regimental set")],
        ),
        (
            "Poland will buy 24 Bayraktar TB2 drones for $300 million.",
            [("24 Bayraktar TB2 drones", 24, "drones")],
        ),
        (
            "The S-400 and Su-35 jets arrived in 2019, 40% of the F-16 Block 70 jets later.",
            [],
        ),
        ("On 12 July 2019 Turkey received jets; on July 12 36 were flown.", []),
        ("The pilot, 36, flew jets for 20 years.", []),
        (
            "Paris will deliver 2,000 missiles and 12 used Rafale jets.",
            [
                ("2,000 missiles", 2000, "missiles"),
                ("12 used Rafale jets", 12, "aircraft"),
            ],
        ),
        ("The 5 billion dollar deal covers four aircraft.", [("four aircraft", 4, "aircraft")]),
        ("It is one of the best countries for drones.", []),
    ],
)
def test_parse_find_quantities(text: str, expected: list[tuple[str, int, str]]) -> None:
    found = find_quantities(text)
    assert [(f.span.text, f.value.count, f.value.unit) for f in found] == expected
    for f in found:
        assert text[f.span.start : f.span.end] == f.span.text


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("December 2019", None, dt.date(2019, 12, 1)),
        ("Dec. 25, 2016", None, dt.date(2016, 12, 25)),
        ("Sept. 11, 2019", None, dt.date(2019, 9, 11)),
        ("Nov. 2015", None, dt.date(2015, 11, 1)),
        ("2019-07-12", None, dt.date(2019, 7, 12)),
        ("12 July 2019", None, dt.date(2019, 7, 12)),
        ("12th July, 2019", None, dt.date(2019, 7, 12)),
        ("Monday, July 15, 2019", None, dt.date(2019, 7, 15)),
        ("in 2020", None, dt.date(2020, 1, 1)),
        ("2020", None, dt.date(2020, 1, 1)),
        ("mid-2019", None, dt.date(2019, 1, 1)),
        ("in September 2019.", None, dt.date(2019, 9, 1)),
        ("July 12", REF, dt.date(2019, 7, 12)),
        ("on March 4", REF, dt.date(2019, 3, 4)),
        ("11th of March", REF, dt.date(2019, 3, 11)),
        ("in July", REF, dt.date(2019, 7, 1)),
        ("last year", REF, dt.date(2018, 1, 1)),
        ("next year", REF, dt.date(2020, 1, 1)),
        ("earlier this year", REF, dt.date(2019, 1, 1)),
        ("last month", REF, dt.date(2019, 6, 1)),
        ("next month", dt.date(2019, 12, 5), dt.date(2020, 1, 1)),
        ("yesterday", REF, dt.date(2019, 7, 19)),
        ("on Monday", REF, dt.date(2019, 7, 15)),
        ("Saturday", REF, dt.date(2019, 7, 20)),
        ("this Friday", REF, dt.date(2019, 7, 26)),
        ("last Saturday", REF, dt.date(2019, 7, 13)),
        ("three years ago", REF, dt.date(2016, 1, 1)),
        ("December 2019", REF, dt.date(2019, 12, 1)),
    ],
)
def test_parse_date_table(text: str, reference: dt.date | None, expected: dt.date) -> None:
    assert parse_date(text, reference=reference) == expected


@pytest.mark.parametrize(
    ("text", "reference", "message"),
    [
        ("", None, "not a date"),
        ("yesterday-ish", REF, "not a date"),
        ("Feb 30, 2019", None, "not a valid date"),
        ("July 12", None, "reference"),
        ("in July", None, "reference"),
        ("last year", None, "reference"),
        ("on Monday", None, "reference"),
        ("S-400", None, "not a date"),
        ("may 2019", None, "not a date"),  # month names are capitalised
        ("36 jets", REF, "not a date"),
    ],
)
def test_parse_date_rejects(text: str, reference: dt.date | None, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_date(text, reference=reference)


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        (
            "Deliveries began in July 2019 and will end in 2020.",
            None,
            [("July 2019", dt.date(2019, 7, 1)), ("2020", dt.date(2020, 1, 1))],
        ),
        (
            "The deal, signed Dec. 25, 2016, followed talks last year.",
            REF,
            [("Dec. 25, 2016", dt.date(2016, 12, 25)), ("last year", dt.date(2018, 1, 1))],
        ),
        ("The deal followed talks last year.", None, []),
        ("The first batch arrived on March 4.", REF, [("March 4", dt.date(2019, 3, 4))]),
        ("Six jets will be delivered in July.", REF, [("July", dt.date(2019, 7, 1))]),
        ("It bought 2,000 S-400 missiles for $2019 and 36% of 1990s jets.", None, []),
        ("The May 8 contract, the Martin jets.", REF, [("May 8", dt.date(2019, 5, 8))]),
        ("Turkey may buy 36 jets.", REF, []),
    ],
)
def test_parse_find_dates(
    text: str, reference: dt.date | None, expected: list[tuple[str, dt.date]]
) -> None:
    found = find_dates(text, reference=reference)
    assert [(f.span.text, f.value) for f in found] == expected
    for f in found:
        assert text[f.span.start : f.span.end] == f.span.text


def test_parse_date_accepts_a_datetime_reference() -> None:
    assert parse_date("yesterday", reference=dt.datetime(2019, 7, 20, 23, 59)) == dt.date(
        2019, 7, 19
    )


def test_parse_found_is_frozen() -> None:
    found = find_money("It paid $5 billion.")[0]
    assert isinstance(found, Found)
    with pytest.raises(AttributeError):
        found.value = Value(1.0, "USD")  # type: ignore[misc]


# --------------------------------------------------------------------------- properties


@settings(max_examples=300)
@given(st.text())
@example("bİllion dollars")
@example("5 ſeven jets")
@example("$9999999999999999 trillion")
def test_parse_money_raises_only_parse_error(text: str) -> None:
    try:
        value = parse_money(text)
    except ParseError:
        return
    assert isinstance(value, Value)


@settings(max_examples=300)
@given(st.text())
@example("eighty-two (82) jets")
@example("a ſecond regimental set")
def test_parse_quantity_raises_only_parse_error(text: str) -> None:
    try:
        value = parse_quantity(text)
    except ParseError:
        return
    assert isinstance(value, Quantity)


@settings(max_examples=300)
@given(st.text(), st.one_of(st.none(), st.dates()))
@example("yesterday", dt.date.min)
@example("tomorrow", dt.date.max)
@example("next month", dt.date.max)
@example("9999 years ago", dt.date.min)
def test_parse_date_raises_only_parse_error(text: str, reference: dt.date | None) -> None:
    try:
        value = parse_date(text, reference=reference)
    except ParseError:
        return
    assert isinstance(value, dt.date)


_NEWSY = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,.$€£%-()\u00a0’")
    )
)


@settings(max_examples=300)
@given(st.one_of(st.text(), _NEWSY), st.one_of(st.none(), st.dates()))
def test_parse_found_spans_are_exact(text: str, reference: dt.date | None) -> None:
    for found in [
        *find_money(text),
        *find_quantities(text),
        *find_dates(text, reference=reference),
    ]:
        span = found.span
        assert text[span.start : span.end] == span.text


@settings(max_examples=100)
@given(st.one_of(st.text(), _NEWSY))
def test_parse_found_money_parses_back(text: str) -> None:
    for found in find_money(text):
        assert parse_money(found.span.text) == found.value


_FILLER = st.text(alphabet=st.sampled_from(list("qxzQXZ ,;:!?()\n—é")), max_size=40)
_PLANTED = [
    ("$1 billion", Value(1e9, "USD")),
    ("about €7.87bn", Value(7.87e9, "EUR", True)),
    ("Rs 5,000 crore", Value(5e10, "INR")),
    ("1.2 trillion won", Value(1.2e12, "KRW")),
    ("nearly 8 billion euros", Value(8e9, "EUR", True)),
    ("US$620 million", Value(6.2e8, "USD")),
]


@settings(max_examples=300)
@given(_FILLER, st.sampled_from(_PLANTED), _FILLER)
def test_parse_find_money_finds_a_planted_phrase(
    before: str, planted: tuple[str, Value], after: str
) -> None:
    phrase, value = planted
    text = f"{before} {phrase} {after}"
    start = len(before) + 1
    found = find_money(text)
    assert [(f.span.start, f.span.end, f.value) for f in found] == [
        (start, start + len(phrase), value)
    ]


@pytest.mark.parametrize(
    ("unit", "count", "expected"),
    [
        ("frigates", 1, "frigate"),
        ("frigate", 4, "frigates"),
        ("aircraft", 1, "aircraft"),
        ("regimental set", 2, "regimental sets"),
        ("examples", 1, "examples"),  # a unit units.yaml does not know stays as given
    ],
)
def test_parse_unit_for_count_agrees_with_the_count(unit: str, count: int, expected: str) -> None:
    assert unit_for_count(unit, count) == expected
