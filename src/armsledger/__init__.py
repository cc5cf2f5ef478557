"""armsledger: an evidence-linked register of arms transfers between states, read from the news."""

__version__ = "0.1.0"
