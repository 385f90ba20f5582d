"""Accounts, for admins: create one, change its role, deactivate or reactivate it.

Every change lands in the audit trail. An admin cannot demote or deactivate their own account,
so the admin can never lock itself out.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length

from consent.admin import bp
from consent.admin.access import add_to_menu, requires
from consent.admin.audit import record_audit
from consent.extensions import db
from consent.models import User
from consent.users import MIN_PASSWORD, ROLES, UserError, create_user


class NewUserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=list(ROLES), validators=[DataRequired()])
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD,
                max=1024,
                message=f"the password must have at least {MIN_PASSWORD} characters",
            ),
        ],
        description=f"At least {MIN_PASSWORD} characters; give it to the person safely.",
    )


def _accounts() -> list[User]:
    return list(db.session.execute(db.select(User).order_by(User.email)).scalars())


@bp.route("/users", methods=["GET", "POST"])
@requires("admin")
def users() -> Any:
    form = NewUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = create_user(
                db.session, form.email.data or "", form.role.data or "", form.password.data or ""
            )
        except UserError as problem:
            db.session.rollback()
            getattr(form, problem.field).errors = [str(problem)]
        else:
            record_audit(current_user.email, "users.create", None, None, _describe(user))
            flash(f"Created the {user.role} account {user.email}.")
            return redirect(url_for("admin.users"))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("admin/users.html", form=form, accounts=_accounts(), roles=ROLES), status


@bp.post("/users/<int:user_id>")
@requires("admin")
def change_user(user_id: int) -> Any:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, description="There is no such account.")
    before = _describe(user)
    role = request.form.get("role", user.role)
    active = request.form.get("active", "1" if user.active else "0") == "1"
    if role not in ROLES:
        abort(400, description=f"The role must be one of {', '.join(ROLES)}.")
    if user.id == current_user.id and (role != user.role or not active):
        flash("You cannot change your own role or deactivate your own account.")
        return redirect(url_for("admin.users"))
    user.role, user.active = role, active
    db.session.commit()
    after = _describe(user)
    if after != before:
        record_audit(current_user.email, "users.change", None, before, after, subject=user.email)
        flash(f"Saved {user.email}: {user.role}, {'active' if user.active else 'deactivated'}.")
    return redirect(url_for("admin.users"))


def _describe(user: User) -> dict[str, Any]:
    return {"email": user.email, "role": user.role, "active": user.active}


add_to_menu("Users", "admin.users", order=90)
