"""How far a tournament is and how long it has left, from its store: progress, an ETA weighted
by each family's measured match times, and the live status file a running `arena run` keeps."""
from __future__ import annotations

import functools
import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterable

from arena.files import atomic_write

LIVE_NAME = "arena-live.json"  # written by a running `arena run` (every display), read by the dashboard
RECENT = 50  # matches the throughput is measured over


def family_totals(config: dict[str, Any]) -> dict[str, int]:
    """Matches per family of a stored tournament config: rounds x player groups x seat orders."""
    players = config.get("players") or []
    rounds = int(config.get("rounds") or 1)
    out = {}
    for name in config.get("families") or []:
        seats = _seats(name, json.dumps((config.get("family_options") or {}).get(name, {}), sort_keys=True))
        out[name] = rounds * math.comb(len(players), seats) * seats if seats else 0
    return out


@functools.lru_cache(maxsize=64)
def _seats(family: str, options: str) -> int:
    from arena.engine.family import create_family
    try:
        return int(create_family(family, json.loads(options)).seats)
    except Exception:  # noqa: BLE001 - an uninstalled family: its share of the ETA is unknown
        return 0


Row = tuple[str, "float | None", "float | None"]  # (family, started_at, finished_at)


def eta_seconds(done: Iterable[Row], totals: dict[str, int], since: float, now: float | None = None,
                history: Iterable[Row] = (), in_flight: int = 0) -> float | None:
    """Seconds left, or None before any match of this run finished. `done`: every played match of
    the tournament (finished or failed). The work left is each family's remaining matches times
    its mean match time (measured in this tournament, else in `history`: the store's other
    matches, else the mean of all); it goes at the rate the matches finished since `since` (this
    run's start) were played, so parallel matches and slow families are both counted. The
    `in_flight` matches being played are taken as half done."""
    now = time.time() if now is None else now
    done = list(done)
    rows = [(f, s, e) for f, s, e in done if s is not None and e is not None]
    count: dict[str, int] = {}
    for f, _, _ in done:
        count[f] = count.get(f, 0) + 1
    left = {f: max(0, n - count.get(f, 0)) for f, n in totals.items()}
    if not any(left.values()):
        return 0.0
    recent = sorted((r for r in rows if r[2] >= since), key=lambda r: r[2])[-RECENT:]
    if not recent:
        return None
    def means(source: Iterable[Row]) -> dict[str, float]:
        spent: dict[str, list[float]] = {}
        for f, s, e in source:
            if s is not None and e is not None:
                spent.setdefault(f, []).append(max(e - s, 1e-3))
        return {f: sum(d) / len(d) for f, d in spent.items()}

    here, past = means(rows), means(history)
    overall = sum(max(e - s, 1e-3) for _, s, e in rows) / len(rows)
    work = sum(n * here.get(f, past.get(f, overall)) for f, n in left.items())
    left_n = sum(left.values())
    work -= min(in_flight, left_n) * work / left_n / 2
    span = max(recent[-1][2] - min(max(s, since) for _, s, _ in recent), 1e-3)
    busy = sum(max(e - max(s, since), 1e-3) for _, s, e in recent) / span  # matches played at once
    busy = min(busy, left_n)  # the last matches cannot be shared out
    return max(0.0, work / busy - (now - recent[-1][2]))


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def model_rows(gateway: Any) -> list[dict[str, Any]]:
    """Per model: the variants that use it (names, not backend keys) and its live counters."""
    names: dict[str, list[str]] = {}
    for variant, backend in list(getattr(gateway, "_backends", {}).items()):
        names.setdefault(backend.key, []).append(variant)
    rows = []
    for key, st in sorted(list(gateway.stats.items())):
        queued = getattr(st, "queued", 0)
        rows.append({"variants": sorted(names.get(key, [])) or [key], "running": st.in_flight - queued,
                     "queued": queued + getattr(st, "waiting", 0), "limit": st.limit, "calls": st.calls,
                     "cached": getattr(st, "cached", 0), "retries": st.retries,
                     "rate_limits": getattr(st, "rate_limits", 0), "errors": st.errors,
                     "tokens_in": st.input_tokens, "tokens_out": st.output_tokens, "cost_usd": st.cost_usd,
                     "priced": getattr(st, "priced", True)})
    return rows


class LiveFile:
    """Writes the run's live status (progress, per-model calls running/queued/limit) to
    LIVE_NAME once a second, so a dashboard in another process shows what only this one knows."""

    def __init__(self, run_dir: str | Path, state: Any, gateway: Any):
        self.path, self.state, self.gateway = Path(run_dir) / LIVE_NAME, state, gateway
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="arena-live", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.write(running=False)

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self.write(running=True)

    def write(self, running: bool) -> None:
        s = self.state
        try:
            models = model_rows(self.gateway)
        except RuntimeError:  # a model added while copying: next second
            return
        body = {"pid": os.getpid(), "running": running, "tournament_id": s.tournament_id, "started_at": s.started_at,
                "updated_at": time.time(), "total": s.total, "already_done": s.already_done, "finished": s.finished,
                "failed": s.failed, "in_flight": s.in_flight, "stopped": s.stopped, "models": models}
        try:
            with atomic_write(self.path) as tmp:
                tmp.write_text(json.dumps(body))
        except OSError:  # a full disk must not stop the tournament
            pass


def read_live(run_dir: str | Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(run_dir) / LIVE_NAME).read_text())
    except (OSError, ValueError):
        return None
