"""Leaky demo pages, for testing the cookie scanner; registered only outside production.

``/demo/<site>/leaky/cookie`` carries an advertising tag that is not gated: it sets ``_fbp``
and ``_gcl_au`` as soon as the page loads. ``/demo/<site>/leaky/host`` loads Meta's pixel
script from ``connect.facebook.net`` before any consent; in tests that host name is mapped to
loopback (Chromium's ``--host-resolver-rules``), where ``fbevents.js`` and ``tr`` below play
Meta's part. ``create_app`` registers this blueprint only when ``CONSENT_ENV`` is not
``production``, so there these URLs are 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from consent.services import services

bp = Blueprint("demo_leaks", __name__)

KINDS = ("cookie", "host")
PIXEL_HOST = "connect.facebook.net"

# Stand-in for a tag pasted into a page without the banner's gating.
UNGATED_TAG = """\
document.cookie = "_fbp=fb.1.leak; Path=/; Max-Age=7776000; SameSite=Lax";
document.cookie = "_gcl_au=1.1.leak; Path=/; Max-Age=7776000; SameSite=Lax";
"""

# Stand-in for Meta's fbevents.js: reports the page view to its own host, as the real one does.
PIXEL_SCRIPT = """\
(function () {
  var img = new Image(1, 1);
  img.src = document.currentScript.src.replace(/[^/]*$/, "tr") + "?ev=PageView";
})();
"""

# A 1×1 transparent GIF.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
)


@bp.get("/demo/<site_id>/leaky/<kind>")
def leaky_page(site_id: str, kind: str) -> str:
    view = services().catalogue.site(site_id)
    if view is None or kind not in KINDS:
        abort(404, description=f"There is no leaky demo page {site_id}/{kind}.")
    port = f":{request.host.rsplit(':', 1)[1]}" if ":" in request.host else ""
    pixel = f"{request.scheme}://{PIXEL_HOST}{port}/demo-leaks/fbevents.js"
    return render_template(
        "demo/leaky.html",
        site=view,
        lang=view.config.default_language,
        config=services().config,
        kind=kind,
        pixel_url=pixel,
    )


@bp.get("/demo-leaks/ads-tag.js")
def ungated_tag() -> Response:
    return Response(UNGATED_TAG, mimetype="text/javascript")


@bp.get("/demo-leaks/fbevents.js")
def pixel_script() -> Response:
    return Response(PIXEL_SCRIPT, mimetype="text/javascript")


@bp.get("/demo-leaks/tr")
def pixel() -> Response:
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})
