"""The one exception tree of armsledger.

Every error a user can meet is an ``ArmsLedgerError``; its message names the input,
the value and what was allowed, so the CLI can print it on one line::

    ArmsLedgerError
    ├── InputError              an article or file that cannot be read
    │   ├── ParseError          a value (money, quantity, date, JSON) that cannot be parsed
    │   └── UnsupportedFormatError
    ├── CatalogError            a catalog data file that is missing or malformed
    ├── ExtractionError         the extractor failed on one article (a fault of ours)
    ├── StoreError              the register cannot be opened or written
    └── ConfigError             a setting that is missing or wrong
"""

from __future__ import annotations


class ArmsLedgerError(Exception):
    """Base of every error armsledger raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class InputError(ArmsLedgerError):
    """An input (file, folder, article) cannot be read or holds no article."""


class ParseError(InputError):
    """A piece of text or a document is not of the form expected."""


class UnsupportedFormatError(InputError):
    """A file of a kind armsledger does not read."""


class CatalogError(ArmsLedgerError):
    """A catalog data file is missing or malformed."""


class ExtractionError(ArmsLedgerError):
    """The extractor failed on one article: a fault of armsledger, not of the input,
    reported as that article's failure so that a batch goes on without it."""


class StoreError(ArmsLedgerError):
    """The register cannot be opened, migrated or written."""


class ConfigError(ArmsLedgerError):
    """A setting (option, environment variable) is missing or wrong."""
