"""Marketing's partner switches per site, and additions to the partner catalogue.

Saving a site's switches calls :meth:`Catalogue.switch_partners`: a new revision, archived,
audited, and live in ``/v1/sites/<site>/config`` and ``widget.js`` at once (see
``docs/admin.md`` for how every worker learns of it).
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional

from consent.admin import bp
from consent.admin.access import add_to_menu, requires
from consent.catalogue import CatalogueError, SiteView
from consent.services import services
from consent.sites import Partner as PartnerSpec


def _site_or_404(site_id: str) -> SiteView:
    # Fresh from the database, not the worker's snapshot (up to a second old): marketing
    # must see and save against the revision another worker may have just written.
    view = services().catalogue.refresh().sites.get(site_id)
    if view is None:
        abort(404, description=f"There is no site called {site_id!r}.")
    return view


@bp.get("/sites")
@requires("marketing")
def sites() -> str:
    svc = services()
    views = [svc.catalogue.site(site.id) for site in svc.config.sites]
    return render_template("admin/sites.html", sites=[v for v in views if v is not None])


@bp.route("/sites/<site_id>", methods=["GET", "POST"])
@requires("marketing")
def site(site_id: str) -> Any:
    svc = services()
    view = _site_or_404(site_id)
    error, status = None, 200
    if request.method == "POST":
        wanted = request.form.getlist("partners")
        seen = request.form.get("revision", "")
        if seen != str(view.revision):
            error = (
                f"Someone saved this site meanwhile (now revision {view.revision}); "
                "your change was not saved. Check the switches below and save again."
            )
            status = 409
        else:
            try:
                after = svc.catalogue.switch_partners(site_id, wanted, current_user.email)
            except CatalogueError as problem:
                error, status = str(problem), 422
            else:
                if after.revision == view.revision:
                    flash(f"Nothing changed; the site stays at revision {view.revision}.")
                else:
                    names = ", ".join(p.name for p in after.partners) or "no partner"
                    flash(
                        f"Saved: {view.config.name} is now at revision {after.revision} ({names})."
                    )
                return redirect(url_for("admin.site", site_id=site_id))
        view = _site_or_404(site_id)
    catalogue = services().catalogue.snapshot().partners
    return render_template(
        "admin/site.html",
        site=view,
        partners=list(catalogue.values()),
        enabled=set(view.partner_ids),
        languages=view.config.languages,
        error=error,
    ), status


class PartnerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=300)])
    partner_id = StringField(
        "Identifier",
        validators=[Optional(), Length(max=63)],
        description="Lower-case letters, digits and hyphens; made from the name when empty.",
    )
    category = SelectField("Category", validators=[DataRequired()])
    privacy_url = URLField("Privacy policy URL", validators=[DataRequired(), Length(max=500)])
    purpose = TextAreaField(
        "Purpose (English)",
        validators=[DataRequired(), Length(max=300)],
        description="What the partner does with the visit, as the banner tells visitors.",
    )
    purpose_fr = TextAreaField("Purpose (French)", validators=[Optional(), Length(max=300)])
    purpose_de = TextAreaField("Purpose (German)", validators=[Optional(), Length(max=300)])
    purpose_nl = TextAreaField(
        "Purpose (Dutch)",
        validators=[Optional(), Length(max=300)],
        description="A language left empty shows the English purpose.",
    )
    cookies = TextAreaField(
        "Cookie names",
        validators=[Optional(), Length(max=5000)],
        description="One per line; optionally a lifetime after a comma: _fbp, 90 days.",
    )
    hosts = TextAreaField(
        "Hosts",
        validators=[Optional(), Length(max=5000)],
        description="One per line, e.g. connect.facebook.net or *.doubleclick.net.",
    )


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63]


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _cookie(line: str) -> dict[str, str]:
    name, _, lifetime = (part.strip() for part in line.partition(","))
    return {"name": name, "lifetime": lifetime} if lifetime else {"name": name}


_FIELD_OF = {"id": "partner_id", "privacy_url": "privacy_url", "purpose": "purpose"}


@bp.route("/partners/new", methods=["GET", "POST"])
@requires("marketing")
def new_partner() -> Any:
    svc = services()
    form = PartnerForm()
    form.category.choices = [c.id for c in svc.config.categories if not c.required]
    status = 200
    if form.validate_on_submit():
        raw = {
            "id": form.partner_id.data or slug(form.name.data or ""),
            "name": (form.name.data or "").strip(),
            "category": form.category.data,
            "privacy_url": (form.privacy_url.data or "").strip(),
            "purpose": {
                language: text.strip()
                for language, text in (
                    ("en", form.purpose.data),
                    ("fr", form.purpose_fr.data),
                    ("de", form.purpose_de.data),
                    ("nl", form.purpose_nl.data),
                )
                if text and text.strip()
            },
            "cookies": [_cookie(line) for line in _lines(form.cookies.data)],
            "hosts": _lines(form.hosts.data),
        }
        try:
            partner = svc.catalogue.add_partner(PartnerSpec.model_validate(raw), current_user.email)
        except ValidationError as problem:
            for item in problem.errors():
                where = str(item["loc"][0]) if item["loc"] else "name"
                field = getattr(form, _FIELD_OF.get(where, where), form.name)
                field.errors = [*field.errors, _readable(item, raw)]
        except CatalogueError as problem:
            field = getattr(form, _FIELD_OF.get(problem.field, problem.field), form.name)
            field.errors = [*field.errors, str(problem)]
        else:
            flash(f"{partner.name} is in the catalogue; switch it on for a site below.")
            return redirect(url_for("admin.sites"))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("admin/partner_new.html", form=form), status


def _readable(item: Any, raw: dict[str, Any]) -> str:
    """One pydantic error as a sentence naming the offending value."""
    loc = item["loc"]
    where = loc[0] if loc else "value"
    if where == "cookies" and len(loc) > 1 and isinstance(loc[1], int):
        return f"cookie {raw['cookies'][loc[1]]['name']!r} is not a valid cookie name"
    if where == "hosts" and len(loc) > 1 and isinstance(loc[1], int):
        return f"{raw['hosts'][loc[1]]!r} is not a host name (like connect.facebook.net)"
    if where == "id":
        return "use lower-case letters, digits and hyphens (at most 63)"
    if where == "privacy_url":
        return "give a full address starting with https://"
    return str(item["msg"])


add_to_menu("Partners", "admin.sites", order=10)
