"""The benchmark and screenshot tools keep working: the parts that need no npm, run for real.

The widget bench measures our own widget once (served by the live service, found by its
accessible name), and the screenshot script writes real PNGs, both in the session's Chromium
(the one the bench launches the same way). No timing is asserted.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
from harness import free_port

from consent.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import screenshots  # noqa: E402
import widget_peers  # noqa: E402

OURS = next(b for b in widget_peers.BANNERS if b.name == widget_peers.OURS)


def test_widget_bench_measures_our_banner_bytes_and_accept_button(live_server, browser):
    page = widget_peers.render_page(OURS, assets="", service=live_server.url)
    files = widget_peers._Files({}, {"/ours.html": page})
    with widget_peers.serving(files, free_port()) as site:
        [result] = widget_peers.run(
            browser, {"ours": f"{site}/ours.html"}, [OURS], {}, rounds=1, warmup=False
        )

    [sample] = result.samples
    assert sample.accept_name == "Accept all"
    assert sample.requests == 1  # the widget carries its configuration, strings and styles
    assert 0 < sample.transferred < sample.decoded  # gzip on the wire
    assert sample.ms > 0
    report = widget_peers.table([result])
    assert "| Mixvoip Consent (ours) |" in report
    assert f"{sample.transferred / 1024:.1f} KB" in report


def test_bench_report_compares_ours_with_the_fastest_and_lightest_peer():
    def result(banner, ms, size):
        found = widget_peers.Result(banner, "1.0")
        found.samples.append(widget_peers.Sample(ms, size, size * 3, 1, "Accept all"))
        return found

    peers = widget_peers.BANNERS[1:3]
    report = widget_peers.table(
        [result(OURS, 50, 5000), result(peers[0], 100, 10000), result(peers[1], 200, 8000)]
    )

    assert f"Ours / fastest peer ({peers[0].label}), median time: 0.50" in report
    assert f"Ours / lightest peer ({peers[1].label}), bytes on the wire: 0.62" in report
    assert "within the 6 KB goal" in report


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_screenshot_script_writes_the_banner_pngs(live_server, browser, tmp_path):
    saved = screenshots.take_all(live_server.url, tmp_path, browser=browser)

    assert [p.name for p in saved] == [s.file for s in screenshots.SHOTS]
    for shot, path in zip(screenshots.SHOTS, saved, strict=True):
        width, height = png_size(path)
        assert width == shot.viewport["width"] * shot.scale
        assert height == shot.viewport["height"] * shot.scale


def test_widget_bench_names_the_page_whose_accept_button_never_shows(browser):
    url = "data:text/html,<button style='display:none'>Accept all</button>"

    with pytest.raises(RuntimeError, match="no visible button named"):
        widget_peers.measure(browser, url, OURS.accept, timeout_ms=500)
