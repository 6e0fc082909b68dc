"""Trajectory figures: value by year with the target line, CJK labels (the report files: :mod:`bazhong_geo.report`)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from . import atomic, region, targets, units
from ._errors import CJKFontWarning, PlanFormatError

__all__ = ["find_cjk_font", "save_figure", "trajectory_figure"]

#: Font families tried in order for Chinese labels.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Noto Sans CJK JP", "Noto Sans CJK TC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC")

_TEXT = {
    "zh": {"year": "年份", "target": "目标", "required": "目标路径", "no_data": "无数据", "as_of": "评估年", "bound": "界值",
           "kind": {"reported": "公布值", "measured": "测算值", "estimated": "推算值"}, "definition": "口径"},
    "en": {"year": "year", "target": "target", "required": "path to target", "no_data": "no data",
           "as_of": "as of", "bound": "bound", "kind": {"reported": "reported", "measured": "measured", "estimated": "estimated"},
           "definition": "definition"},
}
_MARKERS = {"reported": "o", "measured": "s", "estimated": "D"}

#: Romanized names used when no CJK font is installed (the region's short English names, and 巴城).
NAMES_EN = {region.BAZHONG.name_of(code): short for code, short in region.BAZHONG.short_names_en.items()} | {
    "巴城": "Bacheng"}


def _latin(text: str) -> str:
    """Text without CJK characters (known names romanized), for figures drawn without a CJK font."""
    for zh, en in NAMES_EN.items():
        text = text.replace(zh, en)
    text = re.sub(r"\s*[(（]?[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef“”]+[)）]?", "", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def find_cjk_font(warn: bool = True) -> tuple[str | None, str | None]:
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


def trajectory_figure(plan: pd.DataFrame, indicators: pd.DataFrame, key: str, scope: str | None = None,
                      lang: str = "zh", as_of: int | None = None, cjk: bool = True) -> Any:
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

    plan = targets.load_plan(plan) if not isinstance(plan, pd.DataFrame) else plan
    ind = (targets.load_indicators(indicators) if not isinstance(indicators, pd.DataFrame)
           else targets.check_indicators(indicators, "indicators (DataFrame)"))
    rows = plan[plan["key"] == key]
    if rows.empty:
        raise PlanFormatError(f"plan {plan.attrs.get('path', '')}: no target with key {key!r}; keys are "
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
                ax.annotate(units.fmt(r["value"], bound=r["bound"]), (r["year"], r["value"]), textcoords="offset points",
                            xytext=(6, 6 if up else -12), fontsize=8, color="#2166ac")
        years = list(used["year"]) + [int(t["target_year"]), int(t["baseline_year"])]
        x0, x1 = min(years) - 0.5, max(years) + 0.5
        ax.hlines(float(t["target"]), x0, x1, colors="#d73027", linestyles="--",
                  label=f"{txt['target']} {units.fmt(float(t['target']), bound=t['comparison'])} ({int(t['target_year'])})")
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
        name = targets.SCOPE_NAMES.get(scope, scope)
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


def save_figure(fig: Any, path: str | Path, *, atomic_write: bool = True) -> Path:
    """Save a figure (PNG or SVG by the suffix) without timestamps, so the same figure gives the same bytes.

    Written all or nothing (a temporary name, then renamed); ``atomic_write=False`` writes ``path`` directly, for a
    caller that already writes to a temporary name (:class:`bazhong_geo.atomic.Transaction`).

    Raises
    ------
    OutputError
        The folder or the file is read-only, or the disk is full (an existing file is kept).
    """
    import matplotlib as mpl

    path = Path(path)
    meta = {"Software": None} if path.suffix.lower() == ".png" else {"Date": None, "Creator": None}
    with mpl.rc_context(getattr(fig, "_bazhong_rc", {})):
        if not atomic_write:
            fig.savefig(path, metadata=meta, format=path.suffix.lstrip(".").lower())
            return path
        with atomic.atomic_path(path) as tmp:
            fig.savefig(tmp, metadata=meta, format=path.suffix.lstrip(".").lower())
    return path
