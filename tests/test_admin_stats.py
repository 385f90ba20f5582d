"""The opt-in rates pages on generated decisions: the numbers shown are the numbers made."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter

import pytest

from consent import sample

SITES = {
    "mixvoip.org": ["google-ads", "linkedin-insight"],
    "voxbi.team": ["linkedin-insight", "meta-pixel"],
}


@pytest.fixture
def made(app):
    decisions = sample.decisions(SITES, 400, days=25, seed=11)
    sample.write(app.extensions["consent"].ledger, decisions)
    return decisions


@pytest.fixture
def marketing(sign_in):
    return sign_in("marketing")


def figure(page, name):
    return re.search(rf'data-figure="{name}">([^<]+)<', page).group(1)


def recent(decisions, site=None, days=30):
    since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days - 1)
    return [
        d for d in decisions if (site is None or d.site == site) and d.created_at.date() >= since
    ]


def test_the_site_page_shows_the_counts_and_rates_of_the_decisions(marketing, made):
    chosen = recent(made, "mixvoip.org")
    actions = Counter(d.action for d in chosen)
    page = marketing.get("/admin/sites/mixvoip.org/stats?days=30").get_data(as_text=True)

    assert figure(page, "decisions") == f"{len(chosen):,}"
    for action in sample.ACTIONS:
        assert figure(page, action) == f"{actions[action]:,}"
    rate = sum(d.advertising for d in chosen) / len(chosen)
    assert figure(page, "advertising_rate") == f"{rate * 100:.1f} %"
    offered = sum(1 for d in chosen if "linkedin-insight" in d.partners)
    granted = sum(d.partners.get("linkedin-insight", False) for d in chosen)
    row = page.split('data-partner="linkedin-insight">', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="number">{offered}</td><td class="number">{granted}</td>' in row
    assert "Meta Pixel" not in row


def test_the_charts_are_svg_with_accessible_names(marketing, made):
    page = marketing.get("/admin/sites/voxbi.team/stats?days=30&by=week").get_data(as_text=True)
    charts = re.findall(r'<svg class="chart" role="img" aria-labelledby="(\S+) (\S+)"', page)
    assert len(charts) == 3
    for title_id, desc_id in charts:
        assert f'<title id="{title_id}">' in page and f'<desc id="{desc_id}">' in page
    total = len(recent(made, "voxbi.team"))
    assert f"{total:,} decisions from" in page
    assert "Opt-in rate per partner, voxbi.team" in page
    assert "<script" not in page


def test_the_overview_covers_all_sites(marketing, made):
    page = marketing.get("/admin/stats?days=30").get_data(as_text=True)
    assert figure(page, "decisions") == f"{len(recent(made)):,}"
    assert 'href="/admin/sites/voxbi.team/stats?days=30&amp;by=day"' in page


def test_the_csv_has_the_same_numbers(marketing, made):
    response = marketing.get("/admin/sites/mixvoip.org/stats.csv?days=30&by=day")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 30
    per_day = Counter(d.created_at.date().isoformat() for d in recent(made, "mixvoip.org"))
    assert {r["day"]: int(r["decisions"]) for r in rows if int(r["decisions"])} == dict(per_day)
    for r in rows:
        assert int(r["decisions"]) == sum(int(r[a]) for a in sample.ACTIONS)

    partners = marketing.get("/admin/sites/mixvoip.org/stats.csv?days=30&table=partners")
    table = {r["partner"]: r for r in csv.DictReader(io.StringIO(partners.get_data(as_text=True)))}
    assert set(table) == {"google-ads", "linkedin-insight"}
    google = [d.partners["google-ads"] for d in recent(made, "mixvoip.org")]
    assert (int(table["google-ads"]["offered"]), int(table["google-ads"]["granted"])) == (
        len(google),
        sum(google),
    )


def test_an_empty_period_and_odd_parameters_still_render(marketing):
    page = marketing.get("/admin/sites/voxbi.com/stats?days=abc&by=year")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert figure(text, "decisions") == "0"
    assert "No decisions in this period." in text
    assert marketing.get("/admin/sites/nowhere.test/stats").status_code == 404
