"""The ``armsledger`` command: a thin skin over the library.

Each command wraps one library function and only parses options and prints what it
returns. An ``ArmsLedgerError`` becomes one line on stderr (and a hint, where the error has
one) with exit status 1; click's usage errors exit with 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from armsledger import __version__
from armsledger.errors import ArmsLedgerError, ConfigError, InputError
from armsledger.ingest import DEFAULT_MAX_BYTES, read_article
from armsledger.model import Deal, Fact, Quantity, Stage, Value

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
    from armsledger.config import resolve_db_url
    from armsledger.store import Register

    return Register(resolve_db_url(db))


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


@contextmanager
def _progress_bar() -> Iterator[Any]:
    """A callback advancing a progress bar on stderr; the bar is hidden when not a TTY."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("ingesting", total=None)

        def advance(outcome: Any) -> None:
            progress.update(task, advance=1, description=f"{outcome.status}: {outcome.source}")

        yield advance


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_db_option
@click.option(
    "--on-error",
    type=click.Choice(["skip", "raise"]),
    default="skip",
    show_default=True,
    help="On an input that cannot be read: record it and go on, or stop with its error.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Fail files larger than this many bytes, without reading them.",
)
def ingest(
    paths: tuple[Path, ...], db: str | None, on_error: Literal["skip", "raise"], max_bytes: int
) -> None:
    """Read articles (files or folders), extract their facts and keep them in the register.

    An article read before with the same text is left unchanged. Prints how many inputs
    were stored, unchanged, skipped and failed, with the reason for each one not stored;
    exits with 1 if any failed.
    """
    from armsledger.batch import ingest_paths

    with _register(db) as register, _progress_bar() as advance:
        summary = ingest_paths(
            paths, register, on_error=on_error, progress=advance, max_bytes=max_bytes
        )
    click.echo(
        f"stored {summary.stored}, unchanged {summary.unchanged}, "
        f"skipped {summary.skipped}, failed {summary.failed}"
    )
    for outcome in summary.outcomes:
        if outcome.status in ("skipped", "failed"):
            reason = outcome.reason or ""
            # input errors already open with the file they are about
            where = "" if reason.startswith(outcome.source) else f"{outcome.source}: "
            click.echo(f"{outcome.status}: {where}{reason}")
    if summary.failed:
        sys.exit(1)


# --- deals -------------------------------------------------------------------------------


def _deals_table(deals: Sequence[Deal]) -> Table:
    table = Table()
    for column in ("id", "supplier", "recipient", "system", "lot", "stage"):
        table.add_column(column, no_wrap=True)
    for column in ("quantity", "value", "first seen", "last seen", "facts"):
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
        )
    return table


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
    console.print(Text("timeline:"))
    table = Table()
    for column in ("date", "stage", "modality"):
        table.add_column(column, no_wrap=True)
    for column in ("evidence", "speaker", "source"):
        table.add_column(column, overflow="fold")
    for event in found.timeline:
        _add_row(
            table,
            event.date.isoformat() if event.date else "",
            event.stage,
            event.modality,
            event.evidence,
            event.speaker or "",
            event.source or event.article_id,
        )
    console.print(table)


# --- export ------------------------------------------------------------------------------


@cli.command()
@_db_option
@click.option(
    "--what",
    type=click.Choice(["facts", "deals"]),
    required=True,
    help="Every fact (with its article and deal ids), or every deal.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "parquet"]),
    required=True,
    help="CSV and Parquet are flat tables; JSON keeps the fact format's nesting.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file [default: standard output].",
)
def export(db: str | None, what: str, fmt: str, output: Path | None) -> None:
    """Write the register's facts or deals as CSV, JSON or Parquet."""
    from armsledger.export import export_deals, export_facts

    out: Any = output
    if out is None:
        out = sys.stdout.buffer
        if fmt == "parquet" and out.isatty():
            raise ConfigError(
                "Parquet is binary and standard output is a terminal",
                hint="give --output FILE",
            )
    with _register(db) as register:
        (export_facts if what == "facts" else export_deals)(register, fmt, out)
    if output is None:
        out.flush()


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


def main() -> None:
    """The ``armsledger`` console script."""
    cli(prog_name="armsledger")
