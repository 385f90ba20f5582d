"""Cross-origin rules: a site's configured origins, and only those, may post for that site.

Browsers always send ``Origin`` on a cross-origin request and on any POST; a request without
it (curl, a server) is not subject to CORS. The service's own pages (``/demo/<site>``) are
same-origin and allowed. ``widget.js`` and ``config`` are public and readable from anywhere.
"""

from __future__ import annotations

from flask import Request, Response

from consent.sites import SitesConfig

PREFLIGHT_MAX_AGE = "86400"


def is_same_origin(request: Request, origin: str) -> bool:
    return origin == request.host_url.rstrip("/")


def allowed_for_site(config: SitesConfig, request: Request, site_id: str | None) -> bool:
    """Whether the request's Origin (if any) may act for ``site_id`` (any site when ``None``)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if site_id:
        site = config.site(site_id)
        if site is not None and origin in site.origins:
            return True
    elif origin in config.origins:
        return True
    return is_same_origin(request, origin)


def allow(response: Response, request: Request) -> Response:
    """Let the requesting origin read the response (called once the origin was checked)."""
    origin = request.headers.get("Origin")
    if origin:
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = origin
        if "Vary" in headers:
            response.vary.add("Origin")
        else:  # what vary.add writes on a response without Vary, without parsing a header set
            headers["Vary"] = "Origin"
    return response


def preflight(request: Request, methods: str) -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = methods
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return allow(response, request)
