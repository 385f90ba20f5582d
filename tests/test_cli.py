"""The `consent` command line: accounts, exports, upgrades."""

from __future__ import annotations

import csv
import io
import json

from harness import REFUSAL
from sqlalchemy import select

from consent.extensions import db
from consent.models import User

CONTROLLER = "MIXVOIP Sa, 70, rue des Prés, L-7333 Steinsel, Luxembourg"


def test_create_user_reads_the_password_from_stdin(runner, app):
    result = runner.invoke(
        args=["create-user", "Legal@Mixvoip.com", "--role", "legal", "--password-stdin"],
        input="correct horse battery\n",
    )

    assert result.exit_code == 0, result.output
    assert "Created legal account legal@mixvoip.com" in result.output
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.role == "legal"
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
        assert "correct horse" not in user.password_hash


def test_create_user_refuses_a_duplicate_a_short_password_and_a_bad_role(runner):
    args = ["create-user", "m@mixvoip.com", "--role", "marketing", "--password-stdin"]
    assert runner.invoke(args=args, input="long enough password\n").exit_code == 0

    again = runner.invoke(args=args, input="long enough password\n")
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=[args[0], "x@mixvoip.com", *args[2:]], input="short\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    role = runner.invoke(args=["create-user", "y@mixvoip.com", "--role", "boss"])
    assert role.exit_code != 0 and "boss" in role.output


def _record(client, **changes):
    response = client.post("/v1/consents", json={**REFUSAL, **changes})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_export_names_the_controller_on_every_row(runner, client, tmp_path):
    _record(client)
    _record(client, site="voxbi.com")
    output = tmp_path / "log.csv"

    result = runner.invoke(args=["export", "--format", "csv", "--output", str(output)])

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert len(rows) == 2
    assert {row["controller"] for row in rows} == {CONTROLLER}
    assert {row["site"] for row in rows} == {"mixvoip.com", "voxbi.com"}
    assert all(len(row["hash"]) == 64 for row in rows)


def test_export_filters_by_site_and_dates_in_json_lines(runner, client):
    _record(client)
    _record(client, site="voxbi.com")

    result = runner.invoke(
        args=[
            "export",
            "--format",
            "jsonl",
            "--site",
            "voxbi.com",
            "--since",
            "2020-01-01",
            "--until",
            "2999-12-31",
        ]
    )
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["site"] for line in lines] == ["voxbi.com"]
    assert lines[0]["controller"] == CONTROLLER

    future = runner.invoke(args=["export", "--format", "jsonl", "--since", "2999-01-01"])
    assert future.output == ""


def test_export_rejects_an_unknown_site_and_a_bad_date(runner):
    assert "unknown site" in runner.invoke(args=["export", "--site", "nope.com"]).output
    assert "not a date" in runner.invoke(args=["export", "--since", "yesterday"]).output


def test_upgrade_can_run_again_safely(runner):
    first = runner.invoke(args=["upgrade"])
    second = runner.invoke(args=["upgrade"])
    assert first.exit_code == second.exit_code == 0
