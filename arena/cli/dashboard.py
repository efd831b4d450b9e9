"""Live views of a running tournament: rich (a terminal dashboard), plain (a line per
finished match) or none (silent, for scripts)."""
from __future__ import annotations

import sys
import time
from typing import Any

from arena.cli.common import printable
from arena.records import ALL_FAMILIES, PLAYER, MatchResult, ScheduledMatch

DISPLAYS = ("rich", "plain", "none")


def default_display() -> str:
    return "rich" if sys.stdout.isatty() else "plain"


def view(kind: str) -> type["NoDisplay"]:
    """The runner's view factory for a --display choice."""
    return {"rich": RichDisplay, "plain": PlainDisplay}.get(kind, NoDisplay)


def _safe(text: object) -> str:
    """Names, model text and provider errors inside markup: "[/x]" is text, an escape is shown."""
    from rich.markup import escape
    return escape(printable(text))


def _text(text: object) -> Any:
    """A table cell that is never parsed as markup."""
    from rich.text import Text
    return Text(printable(text))


def _slots(st: Any) -> str:
    """running/queued/limit: a local model's calls hold slots while they wait for its one thread."""
    queued = getattr(st, "queued", 0) + getattr(st, "waiting", 0)
    return f"{st.in_flight - getattr(st, 'queued', 0)}/{queued}/{st.limit}"


def describe_result(m: ScheduledMatch, result: MatchResult | None, error: str | None) -> str:
    if error:
        return f"FAILED: {error}"
    return result.summary if result else ""


def progress(state: Any) -> tuple[int, float, float | None]:
    """(matches done, matches/minute this run, seconds left or None)."""
    done_now = state.finished + state.failed
    elapsed = max(time.time() - state.started_at, 1e-6)
    rate = done_now / elapsed
    left = state.total - state.already_done - done_now
    eta = left / rate if rate > 0 and left > 0 else (0.0 if left <= 0 else None)
    return state.already_done + done_now, rate * 60, eta


class NoDisplay:
    live_ratings = False  # whether the runner should keep state.book current per match

    def __init__(self, state: Any, gateway: Any, cfg: Any):
        self.state, self.gateway, self.cfg = state, gateway, cfg

    def __enter__(self) -> "NoDisplay":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def match_finished(self, m: ScheduledMatch, result: MatchResult | None, error: str | None) -> None:
        return None


class PlainDisplay(NoDisplay):
    def __enter__(self) -> "PlainDisplay":
        s = self.state
        print(f"tournament {s.tournament_id}: {s.total} matches, {s.already_done} already finished", flush=True)
        return self

    def match_finished(self, m: ScheduledMatch, result: MatchResult | None, error: str | None) -> None:
        done, _, _ = progress(self.state)
        width = len(str(self.state.total))
        print(printable(f"[{done:>{width}}/{self.state.total}] {m.family:<10} {' vs '.join(m.seats):<34} "
                        f"{describe_result(m, result, error)}  ({m.match_id[:10]})"), flush=True)


class RichDisplay(NoDisplay):
    live_ratings = True

    def __enter__(self) -> "RichDisplay":
        from rich.console import Console
        from rich.live import Live
        self.live = Live(get_renderable=self.render, console=Console(), refresh_per_second=4, transient=False)
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.update(self.render(), refresh=True)
        self.live.__exit__(*exc)

    def render(self) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        s = self.state
        done, per_min, eta = progress(s)
        frac = done / s.total if s.total else 1.0
        bar = "█" * int(frac * 30) + "░" * (30 - int(frac * 30))
        eta_txt = "-" if eta is None else f"{int(eta // 60)}m{int(eta % 60):02d}s"
        head = (f"[bold]{_safe(s.tournament_id)}[/]  {bar} {done}/{s.total}  {per_min:.1f} matches/min  ETA {eta_txt}  "
                f"in flight {s.in_flight}  failed {s.failed}" + (f"  [red]stopped: {_safe(s.stopped)}[/]" if s.stopped else ""))

        board = Table(title="leaderboard (players, all families)", expand=True)
        for col in ("variant", "mu", "sigma", "mu-3σ", "W", "L", "D"):
            board.add_column(col, justify="right" if col != "variant" else "left")
        rows = [r for r in s.book.all() if r.role == PLAYER and r.family == ALL_FAMILIES]
        for r in sorted(rows, key=lambda r: -r.conservative)[:12]:
            board.add_row(_text(r.variant), f"{r.mu:.2f}", f"{r.sigma:.2f}", f"{r.conservative:.2f}", str(r.wins),
                          str(r.losses), str(r.draws))

        latest = Table(title="latest results", expand=True)
        latest.add_column("family")
        latest.add_column("seats")
        latest.add_column("result")
        for m, result, error in list(s.latest):
            latest.add_row(_text(m.family), _text(" vs ".join(m.seats)), _text(describe_result(m, result, error)[:80]))

        models = Table(title="models", expand=True)
        for col in ("model", "running/queued/limit", "calls", "retries", "errors", "tokens in/out", "cost $"):
            models.add_column(col, justify="right" if col != "model" else "left")
        for key, st in sorted(self.gateway.stats.items()):
            cached = getattr(st, "cached", 0)
            limited = getattr(st, "rate_limits", 0)
            models.add_row(_text(key), _slots(st), f"{st.calls}" + (f" ({cached} cached)" if cached else ""),
                           f"{st.retries}" + (f" ({limited} rate-limited)" if limited else ""), str(st.errors),
                           f"{st.input_tokens}/{st.output_tokens}",
                           f"{st.cost_usd:.4f}" if getattr(st, "priced", True) else "unpriced")
        return Panel(Group(head, board, latest, models), title="arena")
