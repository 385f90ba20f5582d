"""The long-lived objects one application holds, built once in ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from consent.catalogue import Catalogue
from consent.ledger import Ledger
from consent.receipts import Receipts
from consent.settings import Settings
from consent.sites import SitesConfig
from consent.texts import TextArchive
from consent.widget import WidgetBuilder


@dataclass(frozen=True)
class Services:
    settings: Settings
    config: SitesConfig
    ledger: Ledger
    catalogue: Catalogue
    texts: TextArchive
    widgets: WidgetBuilder
    receipts: Receipts


def services() -> Services:
    """The services of the application handling the current request or command."""
    return current_app.extensions["consent"]
