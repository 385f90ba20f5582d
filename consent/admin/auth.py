"""Signing in and out of the admin: email and password, rate-limited, CSRF-protected."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from consent.admin import bp
from consent.admin.access import public, requires, safe_next
from consent.extensions import db, limiter
from consent.services import services
from consent.users import authenticate


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _login_rate_limit() -> str:
    return services().settings.login_rate_limit


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
@public
def login() -> Any:
    form = LoginForm()
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or url_for("admin.dashboard"))
    error = None
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is not None:
            # A new session on sign-in, so that nothing planted before it survives (fixation).
            session.clear()
            login_user(user)
            return redirect(target or url_for("admin.dashboard"))
        error = "The email or the password is wrong, or the account is deactivated."
    status = 401 if error else 200
    return render_template("admin/login.html", form=form, error=error, next=target), status


@bp.post("/logout")
@requires()
def logout() -> Any:
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))
