"""``GET /v1/sites/<site>/widget.js`` answered before Flask: the hottest path of the service.

Every page view of the four sites loads the widget (or revalidates it), so its answer is
prepared once: each site's bundle holds its bytes per encoding and its ETags
(``consent/widget.py``), and this WSGI layer turns a request into a dictionary look-up and a
list of headers, without a request context, a session or the rate limiter (the widget is
exempt from limits anyway). Anything it does not recognise, an unknown site, or a bundle that
cannot be built goes on to the Flask route, which answers the same way or with the API's JSON
error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from consent.widget import Bundle, WidgetBuilder

PREFIX = "/v1/sites/"
SUFFIX = "/widget.js"
WIDGET_MAX_AGE = 300
CONTENT_TYPE = "application/javascript; charset=utf-8"
ENTITY = frozenset({"Content-Encoding", "Content-Language", "Content-Length", "Content-Type"})

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def widget_headers(
    etag: str, encoding: str | None, language: str, *, by_accept_language: bool
) -> list[tuple[str, str]]:
    """The headers of a widget answer (and of its 304), for the Flask route and the fast path."""
    headers = [
        ("ETag", etag),
        ("Cache-Control", f"public, max-age={WIDGET_MAX_AGE}"),
        # Without ?lang= the language comes from Accept-Language (see docs/banner.md).
        ("Vary", "Accept-Encoding, Accept-Language" if by_accept_language else "Accept-Encoding"),
        ("Content-Language", language),
        ("Access-Control-Allow-Origin", "*"),
        ("Cross-Origin-Resource-Policy", "cross-origin"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    return headers


class WidgetFastPath:
    """WSGI middleware serving the widget bundles; everything else goes to ``app``."""

    def __init__(self, app: WsgiApp, widgets: WidgetBuilder) -> None:
        self.app = app
        self.widgets = widgets

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if (method == "GET" or method == "HEAD") and path.endswith(SUFFIX):
            site = path[len(PREFIX) : -len(SUFFIX)] if path.startswith(PREFIX) else ""
            if site and "/" not in site:
                language = _lang(environ.get("QUERY_STRING", ""))
                bundle = self._bundle(site, language, environ.get("HTTP_ACCEPT_LANGUAGE", ""))
                if bundle is not None:
                    return self._serve(
                        bundle, environ, start_response, method == "HEAD", not language
                    )
        return self.app(environ, start_response)

    def _bundle(self, site: str, language: str | None, accept_language: str) -> Bundle | None:
        try:
            return self.widgets.bundle(site, language, accept_language)
        except Exception:  # noqa: BLE001 - the Flask route answers it, with the API's error
            return None

    @staticmethod
    def _serve(
        bundle: Bundle,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        head: bool,
        by_accept_language: bool,
    ) -> list[bytes]:
        body, encoding, etag = bundle.encoded(environ.get("HTTP_ACCEPT_ENCODING", ""))
        if etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            # A 304 carries no entity headers (Content-Encoding, -Language, -Length...), as
            # werkzeug sends it.
            headers = widget_headers(
                etag, None, bundle.language, by_accept_language=by_accept_language
            )
            start_response("304 NOT MODIFIED", [h for h in headers if h[0] not in ENTITY])
            return []
        headers = widget_headers(
            etag, encoding, bundle.language, by_accept_language=by_accept_language
        )
        headers += [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [] if head else [body]


def _lang(query: str) -> str | None:
    """``?lang=`` as Flask's ``request.args.get("lang")`` reads it (the first one)."""
    if not query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "lang":
            return value
    return None
