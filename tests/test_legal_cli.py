"""Legal's commands on both databases: tampering with raw SQL is caught and named, an anchor
catches truncation, exports verify on their own, erasure and purge keep the chain verifying."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys

import pytest
import yaml
from harness import app_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from legal_fixtures import CONTROLLER, ago, entry, sql, write_chain
from sqlalchemy import text

from consent import create_app
from consent.exports import COLUMNS, csv_line
from consent.extensions import db
from consent.ledger import canonical
from consent.settings import PROJECT_ROOT

SITE = "mixvoip.com"


@pytest.fixture
def ledger(app):
    return app.extensions["consent"].ledger


@pytest.fixture
def five(ledger):
    """Five records on mixvoip.com and two on voxbi.com, written through the ledger."""
    for index in range(5):
        ledger.append(entry(consent_id=f"00000000-0000-4000-8000-00000000000{index}"))
    for _ in range(2):
        ledger.append(entry("voxbi.com"))
    return ledger


def verify(runner, *args):
    return runner.invoke(args=["verify", *args])


def first_break(result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("BROKEN")]
    assert lines, result.output
    return lines[0]


def test_an_untouched_log_verifies(runner, five):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "OK: 7 record(s) verify" in result.output
    assert "mixvoip.com: 5 record(s), head #5" in result.output


def test_an_update_is_named(runner, five):
    sql(
        five.engine,
        "UPDATE consent_log SET action = 'accept_all' WHERE site_id = :s AND seq = 3",
        s=SITE,
    )
    result = verify(runner)
    assert result.exit_code == 1
    assert first_break(result).startswith("BROKEN: mixvoip.com record #3 (id ")
    assert "altered" in first_break(result)


def test_an_update_of_a_personal_field_is_named(runner, five):
    sql(
        five.engine,
        "UPDATE consent_log SET ip_prefix = '198.51.100.0/24' WHERE site_id = :s AND seq = 2",
        s=SITE,
    )
    result = verify(runner)
    assert result.exit_code == 1
    assert "mixvoip.com record #2" in first_break(result)
    assert "ip_prefix was altered" in first_break(result)


def test_a_deletion_is_named(runner, five):
    sql(five.engine, "DELETE FROM consent_log WHERE site_id = :s AND seq = 2", s=SITE)
    result = verify(runner)
    assert result.exit_code == 1
    assert "mixvoip.com record #3" in first_break(result)
    assert "record #2 is missing (deleted)" in first_break(result)


def test_an_insertion_is_named(runner, five):
    # Make room at #3 and slip in a copy of #1: what a forger without the chain would do.
    sql(
        five.engine,
        "UPDATE consent_log SET seq = seq + 1000 WHERE site_id = :s AND seq >= 3",
        s=SITE,
    )
    sql(
        five.engine,
        "UPDATE consent_log SET seq = seq - 999 WHERE site_id = :s AND seq >= 1000",
        s=SITE,
    )
    columns = (
        "site_id, consent_id, action, categories, partners, revision, policy_version, "
        "texts_hash, language, created_at, expires_at, controller, gpc, user_agent, "
        "user_agent_salt, user_agent_digest, ip_prefix, ip_salt, ip_digest, page_url, "
        "page_url_salt, page_url_digest, redacted_at, prev_hash, hash"
    )
    sql(
        five.engine,
        f"INSERT INTO consent_log (seq, {columns}) SELECT 3, {columns} FROM consent_log "
        "WHERE site_id = :s AND seq = 2",
        s=SITE,
    )
    result = verify(runner)
    assert result.exit_code == 1
    assert "mixvoip.com record #3" in first_break(result)
    assert "does not link" in first_break(result)


def test_an_appended_forgery_is_named(runner, five):
    sql(
        five.engine,
        "INSERT INTO consent_log (site_id, seq, consent_id, action, categories, partners, "
        "revision, policy_version, texts_hash, language, created_at, expires_at, controller, "
        "gpc, user_agent_digest, ip_digest, page_url_digest, prev_hash, hash) "
        "SELECT site_id, 6, consent_id, 'accept_all', categories, partners, revision, "
        "policy_version, texts_hash, language, created_at, expires_at, controller, gpc, "
        "user_agent_digest, ip_digest, page_url_digest, hash, hash FROM consent_log "
        "WHERE site_id = :s AND seq = 5",
        s=SITE,
    )
    result = verify(runner)
    assert result.exit_code == 1
    assert "mixvoip.com record #6" in first_break(result)


def test_a_swap_of_two_records_is_named(runner, five):
    sql(five.engine, "UPDATE consent_log SET seq = -1 WHERE site_id = :s AND seq = 2", s=SITE)
    sql(five.engine, "UPDATE consent_log SET seq = 2 WHERE site_id = :s AND seq = 3", s=SITE)
    sql(five.engine, "UPDATE consent_log SET seq = 3 WHERE site_id = :s AND seq = -1", s=SITE)
    result = verify(runner)
    assert result.exit_code == 1
    assert "mixvoip.com record #2" in first_break(result)
    assert "does not link" in first_break(result)


def test_only_the_named_site_is_verified(runner, five):
    sql(five.engine, "UPDATE consent_log SET gpc = NOT gpc WHERE site_id = :s AND seq = 1", s=SITE)
    assert verify(runner, "--site", "voxbi.com").exit_code == 0
    assert verify(runner, "--site", SITE).exit_code == 1


def test_an_anchor_catches_truncation_of_the_newest_records(runner, five, tmp_path):
    kept = tmp_path / "anchor.json"
    printed = runner.invoke(args=["anchor"])
    assert printed.exit_code == 0, printed.output
    kept.write_text(printed.output)
    anchor = json.loads(printed.output)
    assert anchor["heads"][SITE]["seq"] == 5 and len(anchor["heads"][SITE]["hash"]) == 64
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", anchor["created_at"])
    five.append(entry())  # the log grows after the anchor: still fine
    assert verify(runner, "--anchor", str(kept)).exit_code == 0

    # Remove the two newest records and roll the head back consistently.
    with five.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM consent_log WHERE site_id = :s AND seq >= 5"), {"s": SITE}
        )
        four = connection.execute(
            text("SELECT hash FROM consent_log WHERE site_id = :s AND seq = 4"), {"s": SITE}
        ).scalar_one()
        connection.execute(
            text("UPDATE chain_heads SET seq = 4, hash = :h WHERE site_id = :s"),
            {"h": four, "s": SITE},
        )
    assert verify(runner).exit_code == 0  # undetectable without the anchor
    result = verify(runner, "--anchor", str(kept))
    assert result.exit_code == 1
    assert "mixvoip.com record #5: is missing" in first_break(result)
    assert "truncated" in first_break(result)


def test_a_broken_anchor_file_is_a_sentence(runner, five, tmp_path):
    kept = tmp_path / "anchor.json"
    kept.write_text("{}")
    result = verify(runner, "--anchor", str(kept))
    assert result.exit_code == 2 and "not an anchor" in result.output


# --- exports --------------------------------------------------------------------------------


def export(runner, tmp_path, fmt, *args):
    path = tmp_path / f"log.{fmt}"
    result = runner.invoke(args=["export", "--format", fmt, "--output", str(path), *args])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_verifies_on_its_own_and_tampering_is_named(runner, five, tmp_path, fmt):
    path = export(runner, tmp_path, fmt)
    result = runner.invoke(args=["verify-export", str(path), "--complete"])
    assert result.exit_code == 0, result.output
    assert "OK: 7 record(s) match their hashes, 7 link(s)" in result.output

    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    tampered = tmp_path / f"tampered.{fmt}"
    tampered.write_text(
        "".join(lines).replace("refuse_all", "accept_all", 2 if fmt == "csv" else 1)
    )
    result = runner.invoke(args=["verify-export", str(tampered)])
    assert result.exit_code == 1
    assert "mixvoip.com record #1" in first_break(result)

    header = 1 if fmt == "csv" else 0
    dropped = tmp_path / f"dropped.{fmt}"
    dropped.write_text("".join(lines[: header + 2] + lines[header + 3 :]))
    assert runner.invoke(args=["verify-export", str(dropped)]).exit_code == 0  # a filter's gap
    result = runner.invoke(args=["verify-export", str(dropped), "--complete"])
    assert result.exit_code == 1
    assert "mixvoip.com record #4" in first_break(result) and "#3 is missing" in first_break(result)


def test_a_truncated_export_is_caught_with_the_anchor(runner, five, tmp_path):
    kept = tmp_path / "anchor.json"
    kept.write_text(runner.invoke(args=["anchor"]).output)
    path = export(runner, tmp_path, "jsonl", "--site", SITE)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    result = runner.invoke(args=["verify-export", str(path), "--complete", "--anchor", str(kept)])
    assert result.exit_code == 1
    assert "mixvoip.com record #5: is missing" in first_break(result)


def test_export_filters_by_action_and_consent_id(runner, ledger, tmp_path):
    ledger.append(entry(consent_id="11111111-1111-4111-8111-111111111111", action="accept_all"))
    ledger.append(entry(consent_id="22222222-2222-4222-8222-222222222222"))
    ledger.append(entry(consent_id="11111111-1111-4111-8111-111111111111", action="withdraw"))
    path = export(runner, tmp_path, "jsonl", "--consent-id", "11111111-1111-4111-8111-111111111111")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["seq"], r["action"]) for r in rows] == [(1, "accept_all"), (3, "withdraw")]
    path = export(runner, tmp_path, "jsonl", "--action", "refuse_all")
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [2]
    # A filtered export still verifies: each record on its own, consecutive ones linked.
    result = runner.invoke(args=["verify-export", str(path)])
    assert result.exit_code == 0, result.output


def test_every_row_names_controller_policy_revision_and_texts(runner, client, app, tmp_path):
    for site in ("mixvoip.com", "voxbi.com", "mixvoip.com"):
        response = client.post(
            "/v1/consents",
            json={
                "site": site,
                "action": "refuse_all",
                "categories": {"technical": True, "advertising": False},
            },
        )
        assert response.status_code == 201, response.get_json()
    rows = list(csv.DictReader(io.StringIO(export(runner, tmp_path, "csv").read_text())))
    assert len(rows) == 3
    with app.app_context():
        texts = {
            h: (site, c)
            for h, site, c in db.session.execute(
                text("SELECT hash, site_id, content FROM banner_texts")
            )
        }
    for row in rows:
        assert row["controller"] == CONTROLLER
        assert row["policy_version"] == "2021-09-13"
        assert row["revision"].isdigit()
        # The texts shown are stored once, under the SHA-256 of their exact bytes.
        site, content = texts[row["texts_hash"]]
        assert site == row["site"]
        assert hashlib.sha256(content.encode()).hexdigest() == row["texts_hash"]
    assert len(texts) == len({(s, json.loads(c)["language"]) for s, c in texts.values()})


def test_csv_cells_that_would_be_formulas_are_neutralised(runner, ledger, tmp_path):
    ledger.append(
        entry(
            page_url='=HYPERLINK("https://evil.example")',
            ip_prefix="+1",
            policy_version="-2+3",
            user_agent={"browser": "@SUM(A1)"},
            language="@en",
        )
    )
    path = export(runner, tmp_path, "csv")
    row = next(csv.DictReader(io.StringIO(path.read_text())))
    assert row["page_url"] == '\'=HYPERLINK("https://evil.example")'
    assert row["ip_prefix"] == "'+1"
    assert row["policy_version"] == "'-2+3"
    assert row["language"] == "'@en"
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@")), value
    # Neutralising is reversible: the file still verifies.
    assert runner.invoke(args=["verify-export", str(path)]).exit_code == 0


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_written_in_parallel_parts_is_the_single_pass_export(
    runner, ledger, monkeypatch, tmp_path, fmt
):
    from consent import exports

    odd = {"page_url": '=HYPERLINK("x")', "controller": 'MIXVOIP "Sa",\r\nLuxembourg'}
    ledger.append_many(
        [entry(consent_id=f"00000000-0000-4000-8000-{i:012d}") for i in range(700)]
        + [entry("voxbi.com", action="accept_all", **odd) for _ in range(13)]
        + [entry("mixvoip.org", action="accept_all" if i % 3 else "refuse_all") for i in range(301)]
    )
    sql(
        ledger.engine,
        "DELETE FROM consent_log WHERE site_id = :s AND seq BETWEEN 100 AND 340",
        s=SITE,
    )
    exports_of = {}
    for workers, least in ((1, 50_000), (2, 1), (3, 1), (7, 1)):
        monkeypatch.setattr(exports, "PARALLEL_MIN", least)
        for name, extra in (("all", []), ("accepted", ["--action", "accept_all"])):
            path = tmp_path / f"{name}-{workers}.{fmt}"
            result = runner.invoke(
                args=[
                    "export",
                    "--format",
                    fmt,
                    "--workers",
                    str(workers),
                    "--output",
                    str(path),
                    *extra,
                ]
            )
            assert result.exit_code == 0, result.output
            exports_of[name, workers] = (path.read_bytes(), result.output)
    for (name, workers), (content, said) in exports_of.items():
        assert content == exports_of[name, 1][0], (name, workers)
        expected = {"all": 773, "accepted": 13 + 200}[name]
        assert f"Exported {expected} record(s)" in said
    assert not [p.name for p in tmp_path.iterdir() if ".part" in p.name]
    assert runner.invoke(args=["verify-export", str(tmp_path / f"all-3.{fmt}")]).exit_code == 0


PLAIN_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(0, 2**40),
    st.text(st.characters(blacklist_characters="=+-@\t\r'"), max_size=12),
    st.dictionaries(st.text(max_size=4), st.booleans(), max_size=3),
)
ODD_VALUES = st.one_of(
    st.integers(-(2**40), -1),
    st.text(max_size=12),
    st.sampled_from(["=1+1", "-2", "+x", "@a", "\tx", "\rx", "'q", 'a,"b"', "a\nb", "é,ü"]),
)
# Usual rows, some with one odd cell: where a formula guard or quoting is needed.
CSV_ROWS = st.tuples(
    st.lists(PLAIN_VALUES, min_size=len(COLUMNS), max_size=len(COLUMNS)),
    st.none() | st.tuples(st.integers(0, len(COLUMNS) - 1), ODD_VALUES),
)


@settings(max_examples=300, deadline=None)
@given(CSV_ROWS)
def test_a_csv_line_guards_and_quotes_every_cell_as_documented(example):
    row, odd = example
    if odd is not None:
        row[odd[0]] = odd[1]

    def cell(name, value):
        if value is None:
            text_ = ""
        elif isinstance(value, bool):
            text_ = "true" if value else "false"
        elif isinstance(value, dict):
            text_ = canonical(value).decode()
        else:
            text_ = str(value)
        if text_.startswith(("=", "+", "-", "@", "\t", "\r", "'")):
            text_ = "'" + text_
        quoted = name in ("controller", "categories", "partners", "user_agent")
        if quoted or any(c in text_ for c in ',"\r\n'):
            text_ = '"' + text_.replace('"', '""') + '"'
        return text_

    expected = ",".join(cell(n, v) for n, v in zip(COLUMNS, row, strict=True)) + "\r\n"
    assert csv_line(row) == expected


def test_the_published_snippet_verifies_an_export(runner, five, tmp_path):
    """docs/verification.md's standalone Python, run as a court expert would run it."""
    doc = (PROJECT_ROOT / "docs" / "verification.md").read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", doc, re.S)
    assert snippet, "docs/verification.md has no python snippet"
    script = tmp_path / "verify_export.py"
    script.write_text(snippet.group(1))
    path = export(runner, tmp_path, "jsonl")
    ok = subprocess.run(
        [sys.executable, "-I", str(script), str(path)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "7 records verify" in ok.stdout
    path.write_text(path.read_text().replace("203.0.113.0/24", "203.0.113.7/32", 1))
    broken = subprocess.run(
        [sys.executable, "-I", str(script), str(path)], capture_output=True, text=True
    )
    assert broken.returncode == 1
    assert "mixvoip.com #1" in broken.stdout


# --- erasure --------------------------------------------------------------------------------


def test_erasure_keeps_the_chain_verifying_and_shows_as_redacted(runner, five, app, tmp_path):
    visitor = "00000000-0000-4000-8000-000000000002"
    result = runner.invoke(args=["erase", visitor, "--yes"])
    assert result.exit_code == 0, result.output
    assert "1 record(s)" in result.output
    assert verify(runner).exit_code == 0

    rows = [json.loads(line) for line in export(runner, tmp_path, "jsonl").read_text().splitlines()]
    erased = [r for r in rows if r["consent_id"] == visitor]
    assert len(erased) == 1
    for name in (
        "user_agent",
        "ip_prefix",
        "page_url",
        "user_agent_salt",
        "ip_salt",
        "page_url_salt",
    ):
        assert erased[0][name] is None
    assert erased[0]["redacted_at"] and erased[0]["ip_digest"]
    others = [r for r in rows if r["consent_id"] != visitor]
    assert all(r["ip_prefix"] == "203.0.113.0/24" and not r["redacted_at"] for r in others)
    assert (
        runner.invoke(args=["verify-export", str(tmp_path / "log.jsonl"), "--complete"]).exit_code
        == 0
    )
    with app.app_context():
        event = db.session.execute(
            text("SELECT actor, action, subject FROM audit_events WHERE action = 'log.erase'")
        ).one()
    assert event.subject == visitor and event.actor.startswith("cli")


def test_erasing_an_unknown_consent_id_says_so(runner, five):
    result = runner.invoke(args=["erase", "99999999-9999-4999-8999-999999999999", "--yes"])
    assert result.exit_code == 1 and "no record has consent id" in result.output


def test_a_value_put_back_after_erasure_is_caught(runner, five):
    visitor = "00000000-0000-4000-8000-000000000001"
    assert runner.invoke(args=["erase", visitor, "--yes"]).exit_code == 0
    sql(
        five.engine,
        "UPDATE consent_log SET page_url = 'https://x.example/' WHERE consent_id = :c",
        c=visitor,
    )
    result = verify(runner)
    assert result.exit_code == 1 and "page_url was altered" in first_break(result)


# --- retention ------------------------------------------------------------------------------


@pytest.fixture
def aged(ledger):
    """mixvoip.com: 3 records 6 years old, 2 a year old, 1 a month old; voxbi.com: 1 new."""
    write_chain(ledger.engine, SITE, [ago(days=2200), ago(days=2199), ago(days=2198)])
    write_chain(ledger.engine, SITE, [ago(days=400), ago(days=399)])
    write_chain(ledger.engine, SITE, [ago(days=30)])
    ledger.append(entry("voxbi.com"))
    return ledger


def test_a_dry_run_changes_nothing(runner, aged, app):
    result = runner.invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        "mixvoip.com: 3 record(s) up to #3 would be purged; 5 IP prefix(es) would be erased"
        in result.output
    )
    with app.app_context():
        count = db.session.execute(text("SELECT count(*) FROM consent_log")).scalar_one()
        ips = db.session.execute(
            text("SELECT count(*) FROM consent_log WHERE ip_prefix IS NULL")
        ).scalar_one()
    assert (count, ips) == (7, 0)


def test_purge_removes_what_is_past_retention_and_the_rest_verifies(runner, aged, app):
    with app.app_context():
        third = db.session.execute(
            text("SELECT hash FROM consent_log WHERE site_id = :s AND seq = 3"), {"s": SITE}
        ).scalar_one()
    result = runner.invoke(args=["purge", "--json"])
    assert result.exit_code == 0, result.output
    outcome = {r["site"]: r for r in json.loads(result.output)}
    assert outcome[SITE]["purged"] == 3 and outcome[SITE]["ended_at_hash"] == third
    assert outcome[SITE]["ip_prefixes_erased"] == 2  # the year-old ones; 6-year-old are gone
    assert verify(runner).exit_code == 0

    with app.app_context():
        left = db.session.execute(
            text("SELECT seq, ip_prefix, ip_salt FROM consent_log WHERE site_id = :s ORDER BY seq"),
            {"s": SITE},
        ).all()
        checkpoint = db.session.execute(
            text("SELECT through_seq, hash, purged_count, reason, actor FROM chain_checkpoints")
        ).one()
        audit = db.session.execute(text("SELECT action FROM audit_events")).scalars().all()
    assert [(r.seq, r.ip_prefix) for r in left] == [(4, None), (5, None), (6, "203.0.113.0/24")]
    assert checkpoint.through_seq == 3 and checkpoint.hash == third and checkpoint.purged_count == 3
    assert "retention" in checkpoint.reason and checkpoint.actor.startswith("cli")
    assert audit == ["log.purge"]

    # Nothing more to do; the chain keeps growing and verifying from the checkpoint.
    again = runner.invoke(args=["purge", "--json"])
    assert {r["site"]: r["purged"] for r in json.loads(again.output)}[SITE] == 0
    aged.append(entry())
    assert verify(runner).exit_code == 0
    # A record removed after the checkpoint is still caught.
    sql(aged.engine, "DELETE FROM consent_log WHERE site_id = :s AND seq = 4", s=SITE)
    result = verify(runner)
    assert result.exit_code == 1 and "mixvoip.com record #5" in first_break(result)


def test_purge_refuses_to_bury_a_tampered_chain(runner, aged, app):
    sql(
        aged.engine,
        "UPDATE consent_log SET action = 'accept_all' WHERE site_id = :s AND seq = 2",
        s=SITE,
    )
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 1
    assert "REFUSED mixvoip.com" in result.output and "record #2" in result.output
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM chain_checkpoints")).scalar_one() == 0


def test_retention_is_read_per_site_from_sites_yaml(database_url, tmp_path):
    config = yaml.safe_load((PROJECT_ROOT / "sites.yaml").read_text(encoding="utf-8"))
    for site in config["sites"]:
        if site["id"] == SITE:
            site["retention"] = {"years": 1, "ip_months": 1}
    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    app = create_app(app_settings(database_url, tmp_path / "i", CONSENT_SITES_FILE=str(sites_file)))
    ledger = app.extensions["consent"].ledger
    try:
        write_chain(ledger.engine, SITE, [ago(days=2200), ago(days=400), ago(days=40)])
        write_chain(ledger.engine, "voxbi.com", [ago(days=400), ago(days=40)])
        result = app.test_cli_runner().invoke(args=["purge", "--dry-run", "--json"])
        assert result.exit_code == 0, result.output
        outcome = {r["site"]: r for r in json.loads(result.output)}
        assert (outcome[SITE]["purged"], outcome[SITE]["ip_prefixes_erased"]) == (2, 3)
        assert (outcome["voxbi.com"]["purged"], outcome["voxbi.com"]["ip_prefixes_erased"]) == (
            0,
            1,
        )
    finally:
        ledger.close()
        with app.app_context():
            db.engine.dispose()


TAMPERING = {
    "update": ["UPDATE consent_log SET action = 'accept_all' WHERE site_id = :s AND seq = 23"],
    "delete": ["DELETE FROM consent_log WHERE site_id = :s AND seq IN (20, 21)"],
    "delete at a range end": ["DELETE FROM consent_log WHERE site_id = :s AND seq = 14"],
    "swap": [
        "UPDATE consent_log SET seq = -1 WHERE site_id = :s AND seq = 14",
        "UPDATE consent_log SET seq = 14 WHERE site_id = :s AND seq = 15",
        "UPDATE consent_log SET seq = 15 WHERE site_id = :s AND seq = -1",
    ],
    "truncate": ["DELETE FROM consent_log WHERE site_id = :s AND seq >= 39"],
    "none": [],
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_parallel_verification_finds_what_a_single_pass_finds(ledger, monkeypatch, case):
    from consent import legal

    ledger.append_many([entry() for _ in range(40)])
    for statement in TAMPERING[case]:
        sql(ledger.engine, statement, s=SITE)
    single = legal.verify(ledger.engine)
    monkeypatch.setattr(legal, "PARALLEL_MIN", 1)
    parallel = legal.verify(ledger.engine, workers=3)  # ranges of 14: ends at #14, #28
    assert parallel.records == single.records
    assert [(b.site_id, b.seq) for b in parallel.breaks] == [
        (b.site_id, b.seq) for b in single.breaks
    ]
    assert parallel.ok == (case == "none")
