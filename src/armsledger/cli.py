"""The ``armsledger`` command: a thin skin over the library.

Each command wraps one library function and only parses options and prints what it
returns. An ``ArmsLedgerError`` becomes one line on stderr (and a hint, where the error has
one) with exit status 1; click's usage errors exit with 2.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from armsledger import __version__
from armsledger.errors import ArmsLedgerError, ConfigError, InputError, StoreError
from armsledger.fetch import DEFAULT_TIMEOUT
from armsledger.ingest import DEFAULT_MAX_BYTES, read_article
from armsledger.model import Deal, Fact, Quantity, Stage, Value
from armsledger.readers import DEFAULT_MAX_TOTAL_BYTES

if TYPE_CHECKING:
    from armsledger.store import Register

__all__ = ["cli", "main"]


class _Group(click.Group):
    """A group that turns ``ArmsLedgerError`` into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArmsLedgerError as error:
            message = " ".join(str(error).split())
            click.echo(f"armsledger: error: {message}", err=True)
            if error.hint:
                click.echo(f"hint: {error.hint}", err=True)
            ctx.exit(1)


def _console() -> Console:
    """Standard output for tables; piped, it is wide enough that no column is cut."""
    console = Console()
    return console if console.is_terminal else Console(width=_PIPED_WIDTH)


#: Line width for tables written to a file or a pipe: rows are as long as their content.
_PIPED_WIDTH = 1000


def _add_row(table: Table, *cells: str) -> None:
    """A row of plain text: brackets in evidence are text, not rich markup."""
    table.add_row(*(Text(cell) for cell in cells))


def _register(db: str | None) -> Register:
    """The register, with the deals a run killed outright left stale merged first (so
    what every command reads is whole); where it cannot be written, it is read as is."""
    from armsledger.config import resolve_db_url
    from armsledger.store import Register

    register = Register(resolve_db_url(db))
    try:
        if register.stale_deals():
            register.refresh_deals()
    except StoreError as error:
        click.echo(f"warning: deals left unmerged by an earlier run: {error}", err=True)
    return register


_on_error_option = click.option(
    "--on-error",
    type=click.Choice(["skip", "raise"]),
    default="skip",
    show_default=True,
    help="On an input that cannot be read: record it and go on, or stop with its error.",
)
_max_bytes_option = click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Fail files, and records of dumps and archives, larger than this many bytes.",
)
_db_option = click.option(
    "--db",
    metavar="URL",
    default=None,
    help="The register: a SQLite file or an SQLAlchemy URL "
    "[default: $ARMSLEDGER_DB, else armsledger.db].",
)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="armsledger")
def cli() -> None:
    """An evidence-linked register of arms transfers between states, read from the news."""


# --- extract -----------------------------------------------------------------------------


def _quantity_text(quantity: Quantity | None) -> str:
    return f"{quantity.count} {quantity.unit}".strip() if quantity else ""


def _value_text(value: Value | None) -> str:
    if value is None:
        return ""
    return f"{'~' if value.approximate else ''}{value.amount:,.0f} {value.currency}"


def _facts_table(facts: Sequence[Fact]) -> Table:
    table = Table()
    for column in ("supplier", "recipient", "system", "stage", "modality", "lot"):
        table.add_column(column)
    for column in ("quantity", "value", "speaker", "evidence"):
        table.add_column(column, overflow="fold")
    for fact in facts:
        _add_row(
            table,
            fact.supplier or "",
            fact.recipient or "",
            fact.system or "",
            fact.stage,
            fact.modality,
            str(fact.lot or ""),
            _quantity_text(fact.quantity),
            _value_text(fact.value),
            fact.speaker or "",
            fact.evidence,
        )
    return table


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="JSON in the fact format, or a table to read.",
)
def extract(files: tuple[Path, ...], fmt: str) -> None:
    """Print the transfer facts found in each FILE; nothing is stored.

    JSON output is one object per article in the fact format (article, relevant, facts);
    for several files, a JSON array of them.
    """
    from armsledger.extract import extract_facts
    from armsledger.serialize import article_to_dict

    results = [(path.name, extract_facts(read_article(path))) for path in files]
    if fmt == "table":
        console = _console()
        for name, facts in results:
            console.print(Text(f"{name}: facts: {len(facts)}"))
            console.print(_facts_table(facts))
        return
    objects = [article_to_dict(name, facts) for name, facts in results]
    click.echo(
        json.dumps(objects[0] if len(objects) == 1 else objects, indent=2, ensure_ascii=False)
    )


# --- ingest ------------------------------------------------------------------------------


class _RateColumn(ProgressColumn):
    """Inputs per second, averaged by rich over the last half minute."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "-/s")


@contextmanager
def _progress_bar(total: int | None = None) -> Iterator[Any]:
    """A callback advancing a progress bar on stderr: count, rate and, when the number of
    inputs is known, the time left. The bar is hidden when stderr is not a terminal."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("ingesting", total=total)

        def advance(outcome: Any) -> None:
            progress.update(task, advance=1, description=f"{outcome.status}: {outcome.source}")

        yield advance


def _count_inputs(paths: Sequence[Path | str]) -> int | None:
    """How many inputs ``ingest`` will report, when known before reading: ``None`` when a
    feed, dump or archive is among them (its records are counted only as they are read)."""
    from armsledger.ingest import iter_paths
    from armsledger.readers import reader_suffix

    total = 0
    for path in paths:
        if isinstance(path, str) or reader_suffix(path.name) is not None:
            return None
        try:
            files = list(iter_paths([path]))
        except InputError:
            files = [path]
        if any(reader_suffix(file.name) is not None for file in files):
            return None
        total += len(files)
    return total


def _input(value: str) -> Path | str:
    """A feed URL stays a string; anything else is a path."""
    from armsledger.fetch import is_url

    return value if is_url(value) else Path(value)


def _field_option(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        f"--{name}-field",
        f"{name}_field",
        metavar="NAME",
        default=name,
        show_default=True,
        help=f"The field of a JSONL or CSV record that holds the article's {name}.",
    )


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH_OR_URL...")
@_db_option
@_on_error_option
@_max_bytes_option
@click.option(
    "--max-dump-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_TOTAL_BYTES,
    show_default=True,
    help="Stop reading a compressed dump or archive past this many decompressed bytes.",
)
@_field_option("text")
@_field_option("title")
@_field_option("date")
@_field_option("url")
@_field_option("id")
@click.option(
    "--follow-links",
    is_flag=True,
    help="For a feed file whose items hold only a summary, fetch each item's page "
    "(always done for feeds given as URLs).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for a fetched feed or page.",
)
@click.option(
    "--rejects",
    "rejects_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write each skipped or failed input with its reason to FILE (JSON lines).",
)
def ingest(
    paths: tuple[str, ...],
    db: str | None,
    on_error: Literal["skip", "raise"],
    max_bytes: int,
    max_dump_bytes: int,
    text_field: str,
    title_field: str,
    date_field: str,
    url_field: str,
    id_field: str,
    follow_links: bool,
    timeout: float,
    rejects_file: Path | None,
) -> None:
    """Read articles (files, folders, feeds, dumps, web archives, feed URLs), extract their
    facts and keep them in the register.

    An article read before with the same text is left unchanged, and a wire copy of one is
    kept as a further source of it. Prints how many inputs were stored, unchanged,
    skipped and failed, with the reason for each one skipped or failed; exits with 1 if
    any failed.
    """
    from armsledger.batch import ingest_paths
    from armsledger.readers import Fields, ReadOptions

    inputs = [_input(value) for value in paths]
    options = ReadOptions(
        fields=Fields(
            text=text_field, title=title_field, date=date_field, url=url_field, id=id_field
        ),
        max_total_bytes=max_dump_bytes,
        follow_links=follow_links,
        timeout=timeout,
    )
    with contextlib.ExitStack() as stack:
        register = stack.enter_context(_register(db))
        advance = stack.enter_context(_progress_bar(_count_inputs(inputs)))
        if rejects_file is not None:
            advance = _writing_rejects(stack.enter_context(_open_rejects(rejects_file)), advance)
        summary = ingest_paths(
            inputs,
            register,
            on_error=on_error,
            progress=advance,
            max_bytes=max_bytes,
            read_options=options,
            keep="problems",
        )
    _print_summary(summary)
    if summary.failed:
        sys.exit(1)


def _open_rejects(path: Path) -> Any:
    try:
        return path.open("w", encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot write the rejects file ({error.strerror})") from None


def _writing_rejects(file: Any, advance: Any) -> Any:
    """``advance``, also writing each skipped or failed outcome to ``file`` as it comes
    (flushed, so that a run stopped half way leaves its rejects so far)."""

    def both(outcome: Any) -> None:
        if outcome.status in ("skipped", "failed"):
            line = {"source": outcome.source, "status": outcome.status, "reason": outcome.reason}
            file.write(json.dumps(line, ensure_ascii=False) + "\n")
            file.flush()
        advance(outcome)

    return both


def _print_summary(summary: Any) -> None:
    line = (
        f"stored {summary.stored}, unchanged {summary.unchanged}, "
        f"skipped {summary.skipped}, failed {summary.failed}"
    )
    if summary.duplicate:
        line += f", duplicates {summary.duplicate}"
    unread = sum(1 for o in summary.outcomes if o.status == "stored" and o.reason)
    if unread:
        line += f" ({unread} stored without extraction: not English)"
    click.echo(line)
    for outcome in summary.outcomes:
        if outcome.status in ("skipped", "failed"):
            reason = outcome.reason or ""
            # input errors already open with the file they are about
            where = "" if reason.startswith(outcome.source) else f"{outcome.source}: "
            click.echo(f"{outcome.status}: {where}{reason}")


# --- batch -------------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="INPUT...")
@_db_option
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="dask",
    show_default=True,
    help="Run the partitions on a Dask cluster, or one after another in this process.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="A running Dask scheduler (tcp://HOST:8786) [default: start a LocalCluster].",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Worker processes of the LocalCluster started without --scheduler.",
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    default=None,
    help="How many partitions the article files make [default: one per 250 files].",
)
@click.option(
    "--partition-records",
    "records",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Records of a dump or web archive per partition (dumps are split as they are read).",
)
@_on_error_option
@_max_bytes_option
def batch(
    paths: tuple[str, ...],
    db: str | None,
    engine: Literal["local", "dask"],
    scheduler: str | None,
    workers: int,
    partitions: int | None,
    records: int,
    on_error: Literal["skip", "raise"],
    max_bytes: int,
) -> None:
    """Ingest many inputs with Dask: read and extract partitions of them on workers, and
    save them here. Resumes a run stopped part way.

    Reports as ``ingest`` does, then the partitions done and resumed; exits with 1 if any
    input failed.
    """
    from armsledger.parallel import batch_paths

    if scheduler is not None and engine == "local":
        raise click.UsageError("--scheduler needs --engine dask")
    inputs = [_input(value) for value in paths]
    with contextlib.ExitStack() as stack:
        register = stack.enter_context(_register(db))
        advance = stack.enter_context(_progress_bar(_count_inputs(inputs)))
        report = batch_paths(
            inputs,
            register,
            engine=engine,
            scheduler=scheduler,
            workers=workers,
            partitions=partitions,
            records=records,
            on_error=on_error,
            progress=advance,
            max_bytes=max_bytes,
            keep="problems",
        )
    _print_summary(report.summary)
    click.echo(
        f"partitions {report.partitions}, resumed {report.resumed} "
        f"(finished by an earlier run of the same inputs)"
    )
    if report.summary.failed:
        sys.exit(1)


# --- deals -------------------------------------------------------------------------------


def _deals_table(deals: Sequence[Deal]) -> Table:
    table = Table()
    for column in ("id", "supplier", "recipient", "system", "lot", "stage"):
        table.add_column(column, no_wrap=True)
    for column in ("quantity", "value", "first seen", "last seen", "facts"):
        table.add_column(column)
    for column in ("sources", "confidence", "contradictions"):
        table.add_column(column)
    for deal in deals:
        _add_row(
            table,
            deal.id,
            deal.supplier or "",
            deal.recipient or "",
            deal.system or "",
            str(deal.lot),
            deal.stage or "",
            _quantity_text(deal.quantity),
            _value_text(deal.value),
            deal.first_seen.isoformat() if deal.first_seen else "",
            deal.last_seen.isoformat() if deal.last_seen else "",
            str(len(deal.timeline)),
            str(_sources(deal)),
            _confidence_text(deal.confidence),
            str(len(deal.contradictions)),
        )
    return table


def _sources(deal: Deal) -> int:
    """Independent sources asserting the deal's current stage."""
    return next((c.sources for c in deal.corroboration if c.stage == deal.stage), 0)


def _confidence_text(confidence: float | None) -> str:
    return f"{confidence:.2f}" if confidence is not None else ""


_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table to read, or JSON.",
)


def _state(value: str | None) -> str | None:
    return value.upper() if value else None


@cli.command()
@_db_option
@click.option("--supplier", metavar="ISO3", help="Only deals with this supplier (e.g. RUS).")
@click.option("--recipient", metavar="ISO3", help="Only deals with this recipient (e.g. TUR).")
@click.option(
    "--system", help="Only deals for this system, by its canonical designation (e.g. S-400)."
)
@click.option(
    "--stage",
    type=click.Choice([stage.value for stage in Stage]),
    help="Only deals whose current stage is this one.",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Only deals last reported on or after this date.",
)
@_format_option
def deals(
    db: str | None,
    supplier: str | None,
    recipient: str | None,
    system: str | None,
    stage: str | None,
    since: Any,
    fmt: str,
) -> None:
    """List the deals in the register: each transfer with its furthest stage."""
    from armsledger.serialize import deal_to_dict

    with _register(db) as register:
        found = list(
            register.iter_deals(
                supplier=_state(supplier),
                recipient=_state(recipient),
                system=system,
                stage=Stage(stage) if stage else None,
                since=since.date() if since else None,
            )
        )
    if fmt == "json":
        click.echo(json.dumps([deal_to_dict(d) for d in found], indent=2, ensure_ascii=False))
    elif found:
        console = _console()
        console.print(Text(f"deals: {len(found)}"))
        console.print(_deals_table(found))
    else:
        click.echo("no deals")


@cli.command()
@click.argument("deal_id", metavar="ID")
@_db_option
@_format_option
def deal(deal_id: str, db: str | None, fmt: str) -> None:
    """Show one deal's timeline: date, stage, modality, evidence, speaker and source."""
    from armsledger.serialize import deal_to_dict

    with _register(db) as register:
        found = register.get_deal(deal_id)
    if found is None:
        raise InputError(f"no deal {deal_id!r} in the register", hint="list them: armsledger deals")
    if fmt == "json":
        click.echo(json.dumps(deal_to_dict(found), indent=2, ensure_ascii=False))
        return
    console = _console()
    console.print(
        Text(
            f"deal {found.id}: {found.supplier or '?'} to {found.recipient or '?'}, "
            f"{found.system or '(no system named)'}, lot {found.lot}; stage {found.stage or '-'}"
        )
    )
    if found.quantity or found.value:
        quantity = _quantity_text(found.quantity) or "-"
        console.print(Text(f"quantity {quantity}; value {_value_text(found.value) or '-'}"))
    console.print(Text(f"confidence {_confidence_text(found.confidence) or '-'}"))
    if found.corroboration:
        sources = ", ".join(f"{c.stage} {c.sources}" for c in found.corroboration)
        console.print(Text(f"sources asserting each stage: {sources}"))
    for c in found.contradictions:
        when = f" ({c.date.isoformat()})" if c.date else ""
        console.print(
            Text(
                f"contradiction: {c.kind}{when}: {c.stage} asserted in {c.asserted_in}, "
                f"{'denied' if c.kind == 'denial' else 'cancelled'} in {c.contradicted_in}"
            )
        )
    console.print(Text("timeline:"))
    table = Table()
    for column in ("date", "stage", "modality", "confidence"):
        table.add_column(column, no_wrap=True)
    for column in ("evidence", "speaker", "source"):
        table.add_column(column, overflow="fold")
    for event in found.timeline:
        _add_row(
            table,
            event.date.isoformat() if event.date else "",
            event.stage,
            event.modality,
            _confidence_text(event.confidence),
            event.evidence,
            event.speaker or "",
            event.source or event.article_id,
        )
    console.print(table)


# --- changes and alerts ------------------------------------------------------------------

_since_required = click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    required=True,
    help="Changes reported on or after this date (by the articles' dates).",
)


@cli.command()
@_db_option
@_since_required
@_format_option
def changes(db: str | None, since: Any, fmt: str) -> None:
    """List what changed since a date: new deals, changes of stage, new contradictions."""
    from armsledger.alerts import changes_summary, find_changes

    with _register(db) as register:
        found = find_changes(register.iter_deals(since=since.date()), since.date())
    if fmt == "json":
        click.echo(json.dumps([c.to_dict() for c in found], indent=2, ensure_ascii=False))
        return
    counts = changes_summary(found)
    click.echo(
        f"changes since {since.date().isoformat()}: {len(found)} "
        f"(new {counts['new']}, stage {counts['stage']}, "
        f"contradiction {counts['contradiction']})"
    )
    if not found:
        return
    table = Table()
    for column in ("date", "kind", "deal", "supplier", "recipient", "system", "lot", "stage"):
        table.add_column(column, no_wrap=True)
    table.add_column("detail", overflow="fold")
    for change in found:
        c = change.contradiction
        if change.kind == "stage":
            detail = f"was {change.previous_stage}"
        elif c is not None:
            detail = f"{c.kind}: {c.stage} in {c.asserted_in}, against {c.contradicted_in}"
        else:
            detail = ""
        _add_row(
            table,
            change.date.isoformat() if change.date else "",
            change.kind,
            change.deal.id,
            change.deal.supplier or "",
            change.deal.recipient or "",
            change.deal.system or "",
            str(change.deal.lot),
            change.deal.stage or "",
            detail,
        )
    _console().print(table)


@cli.command()
@_db_option
@click.option(
    "--watchlist",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML file of rules (name and any of supplier, recipient, system, category).",
)
@_since_required
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append the alerts to this file, one JSON object a line [default: standard output].",
)
@click.option("--webhook", metavar="URL", help="POST each alert as a JSON body to this URL.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the webhook.",
)
def alerts(
    db: str | None,
    watchlist: Path,
    since: Any,
    output: Path | None,
    webhook: str | None,
    timeout: float,
) -> None:
    """Emit one JSON line per change since a date that matches a watchlist rule."""
    from armsledger.alerts import find_changes, load_watchlist, match_alerts, post_webhook
    from armsledger.alerts import save_alerts as save

    rules = load_watchlist(watchlist)
    with _register(db) as register:
        found = find_changes(register.iter_deals(since=since.date()), since.date())
    matched = match_alerts(found, rules)
    if output is not None:
        save(matched, output)
    if webhook:
        post_webhook(matched, webhook, timeout=timeout)
    if output is None and not webhook:
        save(matched, sys.stdout)
    click.echo(f"alerts: {len(matched)} of {len(found)} changes", err=True)


# --- review ------------------------------------------------------------------------------


def _parse_set(values: tuple[str, ...]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for value in values:
        name, sep, raw = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r} is not FIELD=VALUE", param_hint="--set")
        changes[name.strip()] = raw.strip() or None
    return changes


@cli.command()
@click.argument(
    "action", type=click.Choice(["confirm", "reject", "edit", "merge", "split", "list"])
)
@click.argument("target", metavar="FACT_OR_DEAL", required=False)
@_db_option
@click.option("--by", metavar="NAME", help="Who reviews (required for every change).")
@click.option("--why", metavar="TEXT", help="Why: kept in the audit trail.")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD=VALUE",
    help="edit: a field to set (supplier, recipient, system, stage, modality, lot, speaker).",
)
@click.option("--into", metavar="DEAL", help="merge: the deal to merge into.")
@click.option("--fact", "fact_ids", multiple=True, type=int, metavar="ID", help="split: a fact.")
@click.option("--lot", type=click.IntRange(min=1), help="split: the lot the facts move to.")
def review(
    action: str,
    target: str | None,
    db: str | None,
    by: str | None,
    why: str | None,
    sets: tuple[str, ...],
    into: str | None,
    fact_ids: tuple[int, ...],
    lot: int | None,
) -> None:
    """Review the register as an analyst: confirm, reject or edit a fact; merge or split deals.

    FACT_OR_DEAL is a fact's id (confirm, reject, edit) or a deal's id (merge, split; list
    takes a deal id to show only its reviews). Every change is kept with who, when and why,
    and re-extraction never overrides it.
    """
    with _register(db) as register:
        if action == "list":
            for item in register.iter_reviews(deal_id=target):
                shown = json.dumps(item.changes, sort_keys=True) if item.changes else ""
                click.echo(
                    f"{item.at:%Y-%m-%d %H:%M:%S} {item.by}: {item.action} fact {item.fact_id} "
                    f"of {item.article} (deal {item.deal_id}) {shown}".rstrip()
                    + (f"; why: {item.why}" if item.why else "")
                )
            return
        if target is None:
            raise click.UsageError(f"{action} needs a FACT_OR_DEAL id")
        if not by:
            raise click.UsageError("a review needs --by NAME")
        if action in ("confirm", "reject", "edit"):
            if not target.isdigit():
                raise click.BadParameter(f"{target!r} is not a fact id", param_hint="FACT_OR_DEAL")
            changes = _parse_set(sets) if action == "edit" else {}
            if action == "edit" and not changes:
                raise click.UsageError("edit needs at least one --set FIELD=VALUE")
            done = register.review_fact(int(target), action, by=by, why=why, changes=changes)
            click.echo(f"{action}: fact {target} (review {done.id})")
        elif action == "merge":
            if not into:
                raise click.UsageError("merge needs --into DEAL")
            moved = register.merge_deal(target, into, by=by, why=why)
            click.echo(f"merged deal {target} into {into}: {moved} facts moved")
        else:
            if not fact_ids or lot is None:
                raise click.UsageError("split needs --fact ID (one or more) and --lot N")
            new = register.split_deal(target, fact_ids, lot=lot, by=by, why=why)
            click.echo(f"split {len(fact_ids)} facts of deal {target} into deal {new}")


# --- export ------------------------------------------------------------------------------


@cli.command()
@_db_option
@click.option(
    "--what",
    type=click.Choice(["facts", "deals", "flows"]),
    required=True,
    help="Every fact (with its article and deal ids), every deal, or the flows between states.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "parquet", "graphml", "gexf"]),
    required=True,
    help="CSV and Parquet are flat tables; JSON keeps the fact format's nesting; "
    "GraphML and GEXF (flows only) are graphs for Gephi and networkx.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file [default: standard output].",
)
def export(db: str | None, what: str, fmt: str, output: Path | None) -> None:
    """Write the register's facts or deals as CSV, JSON or Parquet, or its flows as a graph."""
    from armsledger.export import GRAPH_FORMATS, export_deals, export_facts, export_flows

    if (what == "flows") != (fmt in GRAPH_FORMATS):
        raise click.UsageError(
            "flows are written as graphml or gexf, facts and deals as csv, json or parquet"
        )
    out: Any = output
    if out is None:
        out = sys.stdout.buffer
        if fmt == "parquet" and out.isatty():
            raise ConfigError(
                "Parquet is binary and standard output is a terminal",
                hint="give --output FILE",
            )
    with _register(db) as register:
        if what == "flows":
            from armsledger.catalog import load_catalog

            export_flows(register, fmt, out, load_catalog().state_name)
        else:
            (export_facts if what == "facts" else export_deals)(register, fmt, out)
    if output is None:
        out.flush()


# --- compare-sipri -----------------------------------------------------------------------


@cli.command("compare-sipri")
@click.argument(
    "sipri_file", metavar="REGISTER.csv", type=click.Path(dir_okay=False, path_type=Path)
)
@_db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="A summary and tables, the register's deals in the SIPRI file's columns, or JSON.",
)
def compare_sipri(sipri_file: Path, db: str | None, fmt: str) -> None:
    """Compare the register's deals with a SIPRI trade-register export (REGISTER.csv)."""
    from armsledger.serialize import deal_to_dict
    from armsledger.sipri import compare_register, load_sipri, save_sipri_csv

    sipri = load_sipri(sipri_file)
    with _register(db) as register:
        found = register.iter_deals()
    comparison = compare_register(found, sipri)
    if fmt == "csv":
        save_sipri_csv(found, comparison, sys.stdout)
        return
    if fmt == "json":

        def sipri_dict(record: Any) -> dict[str, Any]:
            return {
                "record": record.record,
                "supplier": record.supplier_name,
                "recipient": record.recipient_name,
                "designation": record.designation,
                "order_year": record.order_year,
                "ordered": record.ordered,
                "delivered": record.delivered,
                "delivery_years": list(record.delivery_years),
            }

        def key(deal: Deal) -> dict[str, Any]:
            return {k: deal_to_dict(deal)[k] for k in ("id", "supplier", "recipient", "system")}

        data = {
            "summary": comparison.summary(),
            "absent": [{**key(d), "stage": d.stage} for d in comparison.absent],
            "covered": [
                {**key(m.deal), "sipri": [sipri_dict(r) for r in m.sipri]}
                for m in comparison.covered
            ],
            "disagreements": [
                {
                    **key(d.deal),
                    "stage": d.news_stage,
                    "sipri_stage": d.sipri_stage,
                    "sipri": sipri_dict(d.sipri),
                    "after_last_report": d.later,
                    "note": d.describe(),
                }
                for d in comparison.disagreements
            ],
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    console = _console()
    for line in comparison.summary():
        console.print(Text(line))

    def deal_table(title: str, rows: Sequence[tuple[Deal, str]], column: str) -> None:
        if not rows:
            return
        table = Table(title=title, title_justify="left")
        for name in ("deal", "supplier", "recipient", "system", "stage"):
            table.add_column(name, no_wrap=True)
        if column:
            table.add_column(column, overflow="fold")
        for deal, detail in rows:
            cells = [deal.id, deal.supplier or "", deal.recipient or "", deal.system or ""]
            _add_row(table, *cells, deal.stage or "", *([detail] if column else []))
        console.print(table)

    deal_table("absent from SIPRI", [(d, "") for d in comparison.absent], "")
    deal_table(
        "also in SIPRI",
        [(m.deal, "; ".join(r.describe() for r in m.sipri)) for m in comparison.covered],
        "SIPRI deals",
    )
    deal_table(
        "stage disagreements",
        [(d.deal, d.describe()) for d in comparison.disagreements],
        "how",
    )


# --- evaluate ----------------------------------------------------------------------------


@cli.command()
@click.option(
    "--gold",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of NAME.txt articles with their NAME.gold.json (and NAME.meta.json).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def evaluate(gold: Path, as_json: bool) -> None:
    """Score the extractor against hand-annotated (gold) articles.

    Prints fact precision, recall and F1, attribute accuracy, relevance precision and recall,
    how many evidence spans were not exact, and a row per article.
    """
    from armsledger.evaluate import evaluate_dir
    from armsledger.extract import EXTRACTOR, extract_facts

    scores = evaluate_dir(gold, extract_facts, extractor=EXTRACTOR)
    if as_json:
        click.echo(json.dumps(scores.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(scores.to_table())


# --- serve -------------------------------------------------------------------------------


@cli.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port."
)
@click.option(
    "--token",
    envvar="ARMSLEDGER_TOKEN",
    default=None,
    help="Secret that write requests must carry [default: $ARMSLEDGER_TOKEN; none: read-only].",
)
def serve(db: str | None, host: str, port: int, token: str | None) -> None:
    """Serve the register over HTTP: the dashboard at / and the JSON API at /api."""
    import uvicorn

    from armsledger.api import create_app
    from armsledger.config import resolve_db_url

    url = resolve_db_url(db)
    app = create_app(url, token=token or None)
    writes = "writes need the token" if token else "read-only"
    click.echo(f"serving {url} at http://{host}:{port}/ ({writes}); Ctrl+C stops", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


# --- watch -------------------------------------------------------------------------------


@cli.command()
@click.argument("feeds", nargs=-1, required=True, metavar="FEED_OR_URL...")
@_db_option
@click.option(
    "--every",
    default="15m",
    show_default=True,
    metavar="INTERVAL",
    help="Time between rounds: a number with s, m, h or d (90s, 15m, 2h).",
)
@click.option("--once", is_flag=True, help="Poll each feed once and stop.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for a feed or page.",
)
def watch(feeds: tuple[str, ...], db: str | None, every: str, once: bool, timeout: float) -> None:
    """Poll feeds (URLs or files) every INTERVAL and ingest their new items.

    Prints one line per feed and round. Feed URLs are fetched with conditional requests
    (ETag, Last-Modified); a feed that is down, slow or malformed is reported and tried
    again next round. Stops on Ctrl-C, or after one round with --once.
    """
    from armsledger.readers import ReadOptions
    from armsledger.watch import parse_every, watch_feeds

    seconds = parse_every(every)

    def report(poll: Any) -> None:
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        if poll.status == "failed":
            click.echo(f"{stamp} {poll.feed}: failed: {poll.error}")
        elif poll.summary is None:
            click.echo(f"{stamp} {poll.feed}: {poll.status}")
        else:
            s = poll.summary
            click.echo(
                f"{stamp} {poll.feed}: stored {s.stored}, unchanged {s.unchanged}, "
                f"duplicates {s.duplicate}, failed {s.failed}"
            )

    with _register(db) as register:
        try:
            polls = watch_feeds(
                feeds,
                register,
                every=seconds,
                rounds=1 if once else None,
                read_options=ReadOptions(timeout=timeout),
                on_poll=report,
                keep="problems",
            )
        except KeyboardInterrupt:
            return
    if once and any(poll.status == "failed" for poll in polls):
        sys.exit(1)


def main() -> None:
    """The ``armsledger`` console script."""
    cli(prog_name="armsledger")
