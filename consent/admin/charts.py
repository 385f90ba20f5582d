"""Charts drawn on the server as SVG: readable without JavaScript, named for screen readers.

Each chart is an ``<svg role="img">`` whose ``<title>`` and ``<desc>`` say what it shows and
its main figures; the page puts the exact numbers in a table next to it. Colours are SVG
presentation attributes, so the admin's Content-Security-Policy (no inline styles) holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from consent.stats import ACTIONS, PartnerRate, Period

COLOURS = {
    "accept_all": "#1b6e3a",
    "refuse_all": "#a4161a",
    "custom": "#0b5cad",
    "withdraw": "#8a5a00",
}
ACTION_LABELS = {
    "accept_all": "accepted all",
    "refuse_all": "refused all",
    "custom": "chose per partner",
    "withdraw": "withdrew",
}
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 40


def _svg(chart_id: str, title: str, desc: str, body: list[str], height: int = HEIGHT) -> Markup:
    head = (
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    # Every text inside was escaped where it was put in; the rest are numbers and constants.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def _label(period: Period, by: str) -> str:
    return period.start.strftime("%d %b") if by == "day" else "wk " + period.start.strftime("%d %b")


def _x_labels(periods: Sequence[Period], by: str, x_of, y: float) -> list[str]:
    every = max(1, len(periods) // 8)
    return [
        f'<text x="{x_of(i):.1f}" y="{y:.1f}" text-anchor="middle">{escape(_label(p, by))}</text>'
        for i, p in enumerate(periods)
        if i % every == 0
    ]


def decisions_chart(chart_id: str, periods: Sequence[Period], by: str, scope: str) -> Markup:
    """Stacked bars: decisions per period, split by action."""
    total = sum(p.decisions for p in periods)
    shares = ", ".join(
        f"{ACTION_LABELS[a]} {sum(p.by_action[a] for p in periods):,}" for a in ACTIONS
    )
    desc = (
        f"{total:,} decisions from {periods[0].start} to {periods[-1].start} "
        f"({'per day' if by == 'day' else 'per week'}): {shares}."
        if periods
        else "No decisions."
    )
    peak = max((p.decisions for p in periods), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(periods), 1)
    bar = max(step * 0.8, 1)
    body = _y_axis(peak, plot_h, lambda v: f"{v:,.0f}")
    for i, period in enumerate(periods):
        y = TOP + plot_h
        for action in ACTIONS:
            count = period.by_action[action]
            if not count:
                continue
            h = count / peak * plot_h
            y -= h
            body.append(
                f'<rect x="{LEFT + i * step + (step - bar) / 2:.1f}" y="{y:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS[action]}">'
                f"<title>{escape(_label(period, by))}: {count:,} {ACTION_LABELS[action]}</title>"
                f"</rect>"
            )
    body += _x_labels(periods, by, lambda i: LEFT + i * step + step / 2, HEIGHT - BOTTOM + 18)
    return _svg(
        chart_id, f"Decisions {'per day' if by == 'day' else 'per week'}, {scope}", desc, body
    )


def rate_chart(chart_id: str, periods: Sequence[Period], by: str, scope: str) -> Markup:
    """Bars of the advertising opt-in rate per period (0–100 %)."""
    rates = [p.advertising_rate for p in periods]
    known = [r for r in rates if r is not None]
    granted = sum(p.advertising_granted for p in periods)
    decided = sum(p.decisions for p in periods)
    overall = f"{granted / decided:.1%}" if decided else "no decisions"
    desc = (
        f"Share of decisions that allowed advertising, {'per day' if by == 'day' else 'per week'}: "
        f"{overall} overall"
        + (f", lowest {min(known):.1%}, highest {max(known):.1%}." if known else ".")
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(periods), 1)
    bar = max(step * 0.8, 1)
    body = _y_axis(1.0, plot_h, lambda v: f"{v:.0%}")
    for i, (period, rate) in enumerate(zip(periods, rates, strict=True)):
        if rate is None:
            continue
        h = rate * plot_h
        body.append(
            f'<rect x="{LEFT + i * step + (step - bar) / 2:.1f}" y="{TOP + plot_h - h:.1f}" '
            f'width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS["custom"]}">'
            f"<title>{escape(_label(period, by))}: {rate:.1%} of {period.decisions:,}"
            "</title></rect>"
        )
    body += _x_labels(periods, by, lambda i: LEFT + i * step + step / 2, HEIGHT - BOTTOM + 18)
    return _svg(chart_id, f"Advertising opt-in rate, {scope}", desc, body)


def partner_chart(
    chart_id: str, rates: Sequence[PartnerRate], names: dict[str, str], scope: str
) -> Markup:
    """Horizontal bars: each partner's opt-in rate over the period."""
    row, label_w = 28, 190
    height = TOP + BOTTOM // 2 + row * max(len(rates), 1)
    parts = [
        f"{names.get(r.partner_id, r.partner_id)} {r.rate:.1%}" for r in rates if r.rate is not None
    ]
    desc = "Share of visitors offered each partner who allowed it: " + (
        "; ".join(parts) + "." if parts else "no decisions."
    )
    plot_w = WIDTH - label_w - 70
    body = []
    for i, rate in enumerate(rates):
        y = TOP + i * row
        name = names.get(rate.partner_id, rate.partner_id)
        value = rate.rate or 0.0
        body.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(name)}</text>')
        body.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{plot_w:.1f}" height="18" fill="#e8eef6"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{value * plot_w:.1f}" height="18" '
            f'fill="{COLOURS["accept_all"]}"/>'
        )
        shown = f"{rate.rate:.1%}" if rate.rate is not None else "–"
        body.append(f'<text x="{label_w + plot_w + 8}" y="{y + 17}">{shown}</text>')
    return _svg(chart_id, f"Opt-in rate per partner, {scope}", desc, body, height)


def _y_axis(peak: float, plot_h: float, fmt) -> list[str]:
    lines = []
    for k in range(5):
        value = peak * k / 4
        y = TOP + plot_h - plot_h * k / 4
        lines.append(
            f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#d0d4da" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>'
        )
    return lines
