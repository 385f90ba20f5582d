"""The ledger's group commit at the driver level: stored like the ORM, all or nothing per batch."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import REFUSAL, log_rows
from sqlalchemy import text
from test_ledger import entry

from consent.extensions import db
from consent.ledger import LedgerUnavailable, build_row
from consent.legal import verify
from consent.models import ConsentRecord

BAD_ID = "0badbad0-0000-4000-8000-000000000000"


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


@pytest.fixture
def refused(app):
    """A trigger that makes the database itself refuse BAD_ID (a real write failure)."""
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON consent_log "
                    f"WHEN NEW.consent_id = '{BAD_ID}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE OR REPLACE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.consent_id = '{BAD_ID}' THEN "
                    "RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$ "
                    "LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON consent_log "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_one()"
                )
            )
    yield BAD_ID
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER refuse_one"))
        else:
            connection.execute(text("DROP TRIGGER refuse_one ON consent_log"))
            connection.execute(text("DROP FUNCTION refuse_one()"))


@pytest.mark.parametrize("personal", [True, False])
def test_rows_read_back_as_the_orm_would_have_stored_them(app, personal):
    ledger = app.extensions["consent"].ledger
    changes = {} if personal else {"user_agent": None, "ip_prefix": None, "page_url": None}
    fast = ledger.append_many([entry("mixvoip.com", **changes)])[0]
    # The same entry stored by SQLAlchemy Core, on another site's chain.
    row = build_row(entry("voxbi.com", **changes), 1, "0" * 64, fast.created_at)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(ConsentRecord.__table__.insert(), [row])
    stored = {r["site_id"]: r for r in log_rows(app)}
    ignore = {"id", "site_id", "seq", "prev_hash", "hash", "user_agent_salt", "ip_salt"}
    ignore |= {"page_url_salt", "user_agent_digest", "ip_digest", "page_url_digest"}
    # log_rows reads with plain SQL: the raw stored values, compared after the driver's decoding.
    orm = {k: v for k, v in stored["voxbi.com"].items() if k not in ignore}
    ours = {k: v for k, v in stored["mixvoip.com"].items() if k not in ignore}
    for name in ("categories", "partners", "user_agent"):
        if isinstance(orm[name], str):  # SQLite keeps JSON as text: compare it decoded
            orm[name], ours[name] = json.loads(orm[name]), json.loads(ours[name])
    assert ours == orm
    with app.app_context():
        null_counts = db.session.execute(
            text("SELECT site_id, user_agent IS NULL FROM consent_log ORDER BY site_id")
        ).all()
        assert null_counts[0][1] == null_counts[1][1]
        records = db.session.execute(ConsentRecord.__table__.select()).mappings().all()
    assert {r["created_at"].replace(tzinfo=None) for r in records} == {
        fast.created_at.replace(tzinfo=None)
    }
    assert {r["categories"]["advertising"] for r in records} == {False}
    assert verify(ledger.engine, ["mixvoip.com"]).ok  # the Core row has no chain head


def test_a_batch_is_stored_in_its_order_across_sites(app):
    ledger = app.extensions["consent"].ledger
    sites = ["voxbi.com", "mixvoip.com", "voxbi.com", "mixvoip.org", "mixvoip.com"]
    appended = ledger.append_many([entry(site, consent_id=str(uuid.uuid4())) for site in sites])
    by_id = sorted(log_rows(app), key=lambda row: row["id"])
    assert [row["consent_id"] for row in by_id] == [a.consent_id for a in appended]
    assert [(row["site_id"], row["seq"]) for row in by_id] == [
        ("voxbi.com", 1),
        ("mixvoip.com", 1),
        ("voxbi.com", 2),
        ("mixvoip.org", 1),
        ("mixvoip.com", 2),
    ]
    assert verify(ledger.engine).ok


def test_concurrent_posts_are_all_acknowledged_and_logged_on_a_valid_chain(app):
    def post(index: int) -> tuple[int, str]:
        consent_id = str(uuid.uuid4())
        site = ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"][index % 4]
        response = app.test_client().post(
            "/v1/consents",
            json={**REFUSAL, "site": site, "consent_id": consent_id},
        )
        return response.status_code, consent_id

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(post, range(320)))

    assert {status for status, _ in answers} == {201}
    rows = log_rows(app)
    assert sorted(r["consent_id"] for r in rows) == sorted(cid for _, cid in answers)
    for site in {r["site_id"] for r in rows}:
        seqs = [r["seq"] for r in rows if r["site_id"] == site]
        assert seqs == list(range(1, len(seqs) + 1))
    report = verify(app.extensions["consent"].ledger.engine)
    assert report.ok, report.breaks
    assert report.checked == 320


def hold_the_log(app):
    """A transaction that keeps the ledger's writer waiting (file lock / chain head row lock)."""
    ledger = app.extensions["consent"].ledger
    held = ledger.exclusive()
    connection = held.__enter__()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT site_id FROM chain_heads FOR UPDATE"))
    return held


def test_a_failed_batch_fails_every_request_in_it_and_writes_nothing(app, refused):
    ledger = app.extensions["consent"].ledger
    client_answers: dict[str, int] = {}

    def post(consent_id: str) -> None:
        response = app.test_client().post(
            "/v1/consents", json={**REFUSAL, "consent_id": consent_id}
        )
        client_answers[consent_id] = response.status_code

    post(str(uuid.uuid4()))  # the site's chain head and banner texts exist

    held = hold_the_log(app)
    blocker = str(uuid.uuid4())
    first = threading.Thread(target=post, args=(blocker,))
    first.start()
    wait_until(lambda: ledger.stats.writing == 1)  # the writer holds the blocker, waits
    batch = [str(uuid.uuid4()) for _ in range(6)] + [BAD_ID]
    threads = [threading.Thread(target=post, args=(cid,)) for cid in batch]
    for thread in threads:
        thread.start()
    wait_until(lambda: ledger._queue.qsize() == len(batch))
    held.__exit__(None, None, None)
    for thread in [first, *threads]:
        thread.join(timeout=30)

    assert client_answers[blocker] == 201
    assert {client_answers[cid] for cid in batch} == {503}
    logged = {r["consent_id"] for r in log_rows(app)}
    assert blocker in logged
    assert not logged & set(batch)
    report = verify(ledger.engine)
    assert report.ok, report.breaks
    # The log goes on after the failure, from the same head.
    after = ledger.append(entry("mixvoip.com", consent_id=str(uuid.uuid4())))
    assert after.seq == 3
    assert verify(ledger.engine).ok


def test_a_failed_transaction_is_all_or_nothing(app, refused):
    ledger = app.extensions["consent"].ledger
    good = [entry(site, consent_id=str(uuid.uuid4())) for site in ("mixvoip.com", "voxbi.com")]
    with pytest.raises(Exception, match="refused by test trigger"):
        ledger.append_many([good[0], entry("mixvoip.org", consent_id=BAD_ID), good[1]])
    assert log_rows(app) == []
    with app.app_context():
        heads = db.session.execute(text("SELECT count(*) FROM chain_heads WHERE seq > 0")).scalar()
    assert heads == 0
    assert [a.seq for a in ledger.append_many(good)] == [1, 1]
    assert verify(ledger.engine).ok


def test_a_write_that_fails_in_the_writer_raises_ledger_unavailable(app, refused):
    ledger = app.extensions["consent"].ledger
    with pytest.raises(LedgerUnavailable):
        ledger.append(entry("mixvoip.com", consent_id=BAD_ID))


def test_the_public_api_neither_reads_nor_sets_the_admin_session_cookie(client):
    client.set_cookie("consent_admin", "not-a-valid-session")
    response = client.post("/v1/consents", json=REFUSAL)
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_verifying_a_log_while_it_grows_reports_no_false_break(app):
    ledger = app.extensions["consent"].ledger
    sites = ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"]
    stop = threading.Event()

    def write(index: int) -> None:
        while not stop.is_set():
            ledger.append(entry(sites[index % 4], consent_id=str(uuid.uuid4())))

    writers = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in writers:
        thread.start()
    try:
        wait_until(lambda: ledger.stats.records >= 50)
        reports = [verify(ledger.engine) for _ in range(15)]
    finally:
        stop.set()
        for thread in writers:
            thread.join(timeout=30)
    assert [r.breaks for r in reports if not r.ok] == []
    assert reports[-1].checked >= reports[0].checked >= 50
    final = verify(ledger.engine)
    assert final.ok and final.checked == ledger.stats.records
