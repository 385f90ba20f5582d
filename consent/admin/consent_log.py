"""Legal's pages: the consent log (filter, page, download), one visitor's proof of consent
(history, texts shown, place in the chain, JSON for access and portability, erasure), and the
chain (heads to keep as an anchor, verification on demand).

Legal and admin accounts only. Downloads stream with constant memory; every export and every
erasure lands in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson
from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField
from wtforms.validators import DataRequired

from consent.admin import bp
from consent.admin.access import add_to_menu, requires
from consent.admin.audit import record_audit
from consent.exports import FORMATS, LogFilter, export_filter, lines
from consent.extensions import db
from consent.legal import anchor, erase, place_problem, read_log, verify
from consent.models import BannerText, ChainCheckpoint
from consent.services import services

PAGE_SIZE = 50
ACTIONS = ("accept_all", "refuse_all", "custom", "withdraw")
_CONSENT_ID = re.compile(r"^[0-9A-Za-z-]{1,36}$")
_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def _day(value: str | None, problems: list[str], label: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"{label}: {value!r} is not a date (YYYY-MM-DD)")
        return None


def _filter_from(args: Any) -> tuple[LogFilter, dict[str, str], list[str]]:
    """The filter in the query string, the form's values, and what was wrong with them."""
    problems: list[str] = []
    sites = [s.id for s in services().config.sites]
    site = args.get("site") or None
    if site is not None and site not in sites:
        problems.append(f"site: {site!r} is not one of {', '.join(sites)}")
        site = None
    action = args.get("action") or None
    if action is not None and action not in ACTIONS:
        problems.append(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
        action = None
    consent_id = (args.get("consent_id") or "").strip() or None
    if consent_id is not None and not _CONSENT_ID.match(consent_id):
        problems.append("consent id: letters, digits and dashes only, up to 36")
        consent_id = None
    since = _day(args.get("since"), problems, "from")
    until = _day(args.get("until"), problems, "to")
    wanted = LogFilter(
        site=site,
        since=dt.datetime.combine(since, dt.time(), dt.UTC) if since else None,
        until=dt.datetime.combine(until, dt.time(), dt.UTC) + dt.timedelta(days=1)
        if until
        else None,
        action=action,
        consent_id=consent_id,
    )
    form = {
        "site": site or "",
        "action": action or "",
        "consent_id": consent_id or "",
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }
    return wanted, form, problems


def _after(token: str | None) -> tuple[str, int] | None:
    if not token or ":" not in token:
        return None
    site, _, seq = token.rpartition(":")
    return (site, int(seq)) if seq.isdigit() else None


@bp.get("/log")
@requires("legal")
def log() -> Any:
    wanted, form, problems = _filter_from(request.args)
    after = _after(request.args.get("after"))
    with db.engine.connect() as connection:
        rows = list(
            read_log(
                connection,
                site=wanted.site,
                since=wanted.since,
                until=wanted.until,
                action=wanted.action,
                consent_id=wanted.consent_id,
                after=after,
                limit=PAGE_SIZE + 1,
            )
        )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_after = f"{rows[-1]['site_id']}:{rows[-1]['seq']}" if more else None
    return render_template(
        "admin/log.html",
        rows=rows,
        form=form,
        problems=problems,
        sites=[s.id for s in services().config.sites],
        actions=ACTIONS,
        next_after=next_after,
        formats=FORMATS,
        filtered={k: v for k, v in form.items() if v},
    ), (400 if problems else 200)


@bp.get("/log/export.<fmt>")
@requires("legal")
def log_export(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404, f"There is no export format {fmt!r}; use csv or jsonl.")
    wanted, _, problems = _filter_from(request.args)
    if problems:
        flash("; ".join(problems))
        return redirect(url_for("admin.log", **request.args))
    record_audit(
        current_user.email,
        "log.export",
        wanted.site,
        None,
        {"format": fmt, "via": "admin"},
        subject=wanted.consent_id,
        detail=export_filter(wanted),
    )
    engine = db.engine
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(
        lines(engine, wanted, fmt),  # needs no request context: nothing held open
        mimetype=_MEDIA[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="consent-log-{stamp}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


class EraseForm(FlaskForm):
    confirm = BooleanField(
        "I confirm the visitor asked for erasure and quoted this consent id",
        validators=[DataRequired(message="tick the box to confirm the erasure")],
    )


def _texts(hashes: set[str]) -> dict[str, dict[str, Any]]:
    if not hashes:
        return {}
    found = db.session.execute(
        select(BannerText.hash, BannerText.content).where(BannerText.hash.in_(hashes))
    ).all()
    return {h: orjson.loads(content) for h, content in found}


def _history(consent_id: str) -> list[dict[str, Any]]:
    with db.engine.connect() as connection:
        rows = list(read_log(connection, consent_id=consent_id))
        for row in rows:
            row["problem"] = place_problem(connection, row)
    return rows


def _not_found(consent_id: str) -> Any:
    abort(404, f"No record has the consent id {consent_id!r}.")


@bp.get("/log/<consent_id>")
@requires("legal")
def log_consent(consent_id: str) -> Any:
    if not _CONSENT_ID.match(consent_id):
        return _not_found(consent_id)
    rows = _history(consent_id)
    return render_template(
        "admin/log_consent.html",
        consent_id=consent_id,
        rows=rows,
        texts=_texts({r["texts_hash"] for r in rows}),
        erase_form=EraseForm(),
        printed_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


@bp.get("/log/<consent_id>.json")
@requires("legal")
def log_consent_json(consent_id: str) -> Any:
    """Everything recorded under one consent id, for the visitor's access or portability."""
    if not _CONSENT_ID.match(consent_id):
        return _not_found(consent_id)
    rows = _history(consent_id)  # none: the answer to an access request is "nothing held"
    texts = _texts({r["texts_hash"] for r in rows})
    record_audit(
        current_user.email,
        "log.export",
        None,
        None,
        {"format": "json", "records": len(rows), "via": "admin"},
        subject=consent_id,
    )
    body = {
        "consent_id": consent_id,
        "controller": rows[0]["controller"] if rows else services().config.controller.label,
        "exported_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "records": [
            {
                "site": r["site_id"],
                "position": r["seq"],
                "action": r["action"],
                "categories": r["categories"],
                "partners": r["partners"],
                "recorded_at": r["created_at"],
                "expires_at": r["expires_at"],
                "revision": r["revision"],
                "policy_version": r["policy_version"],
                "language": r["language"],
                "texts_hash": r["texts_hash"],
                "gpc": r["gpc"],
                "user_agent": r["user_agent"],
                "ip_prefix": r["ip_prefix"],
                "page_url": r["page_url"],
                "redacted_at": r["redacted_at"],
                "hash": r["hash"],
                "prev_hash": r["prev_hash"],
                "verified": r["problem"] is None,
            }
            for r in rows
        ],
        "texts_shown": texts,
    }
    return Response(
        orjson.dumps(body, option=orjson.OPT_INDENT_2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="consent-{consent_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/log/<consent_id>/erase")
@requires("legal")
def log_erase(consent_id: str) -> Any:
    form = EraseForm()
    if not _CONSENT_ID.match(consent_id):
        return _not_found(consent_id)
    if not form.validate_on_submit():
        problems = [e for errors in form.errors.values() for e in errors]
        flash("Nothing was erased: " + "; ".join(problems))
        return redirect(url_for("admin.log_consent", consent_id=consent_id))
    count = erase(services().ledger, consent_id, current_user.email, audit=record_audit)
    if not count:
        flash(f"No record has the consent id {consent_id}; nothing was erased.")
        return redirect(url_for("admin.log_consent", consent_id=consent_id))
    flash(
        f"Erased the user agent, IP prefix and page URL of {count} record(s); "
        "the decisions stay and the chain still verifies."
    )
    return redirect(url_for("admin.log_consent", consent_id=consent_id))


@bp.get("/chain")
@requires("legal")
def chain() -> str:
    return _chain_page(report=None)


@bp.post("/chain/verify")
@requires("legal")
def chain_verify() -> str:
    """Recompute every chain now (a form post: it reads the whole log)."""
    started = dt.datetime.now(dt.UTC)
    report = verify(db.engine)
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return _chain_page(report=report, seconds=seconds)


def _chain_page(**verification: Any) -> str:
    """The chain heads, as an anchor to keep, and the checkpoints; a verification if one ran."""
    current = anchor(db.engine)
    checkpoints = list(
        db.session.execute(
            select(ChainCheckpoint).order_by(ChainCheckpoint.site_id, ChainCheckpoint.through_seq)
        ).scalars()
    )
    return render_template(
        "admin/chain.html",
        anchor=current,
        anchor_json=orjson.dumps(current.to_json(), option=orjson.OPT_INDENT_2).decode(),
        checkpoints=checkpoints,
        **verification,
    )


@bp.get("/chain/anchor.json")
@requires("legal")
def chain_anchor() -> Response:
    current = anchor(db.engine)
    stamp = current.created_at.replace(":", "").replace("-", "")[:15]
    return Response(
        orjson.dumps(current.to_json(), option=orjson.OPT_INDENT_2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="consent-anchor-{stamp}Z.json"',
            "Cache-Control": "no-store",
        },
    )


add_to_menu("Consent log", "admin.log")
add_to_menu("Chain", "admin.chain")
