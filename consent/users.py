"""Admin accounts: create, authenticate. Passwords are stored as scrypt hashes (werkzeug)."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from consent.models import User

ROLES = ("marketing", "legal", "admin")
MIN_PASSWORD = 12
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")


@cache
def _dummy_hash() -> str:
    """Checked against when the email is unknown, so both paths cost one scrypt. Made on first
    use, not at import: every worker and every CLI command imports this module."""
    return generate_password_hash("not a real password")


class UserError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(session: Session, email: str, role: str, password: str) -> User:
    """Add an account; :class:`UserError` names the field when it cannot be made."""
    email = normalise_email(email)
    if not EMAIL.match(email) or len(email) > 254:
        raise UserError("email", f"{email!r} is not an email address")
    if role not in ROLES:
        raise UserError("role", f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError("password", f"the password must have at least {MIN_PASSWORD} characters")
    if session.execute(select(User.id).where(func.lower(User.email) == email)).first():
        raise UserError("email", f"an account for {email} already exists")
    user = User(email=email, role=role, password_hash=generate_password_hash(password))
    session.add(user)
    session.commit()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or ``None``."""
    user = session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = dt.datetime.now(dt.UTC)
    session.commit()
    return user
