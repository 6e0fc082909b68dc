"""The progress report: progress.csv, progress.md, progress.html and one trajectory figure per target.

Depends on :mod:`bazhong_geo.targets` (the table) and :mod:`bazhong_geo.trajectory` (the figures), never the other
way round.

>>> import pandas as pd
>>> from bazhong_geo import targets
>>> table = targets.progress(targets.load_plan(), as_of=2020)
>>> progress_markdown(table.head(1), lang="en").splitlines()[0].startswith("| key | scope | target")
True
"""

from __future__ import annotations

import html
import math
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from . import atomic, targets, units, vocabulary
from ._errors import PlanYearWarning
from .trajectory import save_figure, trajectory_figure

__all__ = ["STATUS_COLORS", "STATUS_LABELS", "progress_html", "progress_markdown", "write_report"]

#: Status labels of :func:`bazhong_geo.targets.progress` by language (from the shared status vocabulary).
STATUS_LABELS = {lang: {key: s[lang] for key, s in vocabulary.STATUSES.items()} for lang in ("zh", "en")}
STATUS_COLORS = {key: s["color"] for key, s in vocabulary.STATUSES.items()}


_TABLE_COLS = ["key", "scope_name", "description_zh", "target", "latest_value", "latest_year", "baseline_value",
               "baseline_year", "percent_of_way", "status", "definition", "status_note", "alternatives"]


def _cell(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return units.fmt(round(v, 4))
    return str(v)


def progress_markdown(table: pd.DataFrame, lang: str = "zh") -> str:
    """A Markdown table of :func:`bazhong_geo.targets.progress`.

    The main columns with bounds shown, the required vs. observed annual change, the definition used, and the
    other figures (other definitions, kinds or sources: ``alternatives``, which names the one used first) and the
    counties' figures, so that where two figures disagree both are in the report.
    """
    labels = STATUS_LABELS.get(lang, STATUS_LABELS["en"])
    head = ["key", "scope", "target", "latest", "baseline", "% of way", "required/yr", "observed/yr", "status",
            "definition", "note", "other figures (used first)", "counties"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.to_dict("records"):
        latest = (f"{r['latest_bound']}{_cell(r['latest_value'])} ({_cell(r['latest_year'])})"
                  if _cell(r["latest_value"]) else "")
        base = f"{_cell(r['baseline_value'])} ({_cell(r['baseline_year'])})" if _cell(r["baseline_value"]) else ""
        pct = f"{r['percent_of_way']:.1f}" if not math.isnan(r["percent_of_way"]) else ""
        cells = [r["key"], r["scope_name"], f"{r['comparison']} {_cell(r['target'])} {r['unit']} ({r['target_year']})",
                 latest, base, pct, _cell(r["required_annual_change"]), _cell(r["observed_annual_change"]),
                 f"{labels[r['status']]} ({r['status']})", r["definition"], r["status_note"],
                 _cell(r.get("alternatives", "")), _cell(r.get("county_values", ""))]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def progress_html(table: pd.DataFrame, as_of: int, figures: dict | None = None, lang: str = "zh",
                  plan_name: str = "") -> str:
    """A small self-contained HTML page (inline CSS, escaped text, relative figure links) of the progress table.

    The main columns are shown; county values, alternatives and the source sit in a ``<details>`` cell (no script).
    """
    labels = STATUS_LABELS.get(lang, STATUS_LABELS["en"])
    e = html.escape

    def num(v):
        return e(_cell(v))

    head = ["目标 target", "范围 scope", "目标值 target", "最新 latest", "基期 baseline", "进度 % of way",
            "需年增 required/yr", "实年增 observed/yr", "状态 status", "口径 definition", "说明 note", "更多 more"]
    out = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
           f"<title>{e(plan_name)} progress as of {as_of} · 目标进展</title>",
           "<style>body{font-family:'Noto Sans CJK SC','Noto Sans SC',sans-serif;margin:1.5em;font-size:13px}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}"
           "th{background:#f0f0f0;font-weight:600}.s{color:#fff;font-weight:bold;white-space:nowrap}"
           "td.n{text-align:right;white-space:nowrap}.en{color:#666;font-size:11px}.note{max-width:26em;font-size:12px}"
           "details{font-size:11px;max-width:30em}img{max-width:640px;margin:6px}</style></head><body>",
           f"<h1>{e(plan_name)}: 目标进展 / progress as of {as_of}</h1>",
           "<p>Status: achieved 已完成 · on_track 按期推进 · behind 滞后 · no_data 无数据. "
           "Rules and definitions: bazhong_geo/data/settlements/README.md. Full table: progress.csv.</p>",
           "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in table.to_dict("records"):
        latest = (f"{r['latest_bound']}{_cell(r['latest_value'])} ({_cell(r['latest_year'])}, {r['latest_kind']})"
                  if _cell(r["latest_value"]) else "")
        base = f"{_cell(r['baseline_value'])} ({_cell(r['baseline_year'])})" if _cell(r["baseline_value"]) else ""
        pct = "" if math.isnan(r["percent_of_way"]) else f"{r['percent_of_way']:.1f}%"
        more = "".join(f"<div><b>{e(k)}</b>: {e(str(r[k]))}</div>"
                       for k in ("county_values", "alternatives", "source") if str(r[k]))
        cells = [
            f"<td>{e(r['description_zh'])}<div class=\"en\">{e(r['key'])} · {e(r['description_en'])}</div></td>",
            f"<td style=\"white-space:nowrap\">{e(r['scope_name'])}</td>",
            f"<td class=\"n\">{e(r['comparison'])} {num(r['target'])} {e(r['unit'])} ({r['target_year']})</td>",
            f'<td class="n">{e(latest)}</td>', f'<td class="n">{e(base)}</td>', f'<td class="n">{e(pct)}</td>',
            f"<td class=\"n\">{num(r['required_annual_change'])}</td>",
            f"<td class=\"n\">{num(r['observed_annual_change'])}</td>",
            f"<td class=\"s\" style=\"background:{STATUS_COLORS[r['status']]}\">{e(labels[r['status']])} "
            f"({e(r['status'])})</td>",
            f"<td>{e(r['definition'])}</td>", f"<td class=\"note\">{e(r['status_note'])}</td>",
            f"<td><details><summary>…</summary>{more}</details></td>" if more else "<td></td>",
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    if figures:
        out.append("<h2>轨迹 / trajectories</h2><div>")
        for key, p in sorted(figures.items()):
            out.append(f'<img src="{e(p)}" alt="{e(key)}">')
        out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(out_dir: str | Path, as_of: int = 2020, plan: pd.DataFrame | str | Path = "plan_2020",
                 indicators: pd.DataFrame | str | Path | None = None, region: Any = None, lang: str = "zh",
                 figure_formats: tuple[str, ...] = ("png",)) -> dict:
    """Write the progress report: progress.csv, progress.md, progress.html and trajectory figures.

    Parameters
    ----------
    out_dir : path-like
        Created if missing. The files are written all or nothing: if anything fails (a bad table, a figure, a
        read-only file), none of the new files lands and the old ones stay as they were.
    as_of : int
        The assessment year (see :func:`bazhong_geo.targets.progress`).
    plan : DataFrame or str or path-like
        The plan (default ``"plan_2020"``).
    indicators : DataFrame or path-like, optional
        The indicator table (default: the shipped one).
    region : bazhong_geo.datasets.Region, optional
        When given, :func:`bazhong_geo.targets.measure` adds measured indicators (shown as alternatives where the
        plan's definition already has a reported figure).
    lang : {"zh", "en"}
        Figure label language.
    figure_formats : sequence of {"png", "svg"}
        One file per target and format under ``trajectories/``.

    Returns
    -------
    dict
        ``{"csv": path, "md": path, "html": path, "figures": [paths], "table": DataFrame}``.

    Raises
    ------
    OutputError
        ``out_dir`` (or a file in it) is read-only, a file stands where the folder goes, or the disk is full.

    Examples
    --------
    >>> import tempfile
    >>> out = write_report(tempfile.mkdtemp(), lang="en")          # doctest: +SKIP
    >>> sorted(p.name for p in out["figures"])[:1]                   # doctest: +SKIP
    ['trajectory_central_city_builtup_area_511900.png']
    """
    out_dir = atomic.ensure_folder(out_dir, what="report folder")
    plan = targets.load_plan(plan) if not isinstance(plan, pd.DataFrame) else plan
    ind = targets.load_indicators(indicators) if not isinstance(indicators, pd.DataFrame) else indicators
    if region is not None:
        measured = targets.measure(region)
        ind = pd.concat([ind, measured[[c for c in measured.columns if c in ind.columns or c == "method"]]],
                        ignore_index=True)
    ind = targets.check_indicators(ind, "indicators")
    table = targets.progress(plan, ind, as_of=as_of)
    csv_path, md_path, html_path = out_dir / "progress.csv", out_dir / "progress.md", out_dir / "progress.html"
    figures, links = [], {}
    with atomic.Transaction() as tx:
        table.to_csv(tx.path(csv_path), index=False, lineterminator="\n", encoding="utf-8")
        tx.path(md_path).write_text(f"# {plan.attrs.get('name', 'plan')}: progress as of {as_of} (目标进展)\n\n"
                                    + progress_markdown(table, lang="zh")
                                    + "\nRules and definitions: bazhong_geo/data/settlements/README.md\n",
                                    encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=PlanYearWarning)
            for t in plan.to_dict("records"):
                fig = trajectory_figure(plan, ind, t["key"], lang=lang, as_of=as_of)
                for fmt in figure_formats:
                    p = out_dir / "trajectories" / f"trajectory_{t['key']}_{t['scope']}.{fmt}"
                    save_figure(fig, tx.path(p), atomic_write=False)
                    figures.append(p)
                    if fmt == figure_formats[0]:
                        links[t["key"]] = f"trajectories/{p.name}"
        tx.path(html_path).write_text(progress_html(table, as_of, links, lang=lang,
                                                    plan_name=plan.attrs.get("name", "plan")), encoding="utf-8")
    return {"csv": csv_path, "md": md_path, "html": html_path, "figures": figures, "table": table}
