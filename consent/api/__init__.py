"""The public JSON API under ``/v1``: site configuration, widget script, consent records."""

from consent.api.routes import bp, register

__all__ = ["bp", "register"]
