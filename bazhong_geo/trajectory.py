"""Trajectory figures (value by year with the target line, CJK labels) and the progress report files."""

from __future__ import annotations

import html
import math
import warnings
from pathlib import Path

import pandas as pd

from ._errors import CJKFontWarning

__all__ = ["find_cjk_font", "trajectory_figure", "save_figure", "write_report", "progress_markdown",
           "progress_html"]

#: Font families tried in order for Chinese labels.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Noto Sans CJK JP", "Noto Sans CJK TC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC")

STATUS_LABELS = {
    "zh": {"achieved": "已完成", "on_track": "按期推进", "behind": "滞后", "no_data": "无数据"},
    "en": {"achieved": "achieved", "on_track": "on track", "behind": "behind", "no_data": "no data"},
}
STATUS_COLORS = {"achieved": "#1a9850", "on_track": "#91cf60", "behind": "#d73027", "no_data": "#969696"}

_TEXT = {
    "zh": {"year": "年份", "target": "目标", "required": "目标路径", "no_data": "无数据", "as_of": "评估年", "bound": "界值",
           "kind": {"reported": "公布值", "measured": "测算值", "estimated": "推算值"}, "definition": "口径"},
    "en": {"year": "year", "target": "target", "required": "path to target", "no_data": "no data",
           "as_of": "as of", "bound": "bound", "kind": {"reported": "reported", "measured": "measured", "estimated": "estimated"},
           "definition": "definition"},
}
_MARKERS = {"reported": "o", "measured": "s", "estimated": "D"}

#: Romanized names used when no CJK font is installed.
NAMES_EN = {"巴中经济开发区": "Bazhong EDZ", "巴中经开区": "Bazhong EDZ", "巴中市": "Bazhong", "巴州区": "Bazhou",
            "恩阳区": "Enyang", "通江县": "Tongjiang", "南江县": "Nanjiang", "平昌县": "Pingchang", "巴城": "Bacheng"}


def _latin(text: str) -> str:
    """Text without CJK characters (known names romanized), for figures drawn without a CJK font."""
    import re

    for zh, en in NAMES_EN.items():
        text = text.replace(zh, en)
    text = re.sub(r"\s*[(（]?[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef“”]+[)）]?", "", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def find_cjk_font(warn: bool = True):
    """Return ``(family, path)`` of an installed CJK font known to matplotlib, or ``(None, None)``.

    Parameters
    ----------
    warn : bool
        Emit a :class:`~bazhong_geo._errors.CJKFontWarning` when none is found (Debian: ``apt install fonts-noto-cjk``).

    Examples
    --------
    >>> family, path = find_cjk_font()
    >>> family is None or "CJK" in family or "Hei" in family or "Han" in family or "SC" in family
    True
    """
    from matplotlib import font_manager

    by_name = {}
    for f in font_manager.fontManager.ttflist:
        if f.style == "normal" and f.weight in (400, "normal", "regular"):
            by_name.setdefault(f.name, f.fname)
    for f in font_manager.fontManager.ttflist:
        by_name.setdefault(f.name, f.fname)
    for fam in CJK_FAMILIES:
        if fam in by_name:
            return fam, by_name[fam]
    if warn:
        warnings.warn("no CJK font found (tried " + ", ".join(CJK_FAMILIES) + "); figures use English labels. "
                      "Install fonts-noto-cjk (Debian/Ubuntu) to get Chinese labels", CJKFontWarning, stacklevel=2)
    return None, None


def _font_rc(family):
    return {"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"], "axes.unicode_minus": False,
            "svg.hashsalt": "bazhong_geo", "svg.fonttype": "path"}


def trajectory_figure(plan, indicators, key, scope=None, lang="zh", as_of=None, cjk=True):
    """Value by year of one target's indicator with the target line, as a matplotlib Figure.

    Only the plan's definition is plotted (other definitions are named in the note line). Markers tell the kind
    (reported ●, measured ■, estimated ◆); a bound is drawn as an open triangle pointing the way the true value lies.
    A dotted line joins the baseline figure to the target in the target year.

    Parameters
    ----------
    plan : DataFrame or str
        From :func:`bazhong_geo.targets.load_plan`, or its name/path.
    indicators : DataFrame or path-like or None
        From :func:`bazhong_geo.targets.load_indicators` (None = the shipped table).
    key : str
        The target key (e.g. ``"urbanization_rate"``).
    scope : str, optional
        A scope code (default: the target's own scope).
    lang : {"zh", "en"}
        Label language; "zh" falls back to "en" with a :class:`CJKFontWarning` when no CJK font is installed.
    as_of : int, optional
        Draw a vertical line at the assessment year.
    cjk : bool
        False draws without a CJK font (English labels, Chinese names romanized or left out), as when none is
        installed.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with :func:`save_figure` or ``fig.savefig``.

    Examples
    --------
    >>> fig = trajectory_figure("plan_2020", None, "urbanization_rate", lang="en")
    >>> fig.axes[0].get_ylabel()
    'percent'
    """
    import matplotlib
    from matplotlib.figure import Figure

    from . import targets as tg

    plan = tg.load_plan(plan) if not isinstance(plan, pd.DataFrame) else plan
    ind = (tg.load_indicators(indicators) if not isinstance(indicators, pd.DataFrame)
           else tg._check_indicators(indicators, "indicators (DataFrame)"))
    rows = plan[plan["key"] == key]
    if rows.empty:
        raise tg.PlanFormatError(f"plan {plan.attrs.get('path', '')}: no target with key {key!r}; keys are "
                                 f"{sorted(plan['key'])}")
    t = rows.iloc[0].to_dict()
    scope = scope or t["scope"]
    family, _ = find_cjk_font(warn=lang == "zh") if cjk else (None, None)
    if family is None:
        lang = "en"
    txt = _TEXT[lang]
    fix = (lambda s: s) if family else _latin
    data = ind[(ind["key"] == t["indicator"]) & (ind["scope"] == scope)]
    used = data[data["definition"] == t["definition"]].sort_values(["year", "kind"])
    others = sorted(set(data["definition"]) - {t["definition"]})
    with matplotlib.rc_context(_font_rc(family)):
        fig = Figure(figsize=(7.2, 4.2), dpi=100)
        ax = fig.add_subplot()
        for kind, g in used.groupby("kind", sort=True):
            exact = g[g["bound"] == ""]
            if len(exact):
                ax.plot(exact["year"], exact["value"], linestyle="-" if kind == "reported" else "none",
                        marker=_MARKERS[kind], color="#2166ac", label=txt["kind"][kind])
            bnd = g[g["bound"] != ""]
            for i, (_, r) in enumerate(bnd.iterrows()):
                up = r["bound"].startswith(">")
                ax.plot([r["year"]], [r["value"]], marker="^" if up else "v", markerfacecolor="none", markersize=10,
                        color="#2166ac", linestyle="none",
                        label=f"{txt['kind'][kind]} ({txt['bound']})" if i == 0 else None)
                ax.annotate(f"{r['bound']} {tg._fmt(r['value'])}", (r["year"], r["value"]), textcoords="offset points",
                            xytext=(6, 6 if up else -12), fontsize=8, color="#2166ac")
        years = list(used["year"]) + [int(t["target_year"]), int(t["baseline_year"])]
        x0, x1 = min(years) - 0.5, max(years) + 0.5
        ax.hlines(float(t["target"]), x0, x1, colors="#d73027", linestyles="--",
                  label=f"{txt['target']} {t['comparison']} {tg._fmt(float(t['target']))} ({int(t['target_year'])})")
        ax.plot([int(t["target_year"])], [float(t["target"])], marker="*", markersize=12, color="#d73027",
                linestyle="none")
        exact = used[used["bound"] == ""]
        base = exact[exact["year"] <= int(t["baseline_year"])]
        base = base if len(base) else exact[exact["year"] < int(t["target_year"])]
        if len(base):
            b = base.sort_values("year").iloc[-1 if (exact["year"] <= int(t["baseline_year"])).any() else 0]
            ax.plot([b["year"], int(t["target_year"])], [b["value"], float(t["target"])], linestyle=":",
                    color="#d73027", label=txt["required"])
        if as_of is not None:
            ax.axvline(int(as_of), color="#777777", linewidth=0.8)
            ax.annotate(f"{txt['as_of']} {int(as_of)}", (int(as_of), 1), xycoords=("data", "axes fraction"),
                        xytext=(-3, -12), textcoords="offset points", fontsize=8, color="#555555", ha="right")
        if used.empty:
            ax.text(0.5, 0.5, txt["no_data"], transform=ax.transAxes, ha="center", va="center", fontsize=20,
                    color="#969696")
        ax.set_xlim(x0, x1)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel(txt["year"])
        ax.set_ylabel(t["unit"])
        desc = t["description_zh"] if lang == "zh" else t["description_en"]
        name = tg.SCOPE_NAMES.get(scope, scope)
        ax.set_title(fix(f"{name} · {desc}"), fontsize=11)
        foot = f"{txt['definition']}: {t['definition']}"
        if others:
            foot += " (" + ("其他口径" if lang == "zh" else "other definitions") + ": " + ", ".join(others) + ")"
        fig.text(0.01, 0.01, fix(foot), fontsize=7, color="#555555")
        ax.legend(fontsize=8, loc="best", framealpha=0.8)
        ax.grid(alpha=0.3)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig._bazhong_rc = _font_rc(family)
    return fig


def save_figure(fig, path) -> Path:
    """Save a figure (PNG or SVG by the suffix) without timestamps, so the same figure gives the same bytes."""
    import matplotlib

    path = Path(path)
    meta = {"Software": None} if path.suffix.lower() == ".png" else {"Date": None, "Creator": None}
    with matplotlib.rc_context(getattr(fig, "_bazhong_rc", {})):
        fig.savefig(path, metadata=meta)
    return path


# ----------------------------------------------------------------------------------------------- report

_TABLE_COLS = ["key", "scope_name", "description_zh", "target", "latest_value", "latest_year", "baseline_value",
               "baseline_year", "percent_of_way", "status", "definition", "status_note", "alternatives"]


def _cell(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        from .targets import _fmt
        return _fmt(round(v, 4))
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
           "Rules and definitions: data/settlements/README.md. Full table: progress.csv.</p>",
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
            f"<td class=\"n\">{e(latest)}</td>", f"<td class=\"n\">{e(base)}</td>", f"<td class=\"n\">{e(pct)}</td>",
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


def write_report(out_dir, as_of: int = 2020, plan="plan_2020", indicators=None, region=None, lang="zh",
                 figure_formats=("png",)) -> dict:
    """Write the progress report: progress.csv, progress.md, progress.html and trajectory figures.

    Parameters
    ----------
    out_dir : path-like
        Created if missing; files are overwritten.
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

    Examples
    --------
    >>> import tempfile
    >>> out = write_report(tempfile.mkdtemp(), lang="en")          # doctest: +SKIP
    >>> sorted(p.name for p in out["figures"])[:1]                   # doctest: +SKIP
    ['trajectory_central_city_builtup_area_511900.png']
    """
    from . import targets as tg

    out_dir = Path(out_dir)
    (out_dir / "trajectories").mkdir(parents=True, exist_ok=True)
    plan = tg.load_plan(plan) if not isinstance(plan, pd.DataFrame) else plan
    ind = tg.load_indicators(indicators) if not isinstance(indicators, pd.DataFrame) else indicators
    if region is not None:
        measured = tg.measure(region)
        ind = pd.concat([ind, measured[[c for c in measured.columns if c in ind.columns or c == "method"]]],
                        ignore_index=True)
    ind = tg._check_indicators(ind, "indicators")
    table = tg.progress(plan, ind, as_of=as_of)
    csv_path = out_dir / "progress.csv"
    table.to_csv(csv_path, index=False, lineterminator="\n", encoding="utf-8")
    md_path = out_dir / "progress.md"
    md_path.write_text(f"# {plan.attrs.get('name', 'plan')}: progress as of {as_of} (目标进展)\n\n"
                       + progress_markdown(table, lang="zh") + "\nRules and definitions: data/settlements/README.md\n",
                       encoding="utf-8")
    figures, links = [], {}
    import warnings as _w

    with _w.catch_warnings():
        _w.simplefilter("ignore", category=tg.PlanYearWarning)
        for t in plan.to_dict("records"):
            fig = trajectory_figure(plan, ind, t["key"], lang=lang, as_of=as_of)
            for fmt in figure_formats:
                p = save_figure(fig, out_dir / "trajectories" / f"trajectory_{t['key']}_{t['scope']}.{fmt}")
                figures.append(p)
                if fmt == figure_formats[0]:
                    links[t["key"]] = f"trajectories/{p.name}"
    html_path = out_dir / "progress.html"
    html_path.write_text(progress_html(table, as_of, links, lang=lang, plan_name=plan.attrs.get("name", "plan")),
                         encoding="utf-8")
    return {"csv": csv_path, "md": md_path, "html": html_path, "figures": figures, "table": table}
