"""The ``consent`` command group (also available as ``flask --app consent …``).

``consent upgrade`` brings the database to the current schema and loads sites.yaml's
catalogue; ``consent create-user`` adds an admin account; ``consent export`` streams the log.
A configuration problem is printed as one sentence, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade as migrate_upgrade

from consent.exports import FORMATS, LogFilter, export_file, write_export
from consent.extensions import db
from consent.legal_cli import COMMANDS as LEGAL_COMMANDS
from consent.legal_cli import audit_export, workers_option
from consent.scanner.cli import scan_command
from consent.services import services
from consent.stats_command import stats_rollup_command
from consent.users import ROLES, UserError, create_user


def _create_app() -> Flask:
    from consent import create_app

    return create_app()


@click.command("upgrade")
@with_appcontext
def upgrade_command() -> None:
    """Create or upgrade the database schema, then load the catalogue from sites.yaml."""
    migrate_upgrade()
    services().catalogue.sync()
    click.echo("Database is up to date; sites.yaml catalogue loaded.")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(email: str, role: str, password_stdin: bool) -> None:
    """Add an admin account with ROLE (marketing, legal or admin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(db.session, email, role, password)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.role} account {user.email}.")


def _date(value: str | None, *, end: bool = False) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if end and len(value) == 10:  # a whole day: up to its end
        moment += dt.timedelta(days=1)
    return moment


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--site", help="Only this site.")
@click.option("--since", help="From this date (YYYY-MM-DD or ISO time, UTC), inclusive.")
@click.option("--until", help="Up to this date (YYYY-MM-DD: the whole day), inclusive.")
@click.option("--action", type=click.Choice(("accept_all", "refuse_all", "custom", "withdraw")))
@click.option("--consent-id", help="Only this visitor's records.")
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), help="File (default: stdout)."
)
@workers_option("Processes that write parts of a long export to --output at once.")
@with_appcontext
def export_command(
    fmt: str,
    site: str | None,
    since: str | None,
    until: str | None,
    action: str | None,
    consent_id: str | None,
    output: str | None,
    workers: int,
) -> None:
    """Stream the consent log as CSV or JSON Lines; every row names the controller."""
    svc = services()
    if site and svc.config.site(site) is None:
        raise click.BadParameter(f"unknown site {site!r}", param_hint="--site")
    wanted = LogFilter(site, _date(since), _date(until, end=True), action, consent_id)
    if output:
        count = export_file(db.engine, wanted, fmt, Path(output), workers)
        click.echo(f"Exported {count} record(s) to {output}.", err=True)
    else:
        sys.stdout.flush()
        count = write_export(db.engine, wanted, fmt, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    audit_export(wanted, fmt, count, output)


def register(app: Flask) -> None:
    for command in (upgrade_command, create_user_command, export_command, *LEGAL_COMMANDS):
        app.cli.add_command(command)
    app.cli.add_command(scan_command)
    app.cli.add_command(stats_rollup_command)


main = FlaskGroup(
    name="consent",
    create_app=_create_app,
    add_version_option=False,
    help="Mixvoip Consent: manage the consent service and its log.",
)
