"""The report's pictures: one function per section, rows in, PNG bytes out (matplotlib, Agg).

Figures are drawn without pyplot (no global state, no display needed). Names and texts in them
are model-chosen: mathtext is off, so a name like "$x$" is drawn as written, not parsed.
"""
from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: before anything else of matplotlib is imported
from matplotlib import rc_context
from matplotlib.figure import Figure

MAX_LABEL = 28  # characters of a name on an axis
MAX_ROWS = 30  # bars or heat-map cells per axis; the table below the figure has them all
STYLE = {"text.parse_math": False, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


def _label(name: str) -> str:
    name = " ".join(str(name).split())
    return name if len(name) <= MAX_LABEL else name[:MAX_LABEL - 1] + "…"


def _png(width: float, height: float, draw: Callable[[Figure], None]) -> bytes:
    with rc_context(STYLE):
        fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


def leaderboard(rows: list[dict[str, Any]]) -> bytes:
    """One panel per role x family: each variant's rating as a point with its 95% interval."""
    panels: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        panels[(r["role"], r["family"])].append(r)
    keys = list(panels)[:12]
    cols = min(3, len(keys))
    nrows = (len(keys) + cols - 1) // cols
    height = max(2.2, min(MAX_ROWS, max(len(panels[k]) for k in keys)) * 0.32 + 1.0)

    def draw(fig: Figure) -> None:
        axes = fig.subplots(nrows, cols, squeeze=False)
        for ax, key in zip(axes.flat, keys):
            rs = sorted(panels[key], key=lambda r: r["rating"])[-MAX_ROWS:]
            y = range(len(rs))
            mid = [r["rating"] for r in rs]
            err = [[m - r["lo"] for m, r in zip(mid, rs)], [r["hi"] - m for m, r in zip(mid, rs)]]
            ax.errorbar(mid, list(y), xerr=err, fmt="o", capsize=3, color="#3465a4")
            ax.set_yticks(list(y), [_label(r["variant"]) for r in rs])
            ax.set_title(f"{key[0]} · {'all families' if key[1] == '*' else _label(key[1])}")
        for ax in list(axes.flat)[len(keys):]:
            ax.set_axis_off()
    return _png(4.2 * cols, height * nrows, draw)


def generations(rows: list[dict[str, Any]]) -> bytes:
    """Each lineage's rating by loop generation, with its interval."""
    by_lineage: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_lineage[r["lineage"]].append(r)

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        for lineage, rs in by_lineage.items():
            rs.sort(key=lambda r: r["generation"])
            g = [r["generation"] for r in rs]
            ax.plot(g, [r["rating"] for r in rs], marker="o", label=_label(lineage))
            ax.fill_between(g, [r["lo"] for r in rs], [r["hi"] for r in rs], alpha=0.2)
        ax.set_xlabel("generation")
        ax.set_ylabel("player rating, all families")
        ax.set_xticks(sorted({r["generation"] for r in rows}))
        ax.legend()
    return _png(6.5, 3.6, draw)


def head_to_head(rows: list[dict[str, Any]]) -> bytes:
    """Heat map: the row player's win share against the column player (draws count half)."""
    names = sorted({r["a"] for r in rows} | {r["b"] for r in rows})[:MAX_ROWS]
    cell = {(r["a"], r["b"]): r for r in rows}
    grid = [[cell[(a, b)]["share"] if (a, b) in cell else float("nan") for b in names] for a in names]
    side = 1.6 + 0.55 * len(names)

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        im = ax.imshow(grid, cmap="RdYlGn", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(names)), [_label(n) for n in names], rotation=45, ha="right")
        ax.set_yticks(range(len(names)), [_label(n) for n in names])
        ax.set_xlabel("opponent")
        ax.set_ylabel("player")
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if (a, b) in cell:
                    share = cell[(a, b)]["share"]
                    ax.text(j, i, f"{share:.2f}\n({cell[(a, b)]['n']})", ha="center", va="center", fontsize=7,
                            color="white" if abs(share - 0.5) > 0.35 else "black")
        fig.colorbar(im, ax=ax, label="win share (draw = 1/2)")
    return _png(max(4.5, side + 1.5), max(3.5, side), draw)


REFEREE_MEASURES = (("accuracy", "accuracy"), ("position_bias", "first-seat wins"),
                    ("length_bias", "longer wins"), ("self_preference", "self-preference"))


def referees(rows: list[dict[str, Any]]) -> bytes:
    """Grouped bars per referee: accuracy and the three biases (0.5 = unbiased)."""
    rs = rows[:MAX_ROWS]

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        width = 0.8 / len(REFEREE_MEASURES)
        for k, (key, label) in enumerate(REFEREE_MEASURES):
            xs = [i + (k - 1.5) * width for i in range(len(rs))]
            ax.bar(xs, [r.get(key) or 0.0 for r in rs], width, label=label)
        ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
        ax.set_xticks(range(len(rs)), [_label(f"{r['variant']} ({r['role']})") for r in rs], rotation=30,
                      ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("share (missing = 0)")
        ax.legend(fontsize=7, ncols=2)
    return _png(max(5.0, 1.2 * len(rs) + 2), 3.8, draw)


def scores(groups: dict[tuple[str, str], list[tuple[float, str, str]]]) -> bytes:
    """Box plot of the entry scores per family and role."""
    keys = list(groups)[:MAX_ROWS]

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        ax.boxplot([[v[0] for v in groups[k]] for k in keys], orientation="horizontal")
        ax.set_yticks(range(1, len(keys) + 1), [_label(f"{f} / {r}") for f, r in keys])
        ax.set_xlabel("entry score")
    return _png(6.5, max(2.4, 0.45 * len(keys) + 1.2), draw)


def diversity(rows: list[dict[str, Any]]) -> bytes:
    """Diversity (and self-similarity where stored) by generation, one line per lineage; a lineage
    of one generation is a single point."""
    by_lineage: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_lineage[r["lineage"]].append(r)
    lineages = list(by_lineage)[:MAX_ROWS]
    has_self = any(r["self_similarity"] is not None for r in rows)

    if all(len(by_lineage[k]) == 1 for k in lineages):  # no loop generations: one bar per variant
        return _bars([(r["variant"], r["diversity"], r["self_similarity"]) for r in rows[:MAX_ROWS]], has_self)

    def draw(fig: Figure) -> None:
        axes = fig.subplots(1, 2 if has_self else 1, squeeze=False)[0]
        for key, ax, title in (("diversity", axes[0], "diversity (1 = never repeats)"),
                               ("self_similarity", axes[-1], "self-similarity")):
            if key == "self_similarity" and not has_self:
                continue
            for lineage in lineages:
                rs = [r for r in by_lineage[lineage] if r[key] is not None]
                if rs:
                    ax.plot([r["generation"] for r in rs], [r[key] for r in rs], marker="o", label=_label(lineage))
            ax.set_xlabel("generation")
            ax.set_title(title)
            ax.set_ylim(-0.02, 1.02)
        axes[0].legend(fontsize=7)
    return _png(6.5 * (2 if has_self else 1), 3.6, draw)


def _bars(rows: list[tuple[str, float | None, float | None]], has_self: bool) -> bytes:
    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        y = list(range(len(rows)))[::-1]
        height = 0.4 if has_self else 0.7
        ax.barh([i + (height / 2 if has_self else 0) for i in y], [r[1] or 0.0 for r in rows], height,
                label="diversity (1 = never repeats)")
        if has_self:
            ax.barh([i - height / 2 for i in y], [r[2] or 0.0 for r in rows], height, label="self-similarity")
        ax.set_yticks(y, [_label(r[0]) for r in rows])
        ax.set_xlim(0, 1.02)
        ax.legend(fontsize=7)
    return _png(6.5, max(2.4, 0.4 * len(rows) + 1.2), draw)


def usage(rows: list[dict[str, Any]]) -> bytes:
    """Tokens (input and output) and cost per variant and role."""
    rs = rows[:MAX_ROWS][::-1]
    labels = [_label(f"{r['variant']} ({r['role']})") for r in rs]

    def draw(fig: Figure) -> None:
        tok, cost = fig.subplots(1, 2, sharey=True)
        y = range(len(rs))
        tok.barh(list(y), [r["input_tokens"] for r in rs], label="input")
        tok.barh(list(y), [r["output_tokens"] for r in rs], left=[r["input_tokens"] for r in rs], label="output")
        tok.set_yticks(list(y), labels)
        tok.set_xlabel("tokens")
        tok.legend(fontsize=7)
        cost.barh(list(y), [r["cost_usd"] for r in rs], color="#c17d11")
        cost.set_xlabel("cost (US$)")
    return _png(9.0, max(2.4, 0.35 * len(rs) + 1.2), draw)
