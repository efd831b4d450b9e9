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


def view(kind: str, run_dir: str | None = None) -> Any:
    """The runner's view factory for a --display choice. With the run's directory, every display
    also keeps the live status file (arena/cli/dash/progress.py) the dashboard app reads."""
    cls = {"rich": RichDisplay, "plain": PlainDisplay}.get(kind, NoDisplay)
    return lambda state, gateway, cfg: cls(state, gateway, cfg, run_dir)


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


def _k(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 10_000 else str(n)


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

    def __init__(self, state: Any, gateway: Any, cfg: Any, run_dir: str | None = None):
        self.state, self.gateway, self.cfg, self.run_dir = state, gateway, cfg, run_dir
        self._live = None
        if run_dir is not None:
            from arena.cli.dash.progress import LiveFile
            self._live = LiveFile(run_dir, state, gateway)

    def __enter__(self) -> "NoDisplay":
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.stop()

    def match_finished(self, m: ScheduledMatch, result: MatchResult | None, error: str | None) -> None:
        return None


class PlainDisplay(NoDisplay):
    def __enter__(self) -> "PlainDisplay":
        super().__enter__()
        s = self.state
        print(f"tournament {s.tournament_id}: {s.total} matches, {s.already_done} already finished", flush=True)
        return self

    def match_finished(self, m: ScheduledMatch, result: MatchResult | None, error: str | None) -> None:
        done, _, _ = progress(self.state)
        width = len(str(self.state.total))
        print(printable(f"[{done:>{width}}/{self.state.total}] {m.family:<10} {' vs '.join(m.seats):<34} "
                        f"{describe_result(m, result, error)}  ({m.match_id[:10]})"), flush=True)


class RichDisplay(NoDisplay):
    """The live view of `arena run` in a terminal; sized to the terminal (80x24 included)."""
    live_ratings = True

    def __enter__(self) -> "RichDisplay":
        from rich.console import Console
        from rich.live import Live
        super().__enter__()
        self._eta: float | None = None
        self._eta_at = time.time()
        self.console = Console()
        self.live = Live(get_renderable=self.render, console=self.console, refresh_per_second=4, transient=False)
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.update(self.render(), refresh=True)
        self.live.__exit__(*exc)
        super().__exit__(*exc)

    def match_finished(self, m: ScheduledMatch, result: MatchResult | None, error: str | None) -> None:
        if time.time() - self._eta_at >= 1.0 or self._eta is None:  # reads the store: at most once a second
            self._eta, self._eta_at = self.eta(), time.time()

    def eta(self) -> float | None:
        """Weighted by each family's measured match times (from the store) where the run's
        directory is known; else matches left over this run's match rate."""
        if self.run_dir is None or self.cfg is None:
            return progress(self.state)[2]
        from arena.cli.dash.progress import eta_seconds, family_totals
        from arena.engine.store import Store
        try:
            store = Store(self.run_dir, create=False)
        except Exception:  # noqa: BLE001 - the view must never stop the run
            return progress(self.state)[2]
        try:
            rows = store.db.execute("SELECT family, started_at, finished_at FROM matches WHERE tournament_id=? "
                                    "AND seq >= 0", (self.state.tournament_id,)).fetchall()
            history = store.db.execute("SELECT family, started_at, finished_at FROM matches WHERE tournament_id != ? "
                                       "AND status='finished'", (self.state.tournament_id,)).fetchall()
        finally:
            store.close()
        totals = family_totals(self.cfg.describe())
        if not totals:
            return progress(self.state)[2]
        return eta_seconds(rows, totals, self.state.started_at, history=history, in_flight=self.state.in_flight)

    def render(self) -> Any:
        from rich import box
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table

        from arena.cli.dash.progress import clock, model_rows
        s = self.state
        done, per_min, _ = progress(s)
        eta = getattr(self, "_eta", None)
        if eta is not None:
            eta = max(0.0, eta - (time.time() - self._eta_at))
        height = getattr(getattr(self, "console", None), "height", 24) or 24
        # 24 lines: panel 2, header 2, three tables of title + header 2 each; the rest are rows.
        rows_left = max(3, height - 12)
        frac = done / s.total if s.total else 1.0
        bar = "█" * int(frac * 20) + "░" * (20 - int(frac * 20))
        running = max(0, s.in_flight)
        head = (f"[bold]{_safe(s.tournament_id)}[/]\n{bar} {done}/{s.total}  elapsed {clock(time.time() - s.started_at)}"
                f"  ETA {clock(eta)}  {per_min:.1f}/min  matches playing {running}  failed {s.failed}"
                + (f"  [red]stopped: {_safe(s.stopped)}[/]" if s.stopped else ""))

        def table(title: str) -> Table:
            return Table(title=title, title_justify="left", expand=True, box=box.SIMPLE_HEAD, show_edge=False,
                         pad_edge=False, padding=(0, 1))

        board = table("leaderboard (players, all families)")
        for col in ("variant", "mu", "sigma", "mu-3σ", "W", "L", "D"):
            board.add_column(col, justify="right" if col != "variant" else "left", no_wrap=True, overflow="ellipsis")
        rows = [r for r in s.book.all() if r.role == PLAYER and r.family == ALL_FAMILIES]
        for r in sorted(rows, key=lambda r: -r.conservative)[:max(1, rows_left // 3)]:
            board.add_row(_text(r.variant), f"{r.mu:.2f}", f"{r.sigma:.2f}", f"{r.conservative:.2f}", str(r.wins),
                          str(r.losses), str(r.draws))

        latest = table("latest matches (arena show ID)")
        latest.add_column("id", no_wrap=True)
        latest.add_column("family", no_wrap=True, overflow="ellipsis", max_width=12)
        latest.add_column("seats", no_wrap=True, overflow="ellipsis", ratio=2)
        latest.add_column("result", no_wrap=True, overflow="ellipsis", ratio=3)
        for m, result, error in list(s.latest)[:max(1, rows_left // 3)]:
            latest.add_row(_text(m.match_id[:10]), _text(m.family), _text(" vs ".join(m.seats)),
                           _text(describe_result(m, result, error)))

        models = table("calls per model")
        width = getattr(getattr(self, "console", None), "width", 200) or 200
        slots = "running/queued/limit" if width >= 100 else "run/queue/limit"
        for col in ("variants", slots, "calls", "retry/err", "tokens in/out", "$"):
            models.add_column(col, justify="right" if col != "variants" else "left", no_wrap=True,
                              overflow="ellipsis", min_width=14 if col == "variants" else len(col))
        stats = model_rows(self.gateway)
        for st in stats[:max(1, rows_left - rows_left // 3 * 2)]:
            models.add_row(_text(", ".join(st["variants"])), f"{st['running']}/{st['queued']}/{st['limit']}",
                           f"{st['calls']}" + (f" ({st['cached']} cached)" if st["cached"] else ""),
                           f"{st['retries']}" + (f" ({st['rate_limits']} rate-limited)" if st["rate_limits"] else "")
                           + f"/{st['errors']}", f"{_k(st['tokens_in'])}/{_k(st['tokens_out'])}",
                           f"{st['cost_usd']:.3f}" if st["priced"] else "unpriced")
        return Panel(Group(head, board, latest, models), title="arena")
