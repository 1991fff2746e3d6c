"""The HTML review report (`report.html`): one self-contained file that works offline.

Rendered with Jinja2 with autoescaping on: document text is data and is always
escaped (a provision containing `<script>` shows as text). Charts are inline SVG
built here; the small script only filters rows and opens details.
"""

from __future__ import annotations

import difflib
import html
import re
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from .review import ReviewData, ReviewRow

TOKEN = re.compile(r"\S+|\s+")


# difflib is quadratic (and worse on repetitive text): two 10 KB provisions took 11 s, 1 MB over
# 300 s. Past this many tokens a side, the rest of the text is shown unmarked, with a note.
MAX_DIFF_TOKENS = 1500


def word_diff(source: str, target: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Word-level differences: (tag, text) segments for each side; tag is 'same', 'del' or 'ins'."""
    a, b = TOKEN.findall(source), TOKEN.findall(target)
    left, right = _diff_tokens(a[:MAX_DIFF_TOKENS], b[:MAX_DIFF_TOKENS])
    if len(a) > MAX_DIFF_TOKENS or len(b) > MAX_DIFF_TOKENS:
        note = f" [… differences marked in the first {MAX_DIFF_TOKENS // 2} words only] "
        left += [("same", note), ("same", "".join(a[MAX_DIFF_TOKENS:]))]
        right += [("same", note), ("same", "".join(b[MAX_DIFF_TOKENS:]))]
    return left, right


# A fleet writes one report per plan over the same crosswalk pairs: remembering the diffs took the
# corpus report from 2.15 s to 0.10 s from the second plan on (726 pairs). A fleet's driver computes
# the BPD pairs' diffs once and hands them to every worker (`remember_diffs`). Bounded: the 4,096 most
# recent pairs.
MAX_REMEMBERED = 4096
_DIFFS: dict[tuple[str, str], tuple] = {}


def _remembered_diff(source: str, target: str) -> tuple:
    key = (source, target)
    diff = _DIFFS.get(key)
    if diff is None:
        diff = word_diff(source, target)
        remember_diffs({key: diff})
    return diff


def remember_diffs(diffs: dict[tuple[str, str], tuple]) -> None:
    """Word differences computed elsewhere (a fleet's driver), for the reports rendered here."""
    for key, diff in diffs.items():
        if key not in _DIFFS and len(_DIFFS) >= MAX_REMEMBERED:
            _DIFFS.pop(next(iter(_DIFFS)))  # the oldest
        _DIFFS[key] = diff


def _diff_tokens(a: list[str], b: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    left: list[tuple[str, str]] = []
    right: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(("same", "".join(a[i1:i2])))
            right.append(("same", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(("del", "".join(a[i1:i2])))
        if j2 > j1:
            right.append(("ins", "".join(b[j1:j2])))
    return left, right


def gantt_svg(stages: list[dict], width: int = 760) -> str:
    """A Gantt chart of pipeline stages (overlapping bars show concurrent steps)."""
    if not stages:
        return ""
    t0 = min(s["start"] for s in stages)
    span = max(max(s["end"] for s in stages) - t0, 1e-6)
    label_w, row_h = 190, 18
    height = row_h * len(stages) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="pipeline timeline" '
             f'width="{width}" height="{height}" class="chart">']
    scale = (width - label_w - 70) / span
    for n, s in enumerate(stages):
        y = n * row_h + 4
        x = label_w + (s["start"] - t0) * scale
        w = max((s["end"] - s["start"]) * scale, 1.5)
        colour = "#4a7ab5" if s["operation"].startswith("bpd") else "#b5744a" if s["operation"].startswith("aa") else "#5a9a5a"
        parts.append(f'<text x="0" y="{y + 12}" class="lbl">{html.escape(s["operation"])}</text>'
                     f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 5}" fill="{colour}">'
                     f'<title>{html.escape(s["operation"])}: {s["duration_s"]:.2f} s</title></rect>'
                     f'<text x="{x + w + 4:.1f}" y="{y + 12}" class="val">{s["duration_s"]:.2f} s</text>')
    parts.append(f'<text x="{label_w}" y="{height - 4}" class="val">0 s</text>'
                 f'<text x="{width - 60}" y="{height - 4}" class="val">{span:.1f} s</text></svg>')
    return "".join(parts)


def bars_svg(items: list[tuple[str, float]], unit: str, width: int = 760) -> str:
    """A horizontal bar chart (cost or calls per stage)."""
    if not items:
        return ""
    label_w, row_h = 190, 18
    top = max(v for _, v in items) or 1.0
    height = row_h * len(items) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" class="chart">']
    for n, (name, value) in enumerate(items):
        y = n * row_h + 4
        w = max(value / top * (width - label_w - 90), 1.0 if value else 0.0)
        parts.append(f'<text x="0" y="{y + 12}" class="lbl">{html.escape(name)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h - 5}" fill="#7a6ab5"/>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 12}" class="val">{html.escape(unit.format(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("crosswalk.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True))
    env.globals["word_diff"] = _remembered_diff
    return env


def render_html(data: ReviewData) -> str:
    """The report as one HTML string."""
    stages = data.metrics.get("stages", [])
    bpd: list[ReviewRow] = data.rows.get("bpd", [])
    cards = []
    for kind, rows in data.rows.items():
        cards.append((f"{kind.upper()} items", len(rows)))
        cards.append((f"{kind.upper()} matched", sum(r.target_id is not None for r in rows)))
        cards.append((f"{kind.upper()} to review",
                      sum(r.status in ("abstain", "no_match", "partial") and not r.reviewed for r in rows)))
        if any(r.reviewed for r in rows):
            cards.append((f"{kind.upper()} settled by reviewer", sum(r.reviewed for r in rows)))
    for status, n in sorted(data.confirmation_counts.items()):
        cards.append((status.title(), n))
    for vt in ("design", "regulatory", "administrative"):
        cards.append((f"{vt.title()} variances", sum(r.variance_type == vt for r in bpd)))
    cards.append(("Open exceptions", len(data.exceptions)))
    cards.append(("API cost", f"${data.metrics.get('cost_usd', 0.0):.2f}"))
    cards.append(("Wall time", f"{data.metrics.get('wall_s', 0.0):.1f} s"))
    return _environment().get_template("report.html.j2").render(
        run=data.run, cards=cards, rows=data.rows, exceptions=data.exceptions, proposals=data.proposals,
        timeline=gantt_svg(stages),
        time_chart=bars_svg([(s["operation"], s["duration_s"]) for s in stages], "{:.2f} s"),
        cost_chart=bars_svg([(s["operation"], s["cost_usd"]) for s in stages], "${:.4f}"),
    )


def write_html(data: ReviewData, path: Path) -> None:
    Path(path).write_text(render_html(data), encoding="utf-8", errors="backslashreplace")
