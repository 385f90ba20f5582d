"""The OpenAPI 3.1 description of /v1, generated from the pydantic models in ``schemas.py``."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from consent.api.schemas import (
    UUID4_PATTERN,
    ConsentCreated,
    ConsentHistory,
    ConsentRequest,
    Error,
)

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


_SITE = {
    "name": "site_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "example": "mixvoip.com",
}

_SITE_CONFIG = {
    "type": "object",
    "required": [
        "site",
        "name",
        "revision",
        "languages",
        "default_language",
        "categories",
        "partners",
        "cookie",
        "consent_mode",
        "policy",
        "controller",
    ],
    "properties": {
        "site": {"type": "string"},
        "name": {"type": "string"},
        "revision": {
            "type": "integer",
            "minimum": 1,
            "description": "Changes whenever what a visitor consents to changes.",
        },
        "languages": {"type": "array", "items": {"type": "string"}},
        "default_language": {"type": "string"},
        "categories": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "required", "cookies"],
                "properties": {
                    "id": {"type": "string"},
                    "required": {"type": "boolean"},
                    "cookies": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
        "partners": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "category"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "category": {"type": "string"},
                    "privacy_url": {"type": "string"},
                    "purpose": {"type": "object"},
                    "cookies": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
        "cookie": {
            "type": "object",
            "required": ["name", "refusal_months", "consent_months"],
            "properties": {
                "name": {"type": "string"},
                "domain": {"type": ["string", "null"]},
                "refusal_months": {"type": "integer"},
                "consent_months": {"type": "integer"},
            },
        },
        "consent_mode": {"type": "boolean"},
        "theme": {"type": "object"},
        "policy": {
            "type": "object",
            "required": ["url", "version"],
            "properties": {"url": {"type": "string"}, "version": {"type": "string"}},
        },
        "controller": {
            "type": "object",
            "required": ["name", "address", "dpo"],
            "properties": {
                "name": {"type": "string"},
                "address": {"type": "string"},
                "dpo": {"type": "string"},
            },
        },
    },
}


@cache
def document() -> dict[str, Any]:
    _, definitions = models_json_schema(
        [
            (ConsentRequest, "validation"),
            (ConsentCreated, "serialization"),
            (ConsentHistory, "serialization"),
            (Error, "serialization"),
        ],
        ref_template=REF,
    )
    schemas = definitions.get("$defs", {})
    schemas["SiteConfig"] = _SITE_CONFIG
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mixvoip Consent API",
            "version": "1",
            "description": (
                "Consent records for Mixvoip's sites. Errors are JSON "
                "{error, message, field?}. Data controller: MIXVOIP Sa."
            ),
        },
        "paths": {
            "/v1/sites/{site_id}/config": {
                "get": {
                    "operationId": "getSiteConfig",
                    "summary": "A site's categories, partners, revision and cookie settings",
                    "parameters": [_SITE],
                    "responses": {
                        "200": {
                            "description": "The configuration",
                            "content": {"application/json": {"schema": _ref("SiteConfig")}},
                        },
                        "404": _error("Unknown site"),
                    },
                }
            },
            "/v1/sites/{site_id}/widget.js": {
                "get": {
                    "operationId": "getWidget",
                    "summary": "The site's banner script, with its configuration inlined",
                    "parameters": [
                        _SITE,
                        {
                            "name": "lang",
                            "in": "query",
                            "required": False,
                            "description": "Language of the strings. One the site does not "
                            "speak, or none, falls back to Accept-Language, else the site's "
                            "default; anything but en, fr, de or nl is a 422",
                            "schema": {"type": "string", "enum": ["en", "fr", "de", "nl"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "JavaScript (gzip or brotli when accepted)",
                            "content": {"application/javascript": {"schema": {"type": "string"}}},
                        },
                        "304": {"description": "Not modified (If-None-Match)"},
                        "404": _error("Unknown site"),
                        "422": _error("lang is not one of en, fr, de, nl"),
                    },
                }
            },
            "/v1/consents": {
                "post": {
                    "operationId": "recordConsent",
                    "summary": "Record a visitor's decision in the consent log",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("ConsentRequest")}},
                    },
                    "responses": {
                        "201": {
                            "description": "Recorded (committed) with its receipt",
                            "content": {"application/json": {"schema": _ref("ConsentCreated")}},
                        },
                        "400": _error("The body is not a JSON object"),
                        "403": _error("The Origin may not post for this site"),
                        "404": _error("Unknown site"),
                        "413": _error("The body is over 16 KB"),
                        "422": _error("A field is invalid; `field` names it"),
                        "429": _error("Too many decisions from this address"),
                        "503": _error("The log cannot be written now; nothing was recorded"),
                    },
                }
            },
            "/v1/consents/{consent_id}": {
                "get": {
                    "operationId": "getConsentHistory",
                    "summary": "A visitor's own decision history, shown to the holder of a receipt",
                    "parameters": [
                        {
                            "name": "consent_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": UUID4_PATTERN},
                        },
                        {
                            "name": "receipt",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "A receipt of this consent id (or a Bearer token).",
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The history",
                            "content": {"application/json": {"schema": _ref("ConsentHistory")}},
                        },
                        "401": _error("No receipt"),
                        "403": _error("The receipt is forged or for another consent"),
                        "404": _error("No record is kept for this consent id"),
                        "422": _error("The consent id is malformed"),
                        "503": _error("The database is unavailable"),
                    },
                }
            },
            "/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": schemas},
    }
