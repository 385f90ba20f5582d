"""Opt-in statistics counted by the database match the decisions that were made."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from consent import sample, stats
from consent.extensions import db
from consent.legal import verify

SITES = {
    "mixvoip.com": ["google-ads", "meta-pixel", "linkedin-insight", "microsoft-ads"],
    "voxbi.com": ["google-ads", "meta-pixel", "microsoft-ads"],
}
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def made(app):
    decisions = sample.decisions(SITES, 600, days=20, seed=7, now=NOW)
    sample.write(app.extensions["consent"].ledger, decisions)
    return decisions


def expected(decisions, site, since):
    chosen = [d for d in decisions if d.site == site and d.created_at.date() >= since]
    by_day = Counter((d.created_at.date(), d.action) for d in chosen)
    advertising = sum(d.advertising for d in chosen)
    partners = Counter()
    for d in chosen:
        for partner, granted in d.partners.items():
            partners[(partner, "offered")] += 1
            partners[(partner, "granted")] += granted
    return chosen, by_day, advertising, partners


def test_counts_per_day_action_and_partner_match_the_decisions(app, made):
    today = NOW.date()
    with app.app_context():
        figures = stats.opt_in_stats(db.engine, ["mixvoip.com"], days=14, today=today)
    chosen, by_day, advertising, partners = expected(made, "mixvoip.com", figures.since)

    assert figures.decisions == len(chosen) > 0
    for period in figures.periods:
        for action in stats.ACTIONS:
            assert period.by_action[action] == by_day[(period.start, action)]
    assert len(figures.periods) == 14
    assert figures.advertising_granted == advertising
    assert {p.partner_id: (p.offered, p.granted) for p in figures.partners} == {
        partner: (partners[(partner, "offered")], partners[(partner, "granted")])
        for partner in SITES["mixvoip.com"]
    }


def test_weeks_add_up_the_days(app, made):
    with app.app_context():
        days = stats.opt_in_stats(db.engine, list(SITES), days=21, by="day", today=NOW.date())
        weeks = stats.opt_in_stats(db.engine, list(SITES), days=21, by="week", today=NOW.date())
    assert (
        weeks.decisions
        == days.decisions
        == len([d for d in made if d.created_at.date() >= days.since])
    )
    assert all(p.start.weekday() == 0 for p in weeks.periods[1:])
    assert len(weeks.periods) in (4, 5)


def test_the_rollup_counts_each_record_once_and_newer_records_still_show(app, made, post_consent):
    with app.app_context():
        rolled = stats.roll_up(db.engine)
        assert rolled == len(made)
        assert stats.roll_up(db.engine) == 0
    before = stats_total(app)
    post_consent(action="accept_all", categories={"technical": True, "advertising": True})
    with app.app_context():
        assert stats.roll_up(db.engine) == 0  # too fresh to roll up: counted from the log
    assert stats_total(app) == before + 1
    with app.app_context():
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)  # NOW is the module's import
        assert stats.roll_up(db.engine, now=later) == 1
    assert stats_total(app) == before + 1


def stats_total(app):
    with app.app_context():
        return stats.opt_in_stats(db.engine, ["mixvoip.com"], days=30).decisions


def test_sample_decisions_are_a_valid_chain(app, made):
    with app.app_context():
        assert verify(db.engine).ok


def test_the_stats_rollup_command_rolls_up_what_is_new(app, runner, made):
    result = runner.invoke(args=["stats-rollup"])
    assert result.exit_code == 0, result.output
    assert f"Added {len(made)} record(s)" in result.output
    assert "Added 0 record(s)" in runner.invoke(args=["stats-rollup"]).output
