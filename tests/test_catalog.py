"""Tests of the catalog: data files load, aliases resolve, states and organisations map."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pycountry
import pytest

from armsledger.catalog import Catalog, load_catalog, normalise_designation
from armsledger.errors import CatalogError

SHARED = Path(__file__).parents[2] / "shared"
DATA_DIR = Path(__file__).parents[1] / "src" / "armsledger" / "data"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.mark.parametrize(
    ("text", "name", "family"),
    [
        ("S-400", "S-400", "S-400"),
        ("S-400 Triumf", "S-400", "S-400"),
        ("SA-21 Growler", "S-400", "S-400"),
        ("Triumph missile system", "S-400", "S-400"),
        ("su35", "Su-35", "Su-35"),
        ("Su 35", "Su-35", "Su-35"),
        ("SU-35", "Su-35", "Su-35"),
        ("Flanker-E", "Su-35", "Su-35"),
        ("F-35A", "F-35", "F-35"),
        ("F-35 Lightning II", "F-35", "F-35"),
        ("Joint Strike Fighter", "F-35", "F-35"),
        ("Su-30MKI", "Su-30MKI", "Su-30"),
        ("Su-30MK2", "Su-30MK2", "Su-30"),
        ("Su-30", "Su-30", "Su-30"),
        ("F-16 Block 70", "F-16 Block 70", "F-16"),
        ("F-16V", "F-16", "F-16"),
        ("Fighting Falcon", "F-16", "F-16"),
        ("Rafale M", "Rafale", "Rafale"),
        ("PAC-3 MSE", "Patriot", "Patriot"),
        ("MIM-104", "Patriot", "Patriot"),
        ("M142", "HIMARS", "HIMARS"),
        ("M31A2", "GMLRS", "GMLRS"),
        ("MGM-140", "ATACMS", "ATACMS"),
        ("K2 Black Panther", "K2", "K2"),
        ("K9 Thunder", "K9", "K9"),
        ("Bayraktar TB2", "TB2", "TB2"),
        ("Akıncı", "Akinci", "Akinci"),
        ("J-10CE", "J-10C", "J-10"),
        ("Project 636", "Kilo", "Kilo"),
        ("Kilo-class", "Kilo", "Kilo"),
        ("H225M", "Caracal", "Caracal"),
        ("Mistral-class", "Mistral", "Mistral"),
        ("Mistral MANPADS", "Mistral missile", "Mistral missile"),
        ("Type 209/1400", "Type 209", "Type 209"),
        ("Type 054A/P", "Type 054A", "Type 054A"),
        ("Aster 15", "Aster", "Aster"),
        ("Storm Shadow", "SCALP", "SCALP"),
        ("FGM-148", "Javelin", "Javelin"),
        ("FIM-92", "Stinger", "Stinger"),
        ("Mi-171", "Mi-17", "Mi-17"),
        ("Admiral Gorshkov", "INS Vikramaditya", "INS Vikramaditya"),
        ("T-90MS", "T-90", "T-90"),
        ("MiG-29K", "MiG-29", "MiG-29"),
        ("MiG-29s", "MiG-29", "MiG-29"),
        ("Geran-2", "Shahed-136", "Shahed-136"),
        ("Pantsir-S1", "Pantsir", "Pantsir"),
        ("SA-15 Gauntlet", "Tor", "Tor"),
        ("SS-26 Stone", "Iskander", "Iskander"),
        ("M2A1 machine gun", "M2", "M2"),
    ],
)
def test_catalog_resolves_system_aliases(
    catalog: Catalog, text: str, name: str, family: str
) -> None:
    system = catalog.resolve_system(text)
    assert system is not None, text
    assert system.name == name
    assert catalog.family(text) == family


@pytest.mark.parametrize("text", ["", "Storm", "Typhoon", "Leopard", "weapons", "NATO"])
def test_catalog_resolves_no_system_for_common_words(catalog: Catalog, text: str) -> None:
    assert catalog.resolve_system(text) is None


def test_catalog_family_of_unknown_name_is_normalised(catalog: Catalog) -> None:
    assert catalog.family("XYZ-99 Zork") == catalog.family("xyz 99 zork")
    assert catalog.family("XYZ-99 Zork") != catalog.family("XYZ-98 Zork")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Turkish", "TUR"),
        ("Ankara", "TUR"),
        ("the Kremlin", "RUS"),
        ("Moscow", "RUS"),
        ("Soviet Union", "RUS"),
        ("Emirati", "ARE"),
        ("UAE", "ARE"),
        ("the UAE", "ARE"),
        ("US", "USA"),
        ("U.S.", "USA"),
        ("America", "USA"),
        ("the Pentagon", "USA"),
        ("UK", "GBR"),
        ("Britain", "GBR"),
        ("Whitehall", "GBR"),
        ("South Korea", "KOR"),
        ("ROK", "KOR"),
        ("Korea", "KOR"),
        ("DPRK", "PRK"),
        ("Taiwan", "TWN"),
        ("Chinese Taipei", "TWN"),
        ("Burma", "MMR"),
        ("New Delhi", "IND"),
        ("Georgia", "GEO"),
        ("Jordan", "JOR"),
        ("Chad", "TCD"),
        ("TUR", "TUR"),
        ("TR", "TUR"),
        ("Rosoboronexport", "RUS"),
        ("Dassault", "FRA"),
        ("Dassault Aviation", "FRA"),
        ("Hanwha", "KOR"),
        ("TECRO", "TWN"),
        ("DSCA", "USA"),
        ("Indian Air Force", "IND"),
        ("MBDA", "FRA"),
        ("Baykar", "TUR"),
    ],
)
def test_catalog_resolves_states(catalog: Catalog, text: str, code: str) -> None:
    assert catalog.resolve_state(text) == code


@pytest.mark.parametrize(
    "text", ["NATO", "EU", "the EU", "European Union", "the Gulf", "us", "uk", "Guinea", "Congo"]
)
def test_catalog_resolves_no_state_for_blocs_and_ambiguous_names(
    catalog: Catalog, text: str
) -> None:
    assert catalog.resolve_state(text) is None


def test_catalog_state_name_is_short(catalog: Catalog) -> None:
    assert catalog.state_name("TUR") == "Turkey"
    assert catalog.state_name("KOR") == "South Korea"
    assert catalog.state_name("XXX") == "XXX"


def test_catalog_has_at_least_450_systems(catalog: Catalog) -> None:
    assert len(catalog.systems) >= 450


def test_catalog_has_at_least_150_organisations(catalog: Catalog) -> None:
    assert len(catalog.organisations) >= 150


def test_catalog_knows_every_iso_country(catalog: Catalog) -> None:
    assert len(catalog.states) == len(pycountry.countries)


def test_catalog_system_origins_are_alpha3(catalog: Catalog) -> None:
    for system in catalog.systems.values():
        assert system.origin is not None, system.name
        assert pycountry.countries.get(alpha_3=system.origin) is not None, system.name


def test_catalog_no_alias_is_shared_between_systems(catalog: Catalog) -> None:
    owner: dict[str, str] = {}
    for system in catalog.systems.values():
        for label in {normalise_designation(a) for a in (system.name, *system.aliases)}:
            assert owner.setdefault(label, system.name) == system.name, label


def test_catalog_terms_mark_short_caps_case_sensitive(catalog: Catalog) -> None:
    terms = {(t.phrase, t.kind): t for t in catalog.terms()}
    assert terms[("US", "state")].case_sensitive
    assert terms[("U.S.", "state")].case_sensitive
    assert terms[("UAE", "state")].case_sensitive
    assert not terms[("Turkey", "state")].case_sensitive
    assert terms[("Rosoboronexport", "organisation")].target == "RUS"
    assert terms[("fighter jets", "class")].target == "aircraft"
    assert terms[("Kilo-class", "system")].target == "Kilo"
    # Names that are ordinary words resolve, but are not looked for in text.
    assert ("Kilo", "system") not in terms
    assert ("Tiger", "system") not in terms
    assert not any(t.kind == "state" and t.phrase in {"NATO", "EU"} for t in terms.values())


def test_catalog_weapon_classes(catalog: Catalog) -> None:
    assert len(catalog.classes) >= 80
    fighter_jets = catalog.weapon_class("Fighter jets")
    assert fighter_jets is not None and fighter_jets.category == "aircraft"
    weapons = catalog.weapon_class("weapons")
    assert weapons is not None and not weapons.concrete


def test_catalog_default_is_cached() -> None:
    assert load_catalog() is load_catalog()


def _copy_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    return data


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("systems.yaml", "- name: [unclosed\n", "not valid YAML"),
        ("systems.yaml", "- category: aircraft\n  origin: USA\n", "has no name"),
        ("systems.yaml", "- {name: A-1, category: aircraft, origin: XXX}\n", "origin 'XXX'"),
        ("systems.yaml", "- {name: A-1, category: aircraft, origin: us}\n", "origin 'us'"),
        ("systems.yaml", "- {name: A-1, category: boat, origin: USA}\n", "category 'boat'"),
        (
            "systems.yaml",
            "- {name: A-1, category: aircraft, origin: USA, aliases: [Zed]}\n"
            "- {name: B-2, category: aircraft, origin: USA, aliases: [zed]}\n",
            "already names system 'A-1'",
        ),
        ("states.yaml", "ZZZ: {names: [Zedland]}\n", "'ZZZ' is not an ISO"),
        ("organisations.yaml", "- {name: Acme, state: USA, kind: shop}\n", "kind 'shop'"),
        ("classes.yaml", "- {category: aircraft}\n", "has no phrase"),
    ],
)
def test_catalog_error_on_malformed_file(
    tmp_path: Path, file: str, text: str, message: str
) -> None:
    data = _copy_data(tmp_path)
    (data / file).write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=re.escape(message)) as info:
        load_catalog(data)
    assert file in str(info.value)


def test_catalog_error_on_missing_file(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    (data / "states.yaml").unlink()
    with pytest.raises(CatalogError, match="states.yaml is missing"):
        load_catalog(data)


def test_catalog_error_on_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "nowhere")


def _gold_systems() -> set[str]:
    names: set[str] = set()
    for folder in ("dev", "examples"):
        for path in sorted((SHARED / folder).glob("*.gold.json")):
            gold = json.loads(path.read_text(encoding="utf-8"))
            names.update(f["system"] for f in gold.get("facts", []) if f.get("system"))
    return names


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared gold files not present")
def test_catalog_resolves_every_gold_system(catalog: Catalog) -> None:
    names = _gold_systems()
    assert names
    unresolved = sorted(n for n in names if catalog.resolve_system(n) is None)
    assert unresolved == []
    # Gold names are canonical: each resolves to a system of that very name.
    renamed = sorted(n for n in names if catalog.resolve_system(n).name != n)  # type: ignore[union-attr]
    assert renamed == []
