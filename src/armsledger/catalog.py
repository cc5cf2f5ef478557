"""The catalog: what weapon systems, states, organisations and weapon classes are called.

Knowledge lives in the YAML files of ``armsledger/data`` (each says in its header what a row
means and where it came from); this module only loads them, checks them and answers lookups:

* ``systems.yaml``: weapon systems, their aliases, family, category and state of origin;
* ``states.yaml``: names, adjectives, peoples and metonyms the news uses for states, on top of
  the official and common names pycountry gives for every ISO 3166-1 country;
* ``organisations.yaml``: ministries, forces, agencies and manufacturers, each standing for a
  state (ANNOTATION.md: "Dassault → FRA");
* ``classes.yaml``: generic phrases ("fighter jets", "drones") naming a kind of weapon but no
  system, which give facts with ``system: null``.

Lookups of systems ignore case, spaces and hyphens ("su35", "Su 35" and "SU-35" are all
``Su-35``), so the scorer and the extractor agree on what a designation means.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pycountry
import yaml

from armsledger.errors import CatalogError

__all__ = [
    "CATEGORIES",
    "Catalog",
    "Organisation",
    "State",
    "System",
    "Term",
    "WeaponClass",
    "load_catalog",
    "normalise_designation",
]

#: The categories a system or a weapon class may have (SIPRI's armament categories, folded).
CATEGORIES: frozenset[str] = frozenset(
    {
        "aircraft",
        "helicopter",
        "air defence system",
        "missile",
        "armoured vehicle",
        "artillery",
        "ship",
        "submarine",
        "sensor",
        "engine",
        "uav",
        "other",
    }
)

#: What an organisation may be (organisations.yaml, field ``kind``).
ORGANISATION_KINDS: frozenset[str] = frozenset({"agency", "ministry", "force", "manufacturer"})

_SYSTEMS_FILE = "systems.yaml"
_STATES_FILE = "states.yaml"
_ORGANISATIONS_FILE = "organisations.yaml"
_CLASSES_FILE = "classes.yaml"

# Hyphens, dashes, spaces, underscores and slashes do not distinguish designations:
# "Su-35", "Su 35", "Su‑35" (non-breaking hyphen) and "Su35" are one.
_DESIGNATION_NOISE = re.compile(r"[\s\-\u2010-\u2015\u2212_]+")
_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00a0": " "})
# Case-sensitive phrases: short all-caps ("US", "ROK", "UAE", "ROE") or dotted ("U.S.").
_MAX_CASE_SENSITIVE_LETTERS = 4


def normalise_designation(text: str) -> str:
    """The form under which designations are compared: case-, space- and hyphen-insensitive."""
    return _DESIGNATION_NOISE.sub("", text.translate(_APOSTROPHES)).casefold()


def _normalise_name(text: str) -> str:
    """The form under which state and organisation names are compared (case-insensitive)."""
    text = _SPACES.sub(" ", text.translate(_APOSTROPHES)).strip().casefold()
    return text.removeprefix("the ")


def _is_case_sensitive(phrase: str) -> bool:
    letters = [c for c in phrase if c.isalpha()]
    if "." in phrase and any(c.isalpha() for c in phrase):
        return True
    return bool(letters) and len(letters) <= _MAX_CASE_SENSITIVE_LETTERS and phrase.isupper()


@dataclass(frozen=True, slots=True)
class System:
    """A weapon system: ``name`` is its canonical designation, ``family`` what scoring compares."""

    name: str
    family: str
    category: str
    origin: str | None
    aliases: tuple[str, ...]
    kind: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class State:
    """A state (ISO 3166-1 alpha-3 ``code``) and every way the news names it."""

    code: str
    name: str
    names: tuple[str, ...]
    adjectives: tuple[str, ...]
    people: tuple[str, ...]
    metonyms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Organisation:
    """A ministry, force, agency or manufacturer that stands for its ``state``."""

    name: str
    state: str
    kind: str
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WeaponClass:
    """A generic phrase naming a kind of weapon but no system ("fighter jets", "weapons").

    ``concrete`` is False for phrases that name no particular kind ("weapons", "arms").
    """

    phrase: str
    category: str
    concrete: bool


@dataclass(frozen=True, slots=True)
class Term:
    """One phrase to look for in text and what it names."""

    phrase: str
    """As written in the data; matched case-insensitively unless ``case_sensitive``."""
    kind: str
    """One of ``system state adjective people metonym organisation class``."""
    target: str
    """``System.name``, ``State.code``, ``Organisation.state`` or the class's category."""
    case_sensitive: bool = False
    """True for short all-caps phrases ("US", "ROK", "UAE") and dotted ones ("U.S.")."""


class Catalog:
    """Every system, state, organisation and weapon class armsledger knows, with lookups.

    Build one with :func:`load_catalog`; it is immutable once built.
    """

    def __init__(
        self,
        systems: Mapping[str, System],
        states: Mapping[str, State],
        organisations: tuple[Organisation, ...],
        classes: tuple[WeaponClass, ...],
        *,
        lookup_only: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.systems: Mapping[str, System] = MappingProxyType(dict(systems))
        self.states: Mapping[str, State] = MappingProxyType(dict(states))
        self.organisations: tuple[Organisation, ...] = organisations
        self.classes: tuple[WeaponClass, ...] = classes
        self._lookup_only = lookup_only
        self._system_index: dict[str, System] = {}
        for system in self.systems.values():
            for label in (system.name, *system.aliases):
                self._system_index.setdefault(normalise_designation(label), system)
        # Family names that are not systems themselves still resolve to themselves.
        self._family_index: dict[str, str] = {
            normalise_designation(s.family): s.family for s in self.systems.values()
        }
        self._state_exact: dict[str, str] = {}
        self._state_folded: dict[str, str] = {}
        for state in self.states.values():
            self._state_exact.setdefault(state.code, state.code)
            alpha2 = _alpha2(state.code)
            if alpha2:
                self._state_exact.setdefault(alpha2, state.code)
            labels = (*state.names, *state.adjectives, *state.people, *state.metonyms)
            for label in labels:
                self._index_state_label(label, state.code)
        for org in self.organisations:
            for label in (org.name, *org.aliases):
                self._index_state_label(label, org.state)
        self._classes = {_normalise_name(c.phrase): c for c in classes}

    def _index_state_label(self, label: str, code: str) -> None:
        if _is_case_sensitive(label):
            self._state_exact.setdefault(label, code)
        else:
            self._state_folded.setdefault(_normalise_name(label), code)

    def __repr__(self) -> str:
        return (
            f"Catalog({len(self.systems)} systems, {len(self.states)} states, "
            f"{len(self.organisations)} organisations, {len(self.classes)} classes)"
        )

    def resolve_system(self, text: str) -> System | None:
        """The system a designation or alias names, or None.

        Case, spaces and hyphens are ignored; a plural or possessive ("MiG-29s", "Rafale's")
        falls back to the singular when the text itself is not known.
        """
        key = normalise_designation(text)
        if not key:
            return None
        found = self._system_index.get(key)
        if found is None and key.endswith("'s"):
            found = self._system_index.get(key[:-2])
        if found is None and key.endswith("s"):
            found = self._system_index.get(key[:-1])
        return found

    def family(self, name: str) -> str:
        """The family a system name or alias belongs to, as scoring compares it.

        An unknown name is its own family, normalised, so two spellings of one unknown
        designation ("XYZ-1", "xyz 1") still compare equal.
        """
        system = self.resolve_system(name)
        if system is not None:
            return system.family
        key = normalise_designation(name)
        return self._family_index.get(key, key)

    def resolve_state(self, text: str) -> str | None:
        """The alpha-3 code of the state a name, adjective, metonym or organisation stands for.

        Codes written as codes ("TUR", "TR") resolve; short all-caps names ("US", "UAE",
        "ROK") and dotted ones ("U.S.") only as written. Alliances (NATO, the EU) give None.
        """
        stripped = _SPACES.sub(" ", text.translate(_APOSTROPHES)).strip()
        if not stripped:
            return None
        exact = self._state_exact.get(stripped) or self._state_exact.get(
            stripped.removeprefix("the ")
        )
        if exact is not None:
            return exact
        return self._state_folded.get(_normalise_name(stripped))

    def state_name(self, code: str) -> str:
        """A short English name for display ("TUR" → "Turkey"); the code itself if unknown."""
        state = self.states.get(code)
        return state.name if state is not None else code

    def weapon_class(self, phrase: str) -> WeaponClass | None:
        """The weapon class a generic phrase names ("fighter jets"), or None."""
        return self._classes.get(_normalise_name(phrase))

    def terms(self) -> list[Term]:
        """Every phrase to match in text: systems, states, organisations and classes."""
        return list(self._iter_terms())

    def _iter_terms(self) -> Iterator[Term]:
        seen: set[tuple[str, str]] = set()

        def term(phrase: str, kind: str, target: str) -> Iterator[Term]:
            if (phrase, kind) not in seen:
                seen.add((phrase, kind))
                yield Term(phrase, kind, target, _is_case_sensitive(phrase))

        for system in self.systems.values():
            for label in (system.name, *system.aliases):
                if (system.name, label) not in self._lookup_only:
                    yield from term(label, "system", system.name)
        for state in self.states.values():
            for label in state.names:
                if ", " not in label:  # "Korea, Republic of" is a register form, not prose
                    yield from term(label, "state", state.code)
            for label in state.adjectives:
                yield from term(label, "adjective", state.code)
            for label in state.people:
                yield from term(label, "people", state.code)
            for label in state.metonyms:
                yield from term(label, "metonym", state.code)
        for org in self.organisations:
            for label in (org.name, *org.aliases):
                yield from term(label, "organisation", org.state)
        for weapon_class in self.classes:
            yield from term(weapon_class.phrase, "class", weapon_class.category)


# --------------------------------------------------------------------------- loading


def _alpha2(code: str) -> str | None:
    country = pycountry.countries.get(alpha_3=code)
    return None if country is None else str(country.alpha_2)


def _is_alpha3(code: object) -> bool:
    return (
        isinstance(code, str)
        and len(code) == 3
        and code.isupper()
        and pycountry.countries.get(alpha_3=code) is not None
    )


_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(
            f"catalog file {path} is missing", hint="reinstall armsledger or check --data-dir"
        ) from None
    except OSError as exc:
        raise CatalogError(f"catalog file {path} cannot be read: {exc}") from exc
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog file {path} is not valid YAML: {exc}") from exc


def _rows(path: Path, data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise CatalogError(f"catalog file {path} must hold a list of rows, not {type(data)}")
    for number, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise CatalogError(f"{path}: row {number} is not a mapping: {row!r}")
    return data


def _strings(path: Path, where: str, field: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogError(f"{path}: {where}: {field} must be a list of non-empty strings")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _required(path: Path, number: int, row: Mapping[str, Any], field: str) -> str:
    value = row.get(field)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{path}: row {number} has no {field}: {dict(row)!r}")
    return value.strip()


def _load_systems(path: Path) -> tuple[dict[str, System], frozenset[tuple[str, str]]]:
    """Systems by name, and the (system, label) pairs that resolve but are not matched in text."""
    systems: dict[str, System] = {}
    owner: dict[str, str] = {}
    lookup_only: set[tuple[str, str]] = set()
    for number, row in enumerate(_rows(path, _read_yaml(path)), start=1):
        name = _required(path, number, row, "name")
        where = f"system {name!r} (row {number})"
        category = _required(path, number, row, "category")
        if category not in CATEGORIES:
            allowed = ", ".join(sorted(CATEGORIES))
            raise CatalogError(f"{path}: {where}: category {category!r} is not one of {allowed}")
        origin = row.get("origin")
        if origin is not None and not _is_alpha3(origin):
            raise CatalogError(
                f"{path}: {where}: origin {origin!r} is not an ISO 3166-1 alpha-3 code"
            )
        family = str(row.get("family") or name).strip()
        aliases = tuple(
            a for a in _strings(path, where, "aliases", row.get("aliases")) if a != name
        )
        for label in (name, *aliases):
            key = normalise_designation(label)
            if owner.setdefault(key, name) != name:
                raise CatalogError(
                    f"{path}: {where}: alias {label!r} already names system {owner[key]!r}"
                )
        match_name = row.get("match_name", True)
        if not isinstance(match_name, bool):
            raise CatalogError(f"{path}: {where}: match_name must be true or false")
        if not match_name:
            lookup_only.add((name, name))
        for label in _strings(path, where, "lookup_only", row.get("lookup_only")):
            if label not in aliases:
                raise CatalogError(
                    f"{path}: {where}: lookup_only alias {label!r} is not among its aliases"
                )
            lookup_only.add((name, label))
        systems[name] = System(
            name=name,
            family=family,
            category=category,
            origin=origin,
            aliases=aliases,
            kind=_strings(path, where, "kind", row.get("kind")),
        )
    return systems, frozenset(lookup_only)


def _pycountry_names(code: str) -> tuple[str, ...]:
    country = pycountry.countries.get(alpha_3=code)
    names = (getattr(country, f, None) for f in ("common_name", "name", "official_name"))
    return tuple(dict.fromkeys(n for n in names if n))


def _load_states(path: Path) -> dict[str, State]:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(f"catalog file {path} must map alpha-3 codes to names")
    for code, value in data.items():
        if not _is_alpha3(code):
            raise CatalogError(f"{path}: key {code!r} is not an ISO 3166-1 alpha-3 code")
        if not isinstance(value, dict):
            raise CatalogError(f"{path}: {code}: must be a mapping of names, not {value!r}")
    states: dict[str, State] = {}
    for country in pycountry.countries:
        code = str(country.alpha_3)
        entry: Mapping[str, Any] = data.get(code, {})
        where = f"state {code}"
        dropped = set(_strings(path, where, "not_names", entry.get("not_names")))
        extra = _strings(path, where, "names", entry.get("names"))
        names = tuple(
            n for n in dict.fromkeys((*extra, *_pycountry_names(code))) if n not in dropped
        )
        short = extra[0] if extra else _pycountry_names(code)[0]
        states[code] = State(
            code=code,
            name=short,
            names=names,
            adjectives=_strings(path, where, "adjectives", entry.get("adjectives")),
            people=_strings(path, where, "people", entry.get("people")),
            metonyms=_strings(path, where, "metonyms", entry.get("metonyms")),
        )
    return states


def _load_organisations(path: Path) -> tuple[Organisation, ...]:
    organisations: list[Organisation] = []
    for number, row in enumerate(_rows(path, _read_yaml(path)), start=1):
        name = _required(path, number, row, "name")
        where = f"organisation {name!r} (row {number})"
        state = _required(path, number, row, "state")
        if not _is_alpha3(state):
            raise CatalogError(f"{path}: {where}: state {state!r} is not an ISO alpha-3 code")
        kind = _required(path, number, row, "kind")
        if kind not in ORGANISATION_KINDS:
            allowed = ", ".join(sorted(ORGANISATION_KINDS))
            raise CatalogError(f"{path}: {where}: kind {kind!r} is not one of {allowed}")
        aliases = _strings(path, where, "aliases", row.get("aliases"))
        organisations.append(Organisation(name, state, kind, aliases))
    return tuple(organisations)


def _load_classes(path: Path) -> tuple[WeaponClass, ...]:
    classes: list[WeaponClass] = []
    for number, row in enumerate(_rows(path, _read_yaml(path)), start=1):
        phrase = _required(path, number, row, "phrase")
        category = _required(path, number, row, "category")
        if category not in CATEGORIES:
            raise CatalogError(f"{path}: class {phrase!r}: unknown category {category!r}")
        concrete = row.get("concrete", True)
        if not isinstance(concrete, bool):
            raise CatalogError(f"{path}: class {phrase!r}: concrete must be true or false")
        classes.append(WeaponClass(phrase, category, concrete))
    return tuple(classes)


def _default_data_dir() -> Path:
    return Path(str(resources.files("armsledger") / "data"))


@functools.lru_cache(maxsize=1)
def _load_default() -> Catalog:
    return _build(_default_data_dir())


def _build(data_dir: Path) -> Catalog:
    if not data_dir.is_dir():
        raise CatalogError(f"catalog directory {data_dir} does not exist")
    systems, lookup_only = _load_systems(data_dir / _SYSTEMS_FILE)
    states = _load_states(data_dir / _STATES_FILE)
    organisations = _load_organisations(data_dir / _ORGANISATIONS_FILE)
    classes = _load_classes(data_dir / _CLASSES_FILE)
    return Catalog(
        systems,
        states,
        organisations,
        classes,
        lookup_only=lookup_only,
    )


def load_catalog(data_dir: Path | None = None) -> Catalog:
    """Load and check the catalog from ``data_dir`` (default: the files shipped in the package).

    The default catalog is loaded once per process and shared.

    Raises:
        CatalogError: a file is missing or not valid YAML, a row has no name, an alias names
            two systems, or a code is not an ISO 3166-1 alpha-3 code known to pycountry.
    """
    if data_dir is None:
        return _load_default()
    return _build(Path(data_dir))
