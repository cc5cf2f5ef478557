"""The register over HTTP: a JSON API and the dashboard, in one FastAPI application.

:func:`create_app` opens the register once and serves, read-only:

``GET /api/deals``, ``/api/deals.csv``, ``/api/deals/{id}``
    deals (filtered, sorted, paged; as CSV; one deal with its timeline and facts);
``GET /api/facts``, ``/api/articles``, ``/api/articles/{id}``
    facts with their evidence spans; articles, one with its text and what was found in it;
``GET /api/flows``
    deals and facts per supplier and recipient, and facts by year and stage;
``GET /api/openapi.json``, ``/api/docs``
    the OpenAPI description, and a page listing the endpoints (served from here, no CDN);
``POST /api/rebuild``
    recomputes every deal from the facts;
``POST /api/facts/{id}/review``, ``/api/deals/{id}/merge``, ``/api/deals/{id}/split``
    an analyst's review (as ``armsledger review``): confirm, reject or edit a fact, merge or
    split deals, with who and why in the audit trail. Every write needs the token given at
    start-up (``Authorization: Bearer TOKEN``) and is refused when none was given.

Every page of the dashboard (:mod:`armsledger.web`) has a JSON twin here, taking the same
parameters. Errors share one shape, ``{"error": {"code": ..., "message": ...}}`` (as
datasette answers), with a 4xx status for anything wrong in the request; on a dashboard
page the same code and message are shown as HTML.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from armsledger import __version__
from armsledger.errors import ArmsLedgerError, InputError, StoreError
from armsledger.model import Article, Stage
from armsledger.serialize import (
    deal_to_dict,
    fact_to_dict,
    guard_csv_row,
    quantity_to_dict,
    value_to_dict,
)
from armsledger.store import (
    ArticleSummary,
    DealSummary,
    Page,
    Register,
    StoredFact,
)
from armsledger.web import (
    MAX_LIMIT,
    STATIC_DIR,
    FiltersDep,
    PagingDep,
    SortingDep,
    find_entities,
    render_error,
    router,
    templates,
)

__all__ = ["create_app"]

#: Rows read per query while writing a CSV download.
_CSV_CHUNK = 1000

#: Headers on every answer. The policy lets pages load only this server's own files and no
#: inline script, so even a value that escaped escaping could not run.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

#: Error codes by HTTP status, for errors that do not bring their own.
_CODES = {
    400: "bad_parameter",
    401: "unauthorized",
    403: "read_only",
    404: "not_found",
    405: "method_not_allowed",
    503: "store_unavailable",
}


def create_app(db_url: str, *, token: str | None = None) -> FastAPI:
    """The application serving the register at ``db_url``: JSON API and dashboard.

    Args:
        db_url: an SQLAlchemy URL (see :func:`armsledger.config.resolve_db_url`).
        token: the secret that write endpoints require; ``None`` (the default) makes the
            server read-only.

    Raises:
        StoreError: the register cannot be opened.
    """
    register = Register(db_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        register.close()

    app = FastAPI(
        title="armsledger",
        version=__version__,
        description="An evidence-linked register of arms transfers between states.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.register = register
    app.state.token = token
    _install_errors(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(_SECURITY_HEADERS)
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.include_router(_api(), prefix="/api")
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


# --- errors ---------------------------------------------------------------------------------


def _error(request: Request, status: int, code: str, message: str) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
    return render_error(request, status, code, message)


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("query", "path"))
        got = problem.get("input")
        shown = f" (got {got!r})" if isinstance(got, str | int) else ""
        parts.append(f"{where or 'request'}: {problem.get('msg', 'invalid')}{shown}")
    return "; ".join(parts)


def _install_errors(app: FastAPI) -> None:
    """One error shape for every failure, JSON under ``/api`` and HTML elsewhere."""

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, error: RequestValidationError) -> Response:
        return _error(request, 400, "bad_parameter", _validation_message(error))

    @app.exception_handler(InputError)
    async def on_input(request: Request, error: InputError) -> Response:
        return _error(request, 400, "bad_parameter", str(error))

    @app.exception_handler(StoreError)
    async def on_store(request: Request, error: StoreError) -> Response:
        return _error(request, 503, "store_unavailable", str(error))

    @app.exception_handler(ArmsLedgerError)
    async def on_other(request: Request, error: ArmsLedgerError) -> Response:
        return _error(request, 500, "internal", str(error))

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, error: HTTPException) -> Response:
        code = _CODES.get(error.status_code, "http_error")
        message = str(error.detail)
        if error.status_code == 404 and message == "Not Found":
            message = f"no such page: {request.url.path}"
        response = _error(request, error.status_code, code, message)
        if error.headers:
            response.headers.update(error.headers)
        return response

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, error: Exception) -> Response:
        return _error(request, 500, "internal", f"internal error ({type(error).__name__})")


# --- JSON -----------------------------------------------------------------------------------


def _page_dict(page: Page[Any], items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    following = page.offset + page.limit
    next_url = None
    if following < page.total:
        params = dict(request.query_params)
        params["offset"] = str(following)
        next_url = str(request.url.replace_query_params(**params))
    return {
        "items": items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next": next_url,
    }


def _summary_dict(deal: DealSummary) -> dict[str, Any]:
    return {
        "id": deal.id,
        "supplier": deal.supplier,
        "recipient": deal.recipient,
        "system": deal.system,
        "lot": deal.lot,
        "stage": str(deal.stage) if deal.stage is not None else None,
        "quantity": quantity_to_dict(deal.quantity),
        "value": value_to_dict(deal.value),
        "first_seen": deal.first_seen.isoformat() if deal.first_seen else None,
        "last_seen": deal.last_seen.isoformat() if deal.last_seen else None,
        "n_facts": deal.n_facts,
        "n_articles": deal.n_articles,
        "confidence": deal.confidence,
        "n_contradictions": deal.n_contradictions,
    }


class QuantityOut(BaseModel):
    """How many were stated: FORMAT.md's ``quantity``."""

    count: int
    unit: str


class ValueOut(BaseModel):
    """What it was said to be worth: FORMAT.md's ``value``."""

    amount: float
    currency: str
    approximate: bool


class DealSummaryOut(BaseModel):
    """A deal in a list: its summary, without the timeline ``/api/deals/{id}`` gives."""

    id: str
    supplier: str | None
    recipient: str | None
    system: str | None
    lot: int
    stage: Stage | None
    quantity: QuantityOut | None
    value: ValueOut | None
    first_seen: dt.date | None
    last_seen: dt.date | None
    n_facts: int
    n_articles: int
    confidence: float | None = Field(
        description="How sure the register is of the deal's current stage, 0 to 1; "
        "the same as the deal's own confidence."
    )
    n_contradictions: int = Field(
        description="How many pairs of sources contradict each other about the deal "
        "(the length of the deal's contradictions)."
    )


class DealPageOut(BaseModel):
    """One page of deals, and where the next one is."""

    items: list[DealSummaryOut]
    total: int
    limit: int
    offset: int
    next: str | None = Field(description="The next page's URL; null on the last page.")


def _fact_dict(stored: StoredFact) -> dict[str, Any]:
    return {
        "id": stored.id,
        "article": stored.article_name,
        "article_id": stored.article,
        "deal": stored.deal_id,
        "date": stored.date.isoformat() if stored.date else None,
        **fact_to_dict(stored.fact),
        "spans": [
            {"start": span.start, "end": span.end, "text": span.text} for span in stored.fact.spans
        ],
    }


def _article_summary_dict(article: ArticleSummary) -> dict[str, Any]:
    return {
        "id": article.id,
        "name": article.name,
        "title": article.title,
        "outlet": article.outlet,
        "date": article.date.isoformat() if article.date else None,
        "url": article.url,
        "relevant": article.relevant,
        "n_facts": article.n_facts,
    }


def _article_dict(row_id: int, article: Article, found: list[StoredFact]) -> dict[str, Any]:
    return {
        "id": row_id,
        "name": article.id,
        "title": article.title,
        "outlet": article.outlet,
        "date": article.date.isoformat() if article.date else None,
        "url": article.url,
        "language": article.language,
        "text": article.text,
        "entities": [
            {"start": e.start, "end": e.end, "kind": e.kind, "label": e.label, "text": e.text}
            for e in find_entities(article.text)
        ],
        "facts": [_fact_dict(fact) for fact in found],
    }


#: Columns of the deals CSV: the summary's fields, quantity and value flattened as ``export``
#: flattens them.
_CSV_COLUMNS = (
    "id",
    "supplier",
    "recipient",
    "system",
    "lot",
    "stage",
    "quantity_count",
    "quantity_unit",
    "value_amount",
    "value_currency",
    "value_approximate",
    "first_seen",
    "last_seen",
    "n_facts",
    "n_articles",
    "confidence",
    "n_contradictions",
)


def _csv_row(deal: DealSummary) -> list[Any]:
    return [
        deal.id,
        deal.supplier,
        deal.recipient,
        deal.system,
        deal.lot,
        deal.stage,
        deal.quantity.count if deal.quantity else None,
        deal.quantity.unit if deal.quantity else None,
        deal.value.amount if deal.value else None,
        deal.value.currency if deal.value else None,
        deal.value.approximate if deal.value else None,
        deal.first_seen,
        deal.last_seen,
        deal.n_facts,
        deal.n_articles,
        deal.confidence,
        deal.n_contradictions,
    ]


def _register(request: Request) -> Register:
    register: Register = request.app.state.register
    return register


def _api() -> APIRouter:
    """The JSON endpoints, to be mounted under ``/api``."""
    api = APIRouter()

    @api.get("/deals", summary="Deals, filtered, sorted and paged", response_model=DealPageOut)
    def list_deals(
        request: Request, filters: FiltersDep, page: PagingDep, order: SortingDep
    ) -> dict[str, Any]:
        found = _register(request).query_deals(
            filters,
            sort=order.column,
            descending=order.descending,
            limit=page.limit,
            offset=page.offset,
        )
        return _page_dict(found, [_summary_dict(d) for d in found.items], request)

    @api.get(
        "/deals.csv",
        summary="Every deal matching the filters, as CSV",
        response_class=StreamingResponse,
    )
    def deals_csv(request: Request, filters: FiltersDep, order: SortingDep) -> StreamingResponse:
        register = _register(request)
        first = register.query_deals(
            filters, sort=order.column, descending=order.descending, limit=_CSV_CHUNK
        )

        def rows() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(_CSV_COLUMNS)
            page = first
            while True:
                for deal in page.items:
                    writer.writerow(guard_csv_row(_csv_row(deal)))
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                following = page.offset + page.limit
                if following >= page.total or not page.items:
                    return
                page = register.query_deals(
                    filters,
                    sort=order.column,
                    descending=order.descending,
                    limit=_CSV_CHUNK,
                    offset=following,
                )

        return StreamingResponse(
            rows(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="deals.csv"'},
        )

    @api.get("/deals/{deal_id}", summary="One deal: its timeline and every fact with evidence")
    def get_deal(request: Request, deal_id: str) -> dict[str, Any]:
        register = _register(request)
        deal = register.get_deal(deal_id)
        if deal is None:
            raise HTTPException(404, f"no deal {deal_id!r} in the register")
        found = register.query_facts(deal_id=deal_id, limit=MAX_LIMIT)
        return {**deal_to_dict(deal), "facts": [_fact_dict(f) for f in found.items]}

    @api.get("/facts", summary="Facts with their evidence spans, filtered and paged")
    def list_facts(
        request: Request,
        filters: FiltersDep,
        page: PagingDep,
        deal: Annotated[
            str | None, Query(description="Only the facts of this deal (its id).")
        ] = None,
        article: Annotated[
            int | None, Query(description="Only the facts of this article (its id).")
        ] = None,
    ) -> dict[str, Any]:
        found = _register(request).query_facts(
            filters, deal_id=deal or None, article=article, limit=page.limit, offset=page.offset
        )
        return _page_dict(found, [_fact_dict(f) for f in found.items], request)

    @api.get("/articles", summary="Articles (no text), newest first, filtered and paged")
    def list_articles(request: Request, filters: FiltersDep, page: PagingDep) -> dict[str, Any]:
        found = _register(request).query_articles(filters, limit=page.limit, offset=page.offset)
        return _page_dict(found, [_article_summary_dict(a) for a in found.items], request)

    @api.get("/articles/{article_id}", summary="One article: text, entities and facts")
    def get_article(request: Request, article_id: int) -> dict[str, Any]:
        register = _register(request)
        article = register.get_article(article_id)
        if article is None:
            raise HTTPException(404, f"no article {article_id} in the register")
        found = register.query_facts(article=article_id, limit=MAX_LIMIT)
        return _article_dict(article_id, article, list(found.items))

    @api.get("/flows", summary="Deals and facts per supplier and recipient; facts by year")
    def flows(request: Request, filters: FiltersDep) -> dict[str, Any]:
        register = _register(request)
        return {
            "flows": [
                {
                    "supplier": f.supplier,
                    "recipient": f.recipient,
                    "deals": f.deals,
                    "facts": f.facts,
                }
                for f in register.query_flows(filters)
            ],
            "by_year_stage": [
                {"year": c.year, "stage": str(c.stage), "facts": c.facts}
                for c in register.count_by_year_and_stage(filters)
            ],
        }

    @api.post("/rebuild", summary="Recompute every deal from the facts (needs the token)")
    def rebuild(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        _check_token(request.app.state.token, authorization)
        return {"deals": _register(request).rebuild_deals()}

    @api.post("/facts/{fact_id}/review", summary="Review a fact (needs the token)")
    def review_fact(
        request: Request,
        fact_id: int,
        body: FactReview,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        _check_token(request.app.state.token, authorization)
        done = _register(request).review_fact(
            fact_id, body.action, by=body.by, why=body.why, changes=body.changes
        )
        return _review_dict(done)

    @api.post("/deals/{deal_id}/merge", summary="Merge a deal into another (needs the token)")
    def merge_deal(
        request: Request,
        deal_id: str,
        body: DealMerge,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        _check_token(request.app.state.token, authorization)
        moved = _register(request).merge_deal(deal_id, body.into, by=body.by, why=body.why)
        return {"deal": body.into, "moved": moved}

    @api.post("/deals/{deal_id}/split", summary="Split facts off a deal (needs the token)")
    def split_deal(
        request: Request,
        deal_id: str,
        body: DealSplit,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        _check_token(request.app.state.token, authorization)
        new = _register(request).split_deal(
            deal_id, body.facts, lot=body.lot, by=body.by, why=body.why
        )
        return {"deal": new, "moved": len(body.facts)}

    @api.get("/reviews", summary="The analyst's reviews, oldest first: the audit trail")
    def list_reviews(request: Request, deal: str | None = None) -> dict[str, Any]:
        return {"items": [_review_dict(r) for r in _register(request).iter_reviews(deal_id=deal)]}

    @api.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request, "docs.html", {"spec": request.app.openapi(), "twin": "/api/openapi.json"}
        )

    return api


class FactReview(BaseModel):
    """A review of one fact: ``confirm``, ``reject`` or ``edit`` (with ``changes``)."""

    action: str = Field(pattern="^(confirm|reject|edit)$")
    by: str = Field(min_length=1)
    why: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict)


class DealMerge(BaseModel):
    """Merge a deal into the deal ``into``."""

    into: str
    by: str = Field(min_length=1)
    why: str | None = None


class DealSplit(BaseModel):
    """Split ``facts`` off a deal into lot ``lot``."""

    facts: list[int] = Field(min_length=1)
    lot: int = Field(ge=1)
    by: str = Field(min_length=1)
    why: str | None = None


def _review_dict(review: Any) -> dict[str, Any]:
    return {
        "id": review.id,
        "action": review.action,
        "by": review.by,
        "why": review.why,
        "at": review.at.isoformat(),
        "article": review.article,
        "fact_id": review.fact_id,
        "deal_id": review.deal_id,
        "changes": review.changes,
    }


def _check_token(expected: str | None, authorization: str | None) -> None:
    if expected is None:
        raise HTTPException(403, "this server is read-only: start it with --token to allow writes")
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            401,
            "a write needs the server's token: Authorization: Bearer TOKEN",
            headers={"WWW-Authenticate": "Bearer"},
        )
