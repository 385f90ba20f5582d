"""``consent stats-rollup``: bring the opt-in statistics' daily rollup up to date now.

The stats pages do this themselves on each request; run it after upgrading a database that
already holds many records (the first rollup of a million records takes seconds) or from a
timer, so that no page request has to wait for it.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from consent.extensions import db
from consent.stats import roll_up


@click.command("stats-rollup")
@with_appcontext
def stats_rollup_command() -> None:
    """Add the log records written since the last rollup to the opt-in statistics."""
    added = roll_up(db.engine)
    click.echo(f"Added {added} record(s) to the opt-in statistics.")
