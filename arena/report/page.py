"""The report page: sections (a title, a picture, a small table) assembled into one
self-contained HTML text. No script, no external resource: pictures are base64 PNG data URIs and
the styles are inline. Every stored string (variant names, answers) is model-chosen and escaped;
the page's Content-Security-Policy also forbids scripts, should one ever slip through.
"""
from __future__ import annotations

import base64
import html
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.report import data, figures

if TYPE_CHECKING:
    from arena.engine.store import Store

MAX_TABLE_ROWS = 200
EXCERPT = 120  # characters of an answer in a table
NO_DATA = "no data"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
p.note { color: #555; } p.empty { color: #999; font-style: italic; }
img { max-width: 100%; display: block; margin: .5em 0; }
table { border-collapse: collapse; font-size: .85em; margin: .5em 0; }
th, td { border: 1px solid #ddd; padding: .2em .5em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } th { background: #f4f4f4; }
td.text { max-width: 30em; white-space: pre-wrap; word-break: break-word; font-family: monospace; }
"""


@dataclass
class Section:
    key: str
    title: str
    note: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    image: bytes | None = None
    text_columns: tuple[int, ...] = ()  # columns holding model-written text (shown as code)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _pct(v: float | None, n: int | None = None) -> str:
    if v is None:
        return "-"
    return f"{v:.0%}" + (f" ({n})" if n else "")


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


def _section(key: str, title: str, note: str, columns: list[str], rows: list[list[Any]],
             draw: Callable[[], bytes], text_columns: tuple[int, ...] = ()) -> Section:
    return Section(key, title, note, columns, rows, draw() if rows else None, text_columns)


def sections(store: Store, tournament_id: str | None = None, bootstrap: int = 200) -> list[Section]:
    src = data.Source(store, tournament_id)
    method, board = data.leaderboard(src, bootstrap=bootstrap)
    gens = data.generations(board)
    h2h = data.head_to_head(src)
    refs = data.referees(src)
    score_groups = data.scores(src)
    div = data.diversity(src)
    use = data.usage(src)
    return [
        _section("leaderboard", "Leaderboard", f"Ratings per role and family: {method}.",
                 ["role", "family", "variant", "rating", "95% low", "95% high", "matches", "W/L/D"],
                 [[r["role"], r["family"], r["variant"], r["rating"], r["lo"], r["hi"], r["matches"],
                   f"{r['wins']}/{r['losses']}/{r['draws']}"] for r in board],
                 lambda: figures.leaderboard(board)),
        _section("generations", "Ratings by loop generation",
                 "Player ratings over all families of each `arena loop` lineage (X, X-g1, X-g2, ...).",
                 ["lineage", "generation", "variant", "rating", "95% low", "95% high", "matches"],
                 [[r["lineage"], r["generation"], r["variant"], r["rating"], r["lo"], r["hi"], r["matches"]]
                  for r in gens],
                 lambda: figures.generations(gens)),
        _section("head-to-head", "Head to head",
                 "Win share of the row player against the column player over all match outcomes "
                 "(a draw counts half); the number of matches in brackets.",
                 ["player", "opponent", "wins", "losses", "draws", "matches", "win share"],
                 [[r["a"], r["b"], r["wins"], r["losses"], r["draws"], r["n"], r["share"]] for r in h2h
                  if r["a"] < r["b"]],  # each pair once in the table; the picture has both sides
                 lambda: figures.head_to_head(h2h)),
        _section("referees", "Referees",
                 "Accuracy against ground truth where a family has one; first-seat and longer wins: share of "
                 "decisive verdicts (50% = unbiased); self-preference: share of its own matches judged for itself.",
                 ["variant", "role", "matches", "accuracy", "first-seat wins", "longer wins", "self-pref",
                  "verdicts", "ties", "missing"],
                 [[r["variant"], r["role"], r["matches"], _pct(r["accuracy"], r["accuracy_n"]),
                   _pct(r["position_bias"]), _pct(r["length_bias"]), _pct(r["self_preference"], r["self_n"]),
                   r["verdicts"], r["ties"], f"{r['missing']} ({_pct(r['missing_rate'])})"] for r in refs],
                 lambda: figures.referees(refs)),
        _section("scores", "Score distributions",
                 "Entry scores in the stored ranked sets, per family and role, with the best-scored entry.",
                 ["family", "role", "entries", "mean", "min", "median", "max", "best", "best answer"],
                 [[r["family"], r["role"], r["n"], r["mean"], r["min"], r["median"], r["max"], r["best"],
                   _excerpt(r["best_text"])] for r in data.score_rows(score_groups)],
                 lambda: figures.scores(score_groups), text_columns=(8,)),
        _section("diversity", "Diversity by generation",
                 "Per variant, how different its generations are from the other entries for the same prompt "
                 "(1 = never repeats one); self-similarity where a family stored it.",
                 ["lineage", "generation", "variant", "diversity", "self-similarity", "matches with it"],
                 [[r["lineage"], r["generation"], r["variant"], r["diversity"], r["self_similarity"], r["self_n"]]
                  for r in div],
                 lambda: figures.diversity(div)),
        _section("usage", "Tokens and cost",
                 "Model calls per variant and role, from the stored calls.",
                 ["variant", "role", "calls", "input tokens", "output tokens", "cost (US$)", "cached", "failed"],
                 [[r["variant"], r["role"], r["calls"], r["input_tokens"], r["output_tokens"],
                   f"{r['cost_usd']:.4f}", r["cached"], r["failed"]] for r in use],
                 lambda: figures.usage(use)),
    ]


def _table(s: Section) -> str:
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in s.columns)
    body = []
    for row in s.rows[:MAX_TABLE_ROWS]:
        cells = []
        for i, v in enumerate(row):
            cls = "text" if i in s.text_columns else "num" if isinstance(v, (int, float)) else ""
            cells.append(f'<td class="{cls}">{e(_fmt(v))}</td>' if cls else f"<td>{e(_fmt(v))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = (f'<p class="note">first {MAX_TABLE_ROWS} of {len(s.rows)} rows</p>'
            if len(s.rows) > MAX_TABLE_ROWS else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def render(sections_: list[Section], title: str, subtitle: str) -> str:
    e = html.escape
    parts = [f'<section id="{e(s.key)}"><h2>{e(s.title)}</h2><p class="note">{e(s.note)}</p>'
             + (f'<img alt="{e(s.title)}" src="data:image/png;base64,{base64.b64encode(s.image).decode("ascii")}">'
                + _table(s) if s.rows else f'<p class="empty">{NO_DATA}</p>')
             + "</section>" for s in sections_]
    toc = " · ".join(f'<a href="#{e(s.key)}">{e(s.title)}</a>' for s in sections_)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{e(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{e(title)}</h1><p class=\"note\">{e(subtitle)}</p><nav>{toc}</nav>"
            + "".join(parts) + "</body></html>\n")


def report(store: Store, tournament_id: str | None = None, bootstrap: int = 200, where: str = "") -> str:
    """The whole page for a store (or one of its tournaments)."""
    matches = store.db.execute(
        "SELECT COUNT(*), SUM(status='finished') FROM matches" + (" WHERE tournament_id=?" if tournament_id else ""),
        (tournament_id,) if tournament_id else ()).fetchone()
    scope = f"tournament {tournament_id}" if tournament_id else "all tournaments"
    subtitle = (f"{where} · {scope} · {matches[0]} matches ({matches[1] or 0} finished) · "
                f"written {time.strftime('%Y-%m-%d %H:%M', time.localtime())}")
    return render(sections(store, tournament_id, bootstrap), "Arena report", subtitle)
