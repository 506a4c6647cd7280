"""Line charts as a hand-written SVG: stacked panels sharing the time axis, one polyline per
series. Enough for a soak's plot without a plotting library in the install."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, PANEL_H, LEFT, RIGHT, TOP, GAP = 900, 150, 70, 170, 30, 40
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")

Series = tuple[str, Sequence[float | None]]  # label, one value per x (None: no value)
Panel = tuple[str, list[Series]]  # title (with its unit), series


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.2g}"


def chart(title: str, xs: Sequence[float], panels: list[Panel], x_label: str = "minutes") -> str:
    height = TOP + len(panels) * (PANEL_H + GAP) + 20
    plot_w = WIDTH - LEFT - RIGHT
    x_max = max(xs, default=1) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           'font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{LEFT}" y="18" font-size="14">{escape(title)}</text>']  # fmt: skip
    for index, (name, series) in enumerate(panels):
        top = TOP + index * (PANEL_H + GAP) + 15
        values = [v for _, ys in series for v in ys if v is not None]
        y_max = max(values, default=1.0) * 1.1 or 1.0
        out += [f'<text x="{LEFT}" y="{top - 4}" font-weight="bold">{escape(name)}</text>',
                f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL_H}" fill="none" '
                'stroke="#999"/>',
                f'<text x="{LEFT - 5}" y="{top + 10}" text-anchor="end">{_fmt(y_max)}</text>',
                f'<text x="{LEFT - 5}" y="{top + PANEL_H}" text-anchor="end">0</text>',
                f'<text x="{LEFT + plot_w}" y="{top + PANEL_H + 13}" text-anchor="end">'
                f'{_fmt(x_max)} {x_label}</text>']  # fmt: skip
        for n, (label, ys) in enumerate(series):
            colour = COLOURS[n % len(COLOURS)]
            points = " ".join(
                f"{LEFT + plot_w * x / x_max:.1f},{top + PANEL_H * (1 - y / y_max):.1f}"
                for x, y in zip(xs, ys, strict=False)
                if y is not None
            )
            out += [f'<polyline points="{points}" fill="none" stroke="{colour}" '
                    'stroke-width="1.5"/>',
                    f'<text x="{LEFT + plot_w + 8}" y="{top + 12 + 14 * n}" fill="{colour}">'
                    f'{escape(label)}</text>']  # fmt: skip
    out.append("</svg>")
    return "\n".join(out) + "\n"
