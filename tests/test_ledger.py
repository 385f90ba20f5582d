"""The consent log's chain: every record linked, concurrent writers grouped, tampering found."""

from __future__ import annotations

import json
import threading

from hypothesis import given
from hypothesis import strategies as st
from legal_fixtures import entry
from sqlalchemy import text

from consent.extensions import db
from consent.ledger import GENESIS, canonical
from consent.legal import verify


def test_records_are_chained_per_site_from_genesis(app):
    ledger = app.extensions["consent"].ledger
    first = ledger.append(entry())
    second = ledger.append(entry())
    other = ledger.append(entry("voxbi.com"))

    assert (first.seq, second.seq, other.seq) == (1, 2, 1)
    with app.app_context():
        rows = db.session.execute(
            text("SELECT site_id, seq, prev_hash, hash FROM consent_log ORDER BY id")
        ).all()
    assert rows[0].prev_hash == GENESIS
    assert rows[1].prev_hash == rows[0].hash == first.hash
    assert rows[2].prev_hash == GENESIS
    assert verify(ledger.engine).ok


def test_concurrent_writers_are_grouped_without_gaps(app):
    ledger = app.extensions["consent"].ledger
    sites = ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"]
    results = []

    def write(index: int) -> None:
        for _ in range(25):
            results.append(ledger.append(entry(sites[index % 4])))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 400
    for site in sites:
        assert sorted(r.seq for r in results if r.site_id == site) == list(range(1, 101))
    report = verify(ledger.engine)
    assert report.ok, report.breaks
    assert report.checked == 400


def test_an_altered_record_is_named_by_verification(app):
    ledger = app.extensions["consent"].ledger
    for _ in range(3):
        ledger.append(entry())
    with ledger.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE consent_log SET action = 'accept_all' "
                "WHERE site_id = 'mixvoip.com' AND seq = 2"
            )
        )

    report = verify(ledger.engine)

    assert not report.ok
    assert report.breaks[0].site_id == "mixvoip.com"
    assert report.breaks[0].seq == 2
    assert "altered" in report.breaks[0].problem


def test_a_deleted_record_is_named_by_verification(app):
    ledger = app.extensions["consent"].ledger
    for _ in range(3):
        ledger.append(entry())
    with ledger.engine.begin() as connection:
        connection.execute(text("DELETE FROM consent_log WHERE seq = 2"))

    report = verify(ledger.engine)

    assert [(b.seq, "missing" in b.problem) for b in report.breaks] == [(3, True)]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_the_canonical_form_is_the_published_algorithm(value):
    published = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(value) == published.encode("utf-8")
