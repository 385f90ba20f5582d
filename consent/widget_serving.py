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
from urllib.parse import parse_qs

from consent.sites import LANGUAGES
from consent.widget import Bundle, WidgetBuilder

PREFIX = "/v1/sites/"
SUFFIX = "/widget.js"
WIDGET_MAX_AGE = 300
CONTENT_TYPE = "application/javascript; charset=utf-8"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def widget_headers(
    etag: str, encoding: str | None, language: str | None, chosen_by_header: bool
) -> list[tuple[str, str]]:
    """The headers of a widget answer (also of its 304), as the Flask route sends them.

    ``chosen_by_header``: the language came from Accept-Language (no ``?lang=``), so caches
    must vary on it too (see docs/banner.md). A 304 has no Content-Language (``None``).
    """
    headers = [
        ("ETag", etag),
        ("Cache-Control", f"public, max-age={WIDGET_MAX_AGE}"),
        ("Vary", "Accept-Encoding, Accept-Language" if chosen_by_header else "Accept-Encoding"),
        ("Access-Control-Allow-Origin", "*"),
        ("Cross-Origin-Resource-Policy", "cross-origin"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
    if language:
        headers.append(("Content-Language", language))
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
                language = _lang_argument(environ.get("QUERY_STRING", ""))
                bundle = None
                if language is None or language in LANGUAGES:  # else Flask's 422
                    bundle = self._bundle(site, language, environ.get("HTTP_ACCEPT_LANGUAGE", ""))
                if bundle is not None:
                    return self._serve(
                        bundle, environ, start_response, method == "HEAD", language is None
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
        by_header: bool,
    ) -> list[bytes]:
        body, encoding, etag = bundle.encoded(environ.get("HTTP_ACCEPT_ENCODING", ""))
        if etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            # A 304 carries no entity headers (Content-Encoding/-Length), as werkzeug sends it.
            start_response("304 NOT MODIFIED", widget_headers(etag, None, None, by_header))
            return []
        headers = widget_headers(etag, encoding, bundle.language, by_header)
        headers += [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [] if head else [body]


def _lang_argument(query: str) -> str | None:
    """The ``lang`` argument of a query string, as ``request.args.get("lang")`` reads it."""
    if "lang=" not in query:
        return None
    return parse_qs(query, keep_blank_values=True).get("lang", [None])[0]
