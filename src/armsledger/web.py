"""The dashboard: the register, a deal, an article and the flows, as HTML pages.

Pages are rendered on the server from the Jinja2 templates in ``armsledger/templates`` and
styled and scripted by the files in ``armsledger/static``: nothing is fetched from another
host, so the dashboard works on a machine with no network.

Article text, titles, speakers and URLs are untrusted: the Jinja2 environment escapes every
value (autoescape is on for every template, whatever its name), a URL becomes a link only
when it is ``http`` or ``https``, and the small script in ``static/app.js`` writes data with
``textContent`` only. The flow diagram is plain SVG laid out here, on the server.

The request parameters every list shares (filters, paging, sorting) are read here once, as
FastAPI dependencies (``FiltersDep``, ``PagingDep``, ``SortingDep``), so the JSON API
(:mod:`armsledger.api`) and the pages read them alike and refuse them with the same messages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode, urlsplit

import jinja2
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from armsledger.catalog import CATEGORIES, load_catalog
from armsledger.errors import InputError
from armsledger.extract.mentions import STATE_KINDS, mention_finder
from armsledger.model import Modality, Span, Stage
from armsledger.parse import find_money
from armsledger.segment import fold_text, normalize_text
from armsledger.store import DEAL_SORTS, Filters, Register, StoredFact

__all__ = [
    "STATIC_DIR",
    "Entity",
    "FiltersDep",
    "Paging",
    "PagingDep",
    "Segment",
    "Sorting",
    "SortingDep",
    "find_entities",
    "flow_diagram",
    "mark_text",
    "paging",
    "parse_filters",
    "read_filters",
    "render_error",
    "router",
    "sorting",
]

_PACKAGE = Path(__file__).resolve().parent
TEMPLATES_DIR = _PACKAGE / "templates"
STATIC_DIR = _PACKAGE / "static"

#: Longest text search accepted: a search is a phrase, not a document.
MAX_SEARCH = 200

#: Most rows one page of a list may hold (API and dashboard alike).
MAX_LIMIT = 500

#: Largest offset accepted: far past any register, and well inside SQL's 64-bit integers.
MAX_OFFSET = 1_000_000_000

_ISO3 = re.compile(r"^[A-Za-z]{3}$")

_E = TypeVar("_E", Stage, Modality)


# --- parameters shared by the API and the pages --------------------------------------------


def _blank(value: str | None) -> str | None:
    """A form's empty field is no filter."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _date(name: str, value: str | None) -> dt.date | None:
    value = _blank(value)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


def _choice(name: str, value: str | None, kind: type[_E]) -> _E | None:
    value = _blank(value)
    if value is None:
        return None
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InputError(f"{name} {value!r} is not one of: {allowed}") from None


def _state(name: str, value: str | None) -> str | None:
    value = _blank(value)
    if value is None:
        return None
    if not _ISO3.match(value):
        raise InputError(
            f"{name} {value!r} is not an ISO 3166-1 alpha-3 code (three letters, e.g. RUS)"
        )
    return value.upper()


def parse_filters(params: Mapping[str, str | None]) -> Filters:
    """Filters from request parameters; empty values are no filter.

    Parameters: ``supplier``, ``recipient`` (ISO 3166-1 alpha-3, any case), ``system``
    (canonical designation), ``category`` (a catalog category: its systems), ``stage``,
    ``modality``, ``since`` and ``until`` (YYYY-MM-DD) and ``q`` (text search).

    Raises:
        InputError: a value is not of its kind; the message names the parameter, the value
            and what is allowed.
    """
    category = _blank(params.get("category"))
    systems: tuple[str, ...] | None = None
    if category is not None:
        category = category.lower()
        if category not in CATEGORIES:
            allowed = ", ".join(sorted(CATEGORIES))
            raise InputError(f"category {category!r} is not one of: {allowed}")
        systems = tuple(
            sorted(s.name for s in load_catalog().systems.values() if s.category == category)
        )
    text = _blank(params.get("q"))
    if text is not None and len(text) > MAX_SEARCH:
        raise InputError(f"q is {len(text)} characters long; at most {MAX_SEARCH} are searched")
    since = _date("since", params.get("since"))
    until = _date("until", params.get("until"))
    if since is not None and until is not None and since > until:
        raise InputError(f"since {since} is after until {until}")
    return Filters(
        supplier=_state("supplier", params.get("supplier")),
        recipient=_state("recipient", params.get("recipient")),
        system=_blank(params.get("system")),
        systems=systems,
        stage=_choice("stage", params.get("stage"), Stage),
        modality=_choice("modality", params.get("modality"), Modality),
        since=since,
        until=until,
        text=text,
    )


def read_filters(
    supplier: Annotated[
        str | None, Query(description="Supplier, ISO 3166-1 alpha-3 (RUS).")
    ] = None,
    recipient: Annotated[
        str | None, Query(description="Recipient, ISO 3166-1 alpha-3 (TUR).")
    ] = None,
    system: Annotated[
        str | None, Query(description="Weapon system, canonical designation (S-400).")
    ] = None,
    category: Annotated[
        str | None,
        Query(description="Category of system: " + ", ".join(sorted(CATEGORIES)) + "."),
    ] = None,
    stage: Annotated[
        str | None,
        Query(
            description="Stage (a deal's current stage, a fact's own): "
            + ", ".join(s.value for s in Stage)
            + "."
        ),
    ] = None,
    modality: Annotated[
        str | None,
        Query(description="Modality: " + ", ".join(m.value for m in Modality) + "."),
    ] = None,
    since: Annotated[str | None, Query(description="On or after this date, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, Query(description="On or before this date, YYYY-MM-DD.")] = None,
    q: Annotated[
        str | None, Query(description="Text searched in evidence, speakers, systems, states.")
    ] = None,
) -> Filters:
    """The filters of a request (a FastAPI dependency); see :func:`parse_filters`."""
    return parse_filters(
        {
            "supplier": supplier,
            "recipient": recipient,
            "system": system,
            "category": category,
            "stage": stage,
            "modality": modality,
            "since": since,
            "until": until,
            "q": q,
        }
    )


@dataclass(frozen=True, slots=True)
class Paging:
    """Which page of a list: ``limit`` rows from ``offset`` on."""

    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")] = 0,
) -> Paging:
    """The page a request asks for (a FastAPI dependency)."""
    return Paging(limit, offset)


@dataclass(frozen=True, slots=True)
class Sorting:
    """A deal list's order: a column of :data:`armsledger.store.DEAL_SORTS`, and direction."""

    column: str
    descending: bool

    @property
    def param(self) -> str:
        return f"-{self.column}" if self.descending else self.column


def sorting(
    sort: Annotated[
        str,
        Query(description="Sort column, '-' first for descending: " + ", ".join(DEAL_SORTS) + "."),
    ] = "-last_seen",
) -> Sorting:
    """The order a request asks for (a FastAPI dependency).

    Raises:
        InputError: the column is not one a deal list sorts by.
    """
    column = sort.strip().removeprefix("-")
    if column not in DEAL_SORTS:
        raise InputError(f"sort {sort!r} is not one of: {', '.join(DEAL_SORTS)} (- for descending)")
    return Sorting(column, sort.strip().startswith("-"))


#: A route's parameters, read by the dependencies above: the API and the pages declare these.
FiltersDep = Annotated[Filters, Depends(read_filters)]
PagingDep = Annotated[Paging, Depends(paging)]
SortingDep = Annotated[Sorting, Depends(sorting)]


# --- marking an article's text --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entity:
    """Something recognised in an article's text at ``[start, end)``.

    ``kind`` is ``state``, ``system``, ``class`` (a kind of weapon) or ``value`` (money);
    ``label`` is what it stands for: a state's code, a system's designation, a class's
    category or the amount and currency read.
    """

    start: int
    end: int
    kind: str
    label: str
    text: str


def find_entities(text: str) -> list[Entity]:
    """The states, systems, weapon classes and amounts of money the catalog finds in a text.

    The same mention finder as the extractor's (one pass of its automaton), and the same
    money reader, so what is marked is what the rules saw. Overlaps keep the first found.
    """
    found: list[Entity] = []
    for mention in mention_finder(load_catalog()).find(normalize_text(text), fold_text(text)):
        if mention.kind == "system":
            kind = "system"
        elif mention.kind == "class":
            kind = "class"
        elif mention.kind in STATE_KINDS:
            kind = "state"
        else:
            continue
        found.append(
            Entity(
                mention.start, mention.end, kind, mention.target, text[mention.start : mention.end]
            )
        )
    for money in find_money(text):
        value = money.value
        label = f"{'~' if value.approximate else ''}{value.amount:,.0f} {value.currency}"
        found.append(Entity(money.span.start, money.span.end, "value", label, money.span.text))
    taken: list[Entity] = []
    for entity in sorted(found, key=lambda e: (e.start, e.start - e.end)):
        if not taken or entity.start >= taken[-1].end:
            taken.append(entity)
    return taken


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of an article's text with one set of marks, for a template to draw.

    ``entity`` is the entity the run is part of; ``label`` is set on an entity's last run
    (where its label is drawn); ``facts`` are the numbers of the facts whose evidence covers
    the run, and ``anchors`` those whose evidence starts here.
    """

    text: str
    entity: Entity | None = None
    label: str | None = None
    facts: tuple[int, ...] = ()
    anchors: tuple[int, ...] = ()


def mark_text(
    text: str, entities: Sequence[Entity], evidence: Sequence[tuple[int, Span]]
) -> list[Segment]:
    """Cut ``text`` into runs at every entity and evidence boundary.

    Args:
        text: the article's text.
        entities: non-overlapping entities (:func:`find_entities`).
        evidence: ``(fact number, span)`` pairs; spans may overlap each other.
    """
    cuts = {0, len(text)}
    for found in entities:
        cuts.update((found.start, found.end))
    for _, span in evidence:
        cuts.update((span.start, span.end))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    ordered = sorted(entities, key=lambda e: e.start)
    segments: list[Segment] = []
    index = 0
    for start, end in zip(points, points[1:], strict=False):
        while index < len(ordered) and ordered[index].end <= start:
            index += 1
        entity = ordered[index] if index < len(ordered) and ordered[index].start <= start else None
        covering = tuple(sorted({n for n, s in evidence if s.start <= start and end <= s.end}))
        anchors = tuple(sorted({n for n, s in evidence if s.start == start}))
        segments.append(
            Segment(
                text=text[start:end],
                entity=entity,
                label=entity.label if entity is not None and entity.end == end else None,
                facts=covering,
                anchors=anchors,
            )
        )
    return segments


# --- the flow diagram -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowNode:
    """A state on one side of the diagram, as a bar at ``y`` of ``height``."""

    code: str
    name: str
    x: float
    y: float
    height: float
    deals: int


@dataclass(frozen=True, slots=True)
class FlowBand:
    """A band from a supplier's bar to a recipient's, its width the number of deals."""

    supplier: str
    recipient: str
    deals: int
    facts: int
    path: str


@dataclass(frozen=True, slots=True)
class FlowDiagram:
    """A Sankey diagram of who supplies whom, in SVG user units."""

    width: float
    height: float
    suppliers: tuple[FlowNode, ...]
    recipients: tuple[FlowNode, ...]
    bands: tuple[FlowBand, ...]


#: Diagram size and spacing in SVG units: wide enough for a three-letter label each side.
_WIDTH, _NODE_WIDTH, _GAP, _PER_DEAL_MAX, _MIN_HEIGHT = 760.0, 14.0, 8.0, 24.0, 360.0


def flow_diagram(flows: Iterable[Any], names: Mapping[str, str] | None = None) -> FlowDiagram:
    """Lay out flows (``supplier``, ``recipient``, ``deals``, ``facts``) as a Sankey diagram.

    Suppliers stand on the left and recipients on the right, each sorted by deals; a band's
    thickness is its number of deals. An unknown state is drawn as ``?``.
    """
    rows = [f for f in flows if f.deals > 0]
    names = names or {}
    out_total: dict[str, int] = {}
    in_total: dict[str, int] = {}
    for flow in rows:
        out_total[flow.supplier or "?"] = out_total.get(flow.supplier or "?", 0) + flow.deals
        in_total[flow.recipient or "?"] = in_total.get(flow.recipient or "?", 0) + flow.deals
    total = sum(out_total.values())
    if not total:
        return FlowDiagram(_WIDTH, 80.0, (), (), ())
    most = max(len(out_total), len(in_total))
    scale = min(_PER_DEAL_MAX, max(_MIN_HEIGHT, most * 30.0) / total)
    height = total * scale + (most - 1) * _GAP + 2 * _GAP

    def column(totals: dict[str, int], x: float) -> dict[str, FlowNode]:
        nodes: dict[str, FlowNode] = {}
        y = _GAP
        for code, deals in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
            nodes[code] = FlowNode(code, names.get(code, code), x, y, deals * scale, deals)
            y += deals * scale + _GAP
        return nodes

    left = column(out_total, 120.0)
    right = column(in_total, _WIDTH - 120.0 - _NODE_WIDTH)

    # Bands leave a supplier in the order of their recipients and reach a recipient in the
    # order of their suppliers, which keeps crossings few.
    def ends(flow: Any) -> tuple[FlowNode, FlowNode]:
        return left[flow.supplier or "?"], right[flow.recipient or "?"]

    starts: dict[int, float] = {}
    used = dict.fromkeys(left, 0.0)
    for i, flow in sorted(enumerate(rows), key=lambda item: ends(item[1])[1].y):
        source = ends(flow)[0]
        starts[i] = source.y + used[source.code]
        used[source.code] += flow.deals * scale
    arrivals: dict[int, float] = {}
    used = dict.fromkeys(right, 0.0)
    for i, flow in sorted(enumerate(rows), key=lambda item: ends(item[1])[0].y):
        target = ends(flow)[1]
        arrivals[i] = target.y + used[target.code]
        used[target.code] += flow.deals * scale
    bands: list[FlowBand] = []
    for i, flow in enumerate(rows):
        source, target = ends(flow)
        thickness = flow.deals * scale
        y0, y1 = starts[i], arrivals[i]
        x0, x1 = source.x + _NODE_WIDTH, target.x
        mid = (x0 + x1) / 2
        path = (
            f"M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f} "
            f"L{x1:.1f},{y1 + thickness:.1f} "
            f"C{mid:.1f},{y1 + thickness:.1f} {mid:.1f},{y0 + thickness:.1f} "
            f"{x0:.1f},{y0 + thickness:.1f} Z"
        )
        bands.append(FlowBand(source.code, target.code, flow.deals, flow.facts, path))
    return FlowDiagram(_WIDTH, height, tuple(left.values()), tuple(right.values()), tuple(bands))


# --- rendering ------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    """Templates from the package; every value escaped, whatever the template's name."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        stages=[s.value for s in Stage],
        modalities=[m.value for m in Modality],
        categories=sorted(CATEGORIES),
        sorts=DEAL_SORTS,
    )
    env.filters["safe_url"] = safe_url
    env.filters["amount"] = _amount
    return env


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute ``http`` or ``https`` URL, else ``None`` (never a link)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _amount(value: Any) -> str:
    if value is None:
        return ""
    prefix = "~" if value.approximate else ""
    return f"{prefix}{value.amount:,.0f} {value.currency}"


templates = Jinja2Templates(env=_environment())


def _query(request: Request, **changes: Any) -> str:
    """The request's query string with ``changes`` applied (``None`` drops a parameter)."""
    params = {k: v for k, v in request.query_params.items() if v != ""}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return ("?" + urlencode(params)) if params else ""


def _register(request: Request) -> Register:
    register: Register = request.app.state.register
    return register


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {"query": lambda **c: _query(request, **c), **context},
        status_code=status_code,
    )


def render_error(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    """An error as a dashboard page, with the same code and message as the API's JSON."""
    return _page(request, "error.html", status, status=status, code=code, message=message)


router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def register_page(
    request: Request, filters: FiltersDep, page: PagingDep, order: SortingDep
) -> HTMLResponse:
    """The register: every deal, filtered, searched, sorted and a page at a time."""
    found = _register(request).query_deals(
        filters,
        sort=order.column,
        descending=order.descending,
        limit=page.limit,
        offset=page.offset,
    )
    return _page(
        request,
        "deals.html",
        page=found,
        order=order,
        params=request.query_params,
        twin="/api/deals" + _query(request),
        csv="/api/deals.csv" + _query(request, limit=None, offset=None),
    )


@router.get("/deals/{deal_id}", response_class=HTMLResponse)
def deal_page(request: Request, deal_id: str) -> HTMLResponse:
    """A deal: its timeline, and every evidence sentence marked inside its article."""
    register = _register(request)
    deal = register.get_deal(deal_id)
    if deal is None:
        return render_error(request, 404, "not_found", f"no deal {deal_id!r} in the register")
    stored = register.query_facts(deal_id=deal_id, limit=MAX_LIMIT).items
    sources = []
    for article_row, numbered in _by_article(stored).items():
        article = register.get_article(article_row)
        if article is None:
            continue
        evidence = [(n, span) for n, fact in numbered for span in fact.fact.spans]
        sources.append(
            {
                "id": article_row,
                "article": article,
                "facts": numbered,
                "segments": mark_text(article.text, [], evidence),
            }
        )
    rows = {fact.article_name: fact.article for fact in stored}
    return _page(
        request,
        "deal.html",
        deal=deal,
        facts=stored,
        sources=sources,
        article_rows=rows,
        twin=f"/api/deals/{deal_id}",
    )


def _by_article(stored: Sequence[StoredFact]) -> dict[int, list[tuple[int, StoredFact]]]:
    """Facts numbered from 1 in order, grouped by their article's row."""
    grouped: dict[int, list[tuple[int, StoredFact]]] = {}
    for number, fact in enumerate(stored, start=1):
        grouped.setdefault(fact.article, []).append((number, fact))
    return grouped


@router.get("/articles", response_class=HTMLResponse)
def articles_page(request: Request, filters: FiltersDep, page: PagingDep) -> HTMLResponse:
    """The articles read, newest first, searched by title and text."""
    found = _register(request).query_articles(filters, limit=page.limit, offset=page.offset)
    return _page(
        request,
        "articles.html",
        page=found,
        params=request.query_params,
        twin="/api/articles" + _query(request),
    )


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: int) -> HTMLResponse:
    """An article's text with its states, systems, values and facts marked."""
    register = _register(request)
    article = register.get_article(article_id)
    if article is None:
        return render_error(request, 404, "not_found", f"no article {article_id} in the register")
    stored = register.query_facts(article=article_id, limit=MAX_LIMIT).items
    evidence = [(n, span) for n, fact in enumerate(stored, start=1) for span in fact.fact.spans]
    return _page(
        request,
        "article.html",
        article=article,
        article_id=article_id,
        facts=list(enumerate(stored, start=1)),
        segments=mark_text(article.text, find_entities(article.text), evidence),
        twin=f"/api/articles/{article_id}",
    )


@router.get("/flows", response_class=HTMLResponse)
def flows_page(request: Request, filters: FiltersDep) -> HTMLResponse:
    """Who supplies whom, as a Sankey diagram, and facts by year and stage."""
    register = _register(request)
    flows = register.query_flows(filters)
    catalog = load_catalog()
    names = {code: state.name for code, state in catalog.states.items()}
    counts = register.count_by_year_and_stage(filters)
    years = sorted({c.year for c in counts}, key=lambda y: (y is None, y or 0))
    stages = [s for s in Stage if any(c.stage is s for c in counts)]
    table = {(c.year, c.stage): c.facts for c in counts}
    return _page(
        request,
        "flows.html",
        flows=flows,
        diagram=flow_diagram(flows[:60], names),
        years=years,
        year_stages=stages,
        table=table,
        params=request.query_params,
        twin="/api/flows" + _query(request),
    )
