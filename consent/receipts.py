"""Signed receipts: what the visitor's browser keeps as proof of the decision it made.

A receipt is ``<payload>.<timestamp>.<signature>``: the payload is base64url JSON that the
widget can read without the key (consent id, site, decisions, revision, time, the record's
chain position and hash); the timestamp and HMAC signature come from itsdangerous and only the
service can check them. The characters are all cookie-safe. A receipt is accepted until the
decision it proves expires (``exp``), never after.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from typing import Any

import orjson
from itsdangerous import BadSignature, TimestampSigner

from consent.ledger import Appended, timestamp

RECEIPT_SALT = "mixvoip-consent.receipt.v1"
MAX_RECEIPT = 4096


class ReceiptError(ValueError):
    """The receipt is missing, malformed, forged or not for this consent."""


class _ReceiptSigner(TimestampSigner):
    """itsdangerous' signer with its key derived once: it derives it again on every call."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is not None:
            return super().derive_key(secret_key)
        key = self.__dict__.get("_derived_key")
        if key is None:
            key = self.__dict__["_derived_key"] = super().derive_key()
        return key


class Receipts:
    def __init__(self, secret_key: str) -> None:
        # hashlib.sha1 itself (itsdangerous' default wraps it in a Python function), so that
        # hmac takes OpenSSL's HMAC: the same signature, computed in one C call.
        self._signer = _ReceiptSigner(secret_key, salt=RECEIPT_SALT, digest_method=hashlib.sha1)

    def issue(
        self,
        appended: Appended,
        *,
        action: str,
        categories: dict[str, bool],
        partners: dict[str, bool],
        revision: int,
    ) -> str:
        payload = {
            "v": 1,
            "cid": appended.consent_id,
            "site": appended.site_id,
            "seq": appended.seq,
            "act": action,
            "cat": categories,
            "par": partners,
            "rev": revision,
            "t": timestamp(appended.created_at),
            "exp": timestamp(appended.expires_at),
            "h": appended.hash,
        }
        body = base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=")
        return self._signer.sign(body).decode("ascii")

    def read(self, token: str | None) -> dict[str, Any]:
        """The payload of a genuine receipt; :class:`ReceiptError` otherwise."""
        if not token:
            raise ReceiptError("a receipt is required")
        if len(token) > MAX_RECEIPT:
            raise ReceiptError("the receipt is too long")
        try:
            body = self._signer.unsign(token.encode("ascii"))
        except (BadSignature, UnicodeEncodeError):
            raise ReceiptError("the receipt is not genuine (bad signature)") from None
        try:
            payload = orjson.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
        except (binascii.Error, orjson.JSONDecodeError, ValueError):
            raise ReceiptError("the receipt cannot be read") from None
        if not isinstance(payload, dict) or payload.get("v") != 1 or "cid" not in payload:
            raise ReceiptError("the receipt cannot be read")
        expires = payload.get("exp")
        if not isinstance(expires, str) or expires <= timestamp(dt.datetime.now(dt.UTC)):
            # The decision it proves has lapsed; the banner asks again and issues a new one.
            raise ReceiptError("the receipt has expired")
        return payload
