"""The JSON API and the dashboard's HTML, through FastAPI's TestClient.

The register is ``web_db`` (conftest): invented articles, one of them hostile.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FORMULA_SYSTEM, HOSTILE_SPEAKER, HOSTILE_TEXT, HOSTILE_TITLE
from fastapi.testclient import TestClient

from armsledger.api import create_app
from armsledger.store import DEAL_SORTS
from armsledger.web import templates

S400 = ("RUS", "TUR", "S-400")
RAFALE = ("FRA", "IND", "Rafale")
HIMARS = ("USA", "POL", "HIMARS")


@pytest.fixture(scope="module")
def client(web_db: str) -> Iterator[TestClient]:
    with TestClient(create_app(web_db)) as opened:
        yield opened


@pytest.fixture(scope="module")
def contested(contested_db: str) -> Iterator[TestClient]:
    """A client over a register with one contradicted deal and one named by a formula."""
    with TestClient(create_app(contested_db)) as opened:
        yield opened


def keys(items: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(d["supplier"], d["recipient"], d["system"]) for d in items]


def deal_id(client: TestClient, system: str) -> str:
    found = client.get("/api/deals", params={"system": system}).json()["items"]
    assert len(found) == 1
    return str(found[0]["id"])


def article_id(client: TestClient, name: str) -> int:
    found = client.get("/api/articles", params={"limit": 500}).json()["items"]
    return next(int(a["id"]) for a in found if a["name"] == name)


def assert_error(response: object, status: int, code: str, fragment: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert fragment in body["error"]["message"]


# --- deals ----------------------------------------------------------------------------------


def test_api_deals_lists_every_deal_newest_first(client: TestClient) -> None:
    body = client.get("/api/deals").json()
    assert body["total"] == 3 and body["limit"] == 50 and body["offset"] == 0
    assert body["next"] is None
    assert keys(body["items"]) == [HIMARS, S400, RAFALE]
    s400 = body["items"][1]
    assert s400["stage"] == "delivery"
    assert (s400["first_seen"], s400["last_seen"]) == ("2017-09-12", "2019-07-12")
    assert (s400["n_facts"], s400["n_articles"]) == (2, 2)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"supplier": "rus"}, [S400]),
        ({"recipient": "IND"}, [RAFALE]),
        ({"system": "HIMARS"}, [HIMARS]),
        ({"category": "aircraft"}, [RAFALE]),
        ({"category": "Air Defence System"}, [S400]),
        ({"stage": "delivery"}, [S400]),
        ({"stage": "contract"}, [RAFALE]),
        ({"modality": "planned"}, [RAFALE]),
        ({"since": "2019-01-01"}, [HIMARS, S400]),
        ({"until": "2017-12-31"}, [S400, RAFALE]),
        ({"since": "2018-01-01", "until": "2019-12-31"}, [S400]),
        ({"q": "ARRIVED from"}, [S400]),
        ({"q": "onerror"}, [RAFALE]),
        ({"q": "Hulusi"}, [S400]),
        ({"q": "100%_"}, []),
        ({"supplier": "", "stage": "", "q": " "}, [HIMARS, S400, RAFALE]),
        ({"supplier": "USA", "stage": "delivery"}, []),
    ],
)
def test_api_deals_filters(
    client: TestClient, params: dict[str, str], expected: list[tuple[str, str, str]]
) -> None:
    response = client.get("/api/deals", params=params)
    assert response.status_code == 200, response.text
    assert keys(response.json()["items"]) == expected
    assert response.json()["total"] == len(expected)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("system", [HIMARS, RAFALE, S400]),
        ("-system", [S400, RAFALE, HIMARS]),
        ("supplier", [RAFALE, S400, HIMARS]),
        ("first_seen", [RAFALE, S400, HIMARS]),
        ("-stage", [S400, RAFALE, HIMARS]),
        ("stage", [HIMARS, RAFALE, S400]),
    ],
)
def test_api_deals_sort(client: TestClient, sort: str, expected: list[tuple[str, ...]]) -> None:
    assert keys(client.get("/api/deals", params={"sort": sort}).json()["items"]) == expected


@pytest.mark.parametrize("column", DEAL_SORTS)
@pytest.mark.parametrize("prefix", ["", "-"])
def test_api_deals_every_sort_column_answers(client: TestClient, column: str, prefix: str) -> None:
    response = client.get("/api/deals", params={"sort": prefix + column})
    assert response.status_code == 200 and response.json()["total"] == 3


def test_api_deals_pagination_walks_every_deal_once(client: TestClient) -> None:
    seen = []
    url: str | None = "/api/deals?limit=1&sort=system"
    while url is not None:
        body = client.get(url).json()
        assert len(body["items"]) == 1 and body["total"] == 3 and body["limit"] == 1
        seen.extend(keys(body["items"]))
        url = body["next"]
    assert seen == [HIMARS, RAFALE, S400]
    past = client.get("/api/deals", params={"offset": 10}).json()
    assert past["items"] == [] and past["total"] == 3 and past["next"] is None


def test_api_deal_has_corroboration_contradictions_and_confidence(client: TestClient) -> None:
    body = client.get(f"/api/deals/{deal_id(client, 'S-400')}").json()
    assert [(c["stage"], c["sources"]) for c in body["corroboration"]] == [
        ("contract", 1),
        ("delivery", 1),
    ]
    assert body["contradictions"] == []
    assert body["confidence"] == 0.8
    assert all(0 < e["confidence"] <= 1 for e in body["timeline"])


def test_api_deals_list_confidence_and_contradictions_as_each_deal_has_them(
    client: TestClient, contested: TestClient
) -> None:
    for api in (client, contested):
        for item in api.get("/api/deals").json()["items"]:
            deal = api.get(f"/api/deals/{item['id']}").json()
            assert item["confidence"] == deal["confidence"], item["system"]
            assert item["n_contradictions"] == len(deal["contradictions"]), item["system"]


def test_api_deals_list_counts_a_denial_as_a_contradiction(contested: TestClient) -> None:
    items = contested.get("/api/deals", params={"sort": "system"}).json()["items"]
    summary = {d["system"]: (d["confidence"], d["n_contradictions"]) for d in items}
    assert summary == {"S-400": (0.4, 1), FORMULA_SYSTEM: (0.8, 0)}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-n_contradictions", ["S-400", FORMULA_SYSTEM]),
        ("n_contradictions", [FORMULA_SYSTEM, "S-400"]),
        ("confidence", ["S-400", FORMULA_SYSTEM]),
        ("-confidence", [FORMULA_SYSTEM, "S-400"]),
    ],
)
def test_api_deals_sort_by_confidence_and_contradictions(
    contested: TestClient, sort: str, expected: list[str]
) -> None:
    items = contested.get("/api/deals", params={"sort": sort}).json()["items"]
    assert [d["system"] for d in items] == expected


def test_api_deal_has_timeline_and_facts_with_spans(client: TestClient) -> None:
    body = client.get(f"/api/deals/{deal_id(client, 'S-400')}").json()
    assert [(e["date"], e["stage"]) for e in body["timeline"]] == [
        ("2017-09-12", "contract"),
        ("2019-07-12", "delivery"),
    ]
    assert body["timeline"][1]["speaker"] == "Hulusi Akar"
    assert {f["article"] for f in body["facts"]} == {"contract.txt", "delivery.txt"}
    for fact in body["facts"]:
        text = client.get(f"/api/articles/{fact['article_id']}").json()["text"]
        for span in fact["spans"]:
            assert text[span["start"] : span["end"]] == span["text"]


def test_api_deals_csv_downloads_the_filtered_deals(client: TestClient) -> None:
    response = client.get("/api/deals.csv", params={"since": "2019-01-01", "sort": "system"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["supplier"], r["recipient"], r["system"]) for r in rows] == [HIMARS, S400]
    assert rows[1]["stage"] == "delivery" and rows[1]["n_facts"] == "2"
    assert (rows[1]["confidence"], rows[1]["n_contradictions"]) == ("0.8", "0")


def test_api_deals_csv_quotes_a_system_a_spreadsheet_would_run(contested: TestClient) -> None:
    response = contested.get("/api/deals.csv", params={"sort": "-n_contradictions"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["system"] for r in rows] == ["S-400", "'" + FORMULA_SYSTEM]
    assert [(r["confidence"], r["n_contradictions"]) for r in rows] == [("0.4", "1"), ("0.8", "0")]
    listed = contested.get("/api/deals", params={"sort": "-n_contradictions"}).json()["items"]
    assert listed[1]["system"] == FORMULA_SYSTEM  # JSON keeps the text as it is


# --- facts and articles ---------------------------------------------------------------------


def test_api_facts_filters_by_fact_stage_deal_and_article(client: TestClient) -> None:
    assert client.get("/api/facts").json()["total"] == 5
    contracts = client.get("/api/facts", params={"stage": "contract"}).json()["items"]
    assert sorted(f["article"] for f in contracts) == ["contract.txt", "hostile.txt"]
    of_deal = client.get("/api/facts", params={"deal": deal_id(client, "Rafale")}).json()
    assert of_deal["total"] == 2
    of_article = client.get("/api/facts", params={"article": article_id(client, "delivery.txt")})
    assert [f["speaker"] for f in of_article.json()["items"]] == ["Hulusi Akar"]
    dated = client.get("/api/facts", params={"since": "2019-01-01"}).json()["items"]
    assert sorted(f["date"] for f in dated) == ["2019-07-12", "2022-05-03"]


def test_api_facts_pagination(client: TestClient) -> None:
    first = client.get("/api/facts", params={"limit": 2}).json()
    second = client.get(first["next"]).json()
    assert first["total"] == second["total"] == 5
    assert {f["id"] for f in first["items"]}.isdisjoint({f["id"] for f in second["items"]})
    assert second["offset"] == 2


def test_api_articles_newest_first_with_search(client: TestClient) -> None:
    body = client.get("/api/articles").json()
    assert [a["name"] for a in body["items"]] == [
        "himars.txt",
        "delivery.txt",
        "contract.txt",
        "hostile.txt",
        "weather.txt",
    ]
    assert body["items"][-1]["relevant"] is False and body["items"][-1]["n_facts"] == 0
    found = client.get("/api/articles", params={"q": "rain"}).json()["items"]
    assert [a["name"] for a in found] == ["weather.txt"]
    titled = client.get("/api/articles", params={"q": "s-400 ARRIVES"}).json()["items"]
    assert [a["name"] for a in titled] == ["delivery.txt"]


def test_api_article_marks_states_systems_values_and_facts(client: TestClient) -> None:
    body = client.get(f"/api/articles/{article_id(client, 'hostile.txt')}").json()
    assert body["title"] == HOSTILE_TITLE and body["text"] == HOSTILE_TEXT
    entities = {(e["kind"], e["label"], e["text"]) for e in body["entities"]}
    assert ("state", "FRA", "Paris") in entities
    assert ("state", "IND", "New Delhi") in entities
    assert ("value", "8,700,000,000 USD", "$8.7 billion") in entities
    assert any(kind == "system" and label == "Rafale" for kind, label, _ in entities)
    for entity in body["entities"]:
        assert body["text"][entity["start"] : entity["end"]] == entity["text"]
    assert {f["speaker"] for f in body["facts"]} == {HOSTILE_SPEAKER, None}


def test_api_flows_totals_and_counts_by_year_and_stage(client: TestClient) -> None:
    body = client.get("/api/flows").json()
    assert {(f["supplier"], f["recipient"], f["deals"], f["facts"]) for f in body["flows"]} == {
        ("RUS", "TUR", 1, 2),
        ("FRA", "IND", 1, 2),
        ("USA", "POL", 1, 1),
    }
    assert [(c["year"], c["stage"], c["facts"]) for c in body["by_year_stage"]] == [
        (2016, "contract", 1),
        (2016, "delivery", 1),
        (2017, "contract", 1),
        (2019, "delivery", 1),
        (2022, "approval", 1),
    ]
    narrowed = client.get("/api/flows", params={"supplier": "usa"}).json()
    assert [(f["supplier"], f["recipient"]) for f in narrowed["flows"]] == [("USA", "POL")]
    assert [c["year"] for c in narrowed["by_year_stage"]] == [2022]


def test_api_openapi_describes_every_endpoint(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert set(spec["paths"]) == {
        "/api/deals",
        "/api/deals.csv",
        "/api/deals/{deal_id}",
        "/api/facts",
        "/api/articles",
        "/api/articles/{article_id}",
        "/api/flows",
        "/api/rebuild",
        "/api/facts/{fact_id}/review",
        "/api/deals/{deal_id}/merge",
        "/api/deals/{deal_id}/split",
        "/api/reviews",
    }
    names = {p["name"] for p in spec["paths"]["/api/deals"]["get"]["parameters"]}
    assert names >= {"supplier", "category", "stage", "modality", "since", "q", "limit", "sort"}
    answer = spec["paths"]["/api/deals"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"] == {"$ref": "#/components/schemas/DealPageOut"}
    item = spec["components"]["schemas"]["DealSummaryOut"]["properties"]
    assert {"confidence", "n_contradictions", "n_facts", "stage", "quantity"} <= set(item)
    assert "confidence" in item["confidence"]["description"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "GET /api/flows" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/api/deals?limit=0", "limit"),
        ("/api/deals?limit=501", "limit"),
        ("/api/deals?limit=ten", "limit"),
        ("/api/deals?offset=-1", "offset"),
        ("/api/deals?offset=99999999999999999999999", "offset"),
        ("/api/deals?stage=signed", "stage 'signed' is not one of: interest"),
        ("/api/deals?modality=maybe", "modality 'maybe' is not one of: asserted"),
        ("/api/deals?supplier=RU", "supplier 'RU' is not an ISO 3166-1 alpha-3 code"),
        ("/api/deals?recipient=T1R", "recipient 'T1R'"),
        ("/api/deals?since=2020-13-01", "since '2020-13-01' is not a date (YYYY-MM-DD)"),
        ("/api/deals?since=2021-01-01&until=2020-01-01", "since 2021-01-01 is after until"),
        (
            "/api/deals?category=spaceship",
            "category 'spaceship' is not one of: air defence system, aircraft",
        ),
        ("/api/deals?sort=evidence", "sort 'evidence' is not one of: supplier"),
        ("/api/deals?q=" + "x" * 201, "at most 200"),
        ("/api/deals.csv?stage=nope", "stage 'nope'"),
        ("/api/facts?article=first", "article"),
        ("/api/facts?limit=-5", "limit"),
        ("/api/articles?until=yesterday", "until 'yesterday'"),
        ("/api/articles/first", "article_id"),
        ("/api/flows?modality=1", "modality '1'"),
    ],
)
def test_api_bad_parameters_are_400_with_one_error_shape(
    client: TestClient, path: str, fragment: str
) -> None:
    assert_error(client.get(path), 400, "bad_parameter", fragment)


def test_api_missing_things_are_404(client: TestClient) -> None:
    assert_error(client.get("/api/deals/000000000000"), 404, "not_found", "no deal '000000000000'")
    assert_error(client.get("/api/articles/999"), 404, "not_found", "no article 999")
    assert_error(client.get("/api/nothing"), 404, "not_found", "/api/nothing")
    assert_error(client.delete("/api/deals"), 405, "method_not_allowed", "")


def test_api_rebuild_is_refused_without_a_token(client: TestClient) -> None:
    assert_error(client.post("/api/rebuild"), 403, "read_only", "start it with --token")


def test_api_rebuild_needs_the_token_given_at_start(web_db: str) -> None:
    with TestClient(create_app(web_db, token="s3cret")) as writer:
        assert_error(writer.post("/api/rebuild"), 401, "unauthorized", "Bearer")
        wrong = writer.post("/api/rebuild", headers={"Authorization": "Bearer guess"})
        assert_error(wrong, 401, "unauthorized", "token")
        done = writer.post("/api/rebuild", headers={"Authorization": "Bearer s3cret"})
        assert done.status_code == 200 and done.json() == {"deals": 3}
        assert writer.get("/api/deals").json()["total"] == 3


def test_api_empty_register_answers_every_page(tmp_path: Path) -> None:
    with TestClient(create_app(f"sqlite:///{tmp_path / 'empty.db'}")) as empty:
        assert empty.get("/api/deals").json() == {
            "items": [],
            "total": 0,
            "limit": 50,
            "offset": 0,
            "next": None,
        }
        assert empty.get("/api/flows").json() == {"flows": [], "by_year_stage": []}
        for path in ("/", "/flows", "/articles", "/api/docs"):
            assert empty.get(path).status_code == 200, path


# --- the dashboard's HTML -------------------------------------------------------------------


def test_web_pages_answer_and_link_their_json_twin(client: TestClient) -> None:
    rafale = deal_id(client, "Rafale")
    hostile = article_id(client, "hostile.txt")
    for path, twin in [
        ("/", "/api/deals"),
        ("/?supplier=rus&amp;sort=system", "/api/deals?supplier=rus&amp;sort=system"),
        (f"/deals/{rafale}", f"/api/deals/{rafale}"),
        ("/articles", "/api/articles"),
        (f"/articles/{hostile}", f"/api/articles/{hostile}"),
        ("/flows", "/api/flows"),
    ]:
        response = client.get(path.replace("&amp;", "&"))
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert f'class="twin" href="{twin}"' in response.text, path


def test_web_register_shows_confidence_and_contradictions(contested: TestClient) -> None:
    page = contested.get("/", params={"sort": "-n_contradictions"}).text
    assert 'href="?sort=n_contradictions">Contradictions ▼</a>' in page
    assert 'href="?sort=-confidence">Confidence</a>' in page
    rows = page.split("<tbody>")[1].split("</tr>")
    assert '<td class="confidence">0.40</td>' in rows[0]
    assert '<span class="contradicted">1</span>' in rows[0]
    assert '<td class="confidence">0.80</td>' in rows[1]
    assert '<td class="contradictions">0</td>' in rows[1]
    assert f">{FORMULA_SYSTEM}</a>" in html.unescape(rows[1])


def test_web_deal_page_shows_confidence_sources_and_contradictions(
    contested: TestClient,
) -> None:
    ids = {d["system"]: d["id"] for d in contested.get("/api/deals").json()["items"]}
    deal = contested.get(f"/api/deals/{ids['S-400']}").json()
    page = contested.get(f"/deals/{ids['S-400']}").text
    assert '<dd id="deal-confidence">0.40</dd>' in page
    corroboration = page.split('id="deal-corroboration">')[1].split("</dd>")[0]
    for c in deal["corroboration"]:
        assert f'stage-{c["stage"]}">{c["stage"]}</span> {c["sources"]}' in corroboration
    (contradiction,) = deal["contradictions"]
    listed = page.split('id="contradictions">')[1].split("</ul>")[0]
    assert listed.count("<li") == 1
    assert f'denial: <span class="stage stage-{contradiction["stage"]}">' in listed
    other = contested.get(f"/deals/{ids[FORMULA_SYSTEM]}").text
    assert 'id="contradictions"' not in other


@pytest.mark.parametrize(
    "params",
    [
        "stage=signed",
        "supplier=RU",
        "since=2020-13-01",
        "since=2021-01-01&until=2020-01-01",
        "category=spaceship",
        "sort=evidence",
        "q=" + "x" * 201,
    ],
)
def test_web_and_api_refuse_a_bad_parameter_with_one_message(
    client: TestClient, params: str
) -> None:
    """The dashboard and the API read their parameters with one parser."""
    message = client.get(f"/api/deals?{params}").json()["error"]["message"]
    page = client.get(f"/?{params}")
    assert page.status_code == 400
    assert message in html.unescape(page.text)


def test_web_never_renders_article_text_as_markup(client: TestClient) -> None:
    rafale = deal_id(client, "Rafale")
    hostile = article_id(client, "hostile.txt")
    for path in ("/", f"/deals/{rafale}", "/articles", f"/articles/{hostile}", "/?q=onerror"):
        html = client.get(path).text
        assert "<script>document" not in html, path
        assert "<img src=x" not in html, path
        assert "<b>Hostile</b>" not in html and "<i>Outlet</i>" not in html, path
        assert 'href="javascript:' not in html, path
    page = client.get(f"/articles/{hostile}").text
    assert "&lt;script&gt;document.body.dataset.pwned = &#34;title&#34;&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page


def test_web_templates_escape_everything_and_pages_forbid_inline_script(
    client: TestClient,
) -> None:
    assert templates.env.autoescape is True
    policy = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.get("/api/deals").headers["x-content-type-options"] == "nosniff"


def test_web_bad_parameters_show_the_error_on_a_page(client: TestClient) -> None:
    response = client.get("/?stage=signed")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "stage &#39;signed&#39; is not one of" in response.text
    assert client.get("/deals/nothing").status_code == 404
    assert client.get("/articles/first").status_code == 400
    assert "no such page: /missing" in client.get("/missing").text


def test_web_static_files_are_served_from_the_package(client: TestClient) -> None:
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "textContent" in script.text
    assert "innerHTML" not in script.text
    assert client.get("/static/style.css").status_code == 200
