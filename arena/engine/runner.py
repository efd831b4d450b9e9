"""Plays a tournament: schedule, play every unfinished match, commit each one, rate.

Resumable by construction: match ids are deterministic, a match is committed with
everything it produced in one transaction, and a re-run skips what is finished.
Incremental: a config that only adds players, families or rounds to a stored tournament continues
it (`resolve`), so only the new matches are played. Ratings are replayed from the store at the end,
the tournament's matches in the schedule order of its current definition.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from arena import plugins
from arena.config import ConfigError, TournamentConfig, grown_identity, identity_change
from arena.engine.commits import GroupCommit
from arena.engine.family import Family, create_family, family_names
from arena.engine.gateway import CallFailed, Gateway
from arena.engine.match import MatchContext
from arena.engine.ratings import RatingBook, replay_rows
from arena.engine.store import Store
from arena.records import MatchResult, Rating, ScheduledMatch
from players.registry import check_options, check_variant

# What the runner tells while it plays (the CLI's dashboards implement it): entered, told of every
# finished match, exited. Built from (state, gateway, config) by the caller's factory.
ViewFactory = Callable[["RunState", Gateway, TournamentConfig], Any]


class NoView:
    live_ratings = False

    def __init__(self, *_: Any) -> None:
        pass

    def __enter__(self) -> "NoView":
        return self

    def __exit__(self, *_: Any) -> None:
        pass

    def match_finished(self, *_: Any) -> None:
        pass


@dataclass
class RunState:
    """What the dashboard shows while the tournament runs."""

    tournament_id: str
    total: int
    already_done: int
    finished: int = 0
    failed: int = 0
    started_at: float = field(default_factory=time.time)
    in_flight: int = 0
    latest: deque = field(default_factory=lambda: deque(maxlen=8))
    book: RatingBook = field(default_factory=RatingBook)
    live_ratings: bool = True  # keep `book` current per match (only the rich dashboard shows it)
    stopped: str | None = None


@dataclass
class RunSummary:
    tournament_id: str
    run_dir: str
    total: int
    finished: int  # finished in this run
    failed: int
    skipped: int  # already finished before this run
    stopped: str | None
    ratings: list[Rating]

    @property
    def complete(self) -> bool:
        return self.skipped + self.finished == self.total


def build_families(cfg: TournamentConfig) -> dict[str, Family]:
    known = family_names()
    unknown = set(cfg.family_options) - set(known)
    if unknown:
        raise ConfigError(f"{cfg.source}: [families.{sorted(unknown)[0]}] configures an unknown family "
                          f"(known: {', '.join(known)})")
    families = {name: create_family(name, cfg.family_options.get(name, {})) for name in cfg.families}
    for name in sorted(set(cfg.family_options) - set(cfg.families)):
        create_family(name, cfg.family_options[name])  # a section of a family not played is checked too
    return families


def check_participants(cfg: TournamentConfig) -> None:
    """Unknown providers, misspelt options, missing keys or model files: one line before any match
    starts, naming every variant with a problem (so a user sets all the keys at once, not one per run).
    A declared variant that does not play has only its options checked: it needs no key."""
    problems: list[str] = []
    playing = cfg.participants()
    for name in sorted(cfg.variants):
        try:
            (check_variant if name in playing else check_options)(cfg.variants[name])
        except (ValueError, ImportError) as exc:
            problems.append(str(exc))
        except Exception as exc:  # a backend's own error type (e.g. missing model file)
            problems.append(f"variant {name!r}: {exc}")
    if problems:
        raise ConfigError("; ".join(" ".join(p.split()) for p in problems))


MAX_SCHEDULE = 1_000_000  # matches per tournament; the schedule is held in memory (~250 bytes each)


def plan(cfg: TournamentConfig, families: dict[str, Family], tournament_id: str | None = None
         ) -> list[ScheduledMatch]:
    tid = tournament_id or cfg.tournament_id
    seat_keys = cfg.variant_definitions()
    schedule_format = plugins.load(plugins.FORMATS, cfg.format, "tournament format")
    schedule: list[ScheduledMatch] = []
    size = 0
    for name, fam in families.items():
        if len(cfg.players) < fam.seats:
            raise ConfigError(f"family {name!r} needs {fam.seats} players per match, "
                              f"the tournament has {len(cfg.players)}")
        size += cfg.rounds * math.comb(len(cfg.players), fam.seats) * fam.seats
        if size > MAX_SCHEDULE:  # refuse before building it: rounds = 10**18 must not eat the machine
            raise ConfigError(f"the tournament would have {size:,} matches (rounds x player groups x seat "
                              f"orders); at most {MAX_SCHEDULE:,} are allowed: lower rounds or split the players")
        schedule += schedule_format(tid, name, cfg.players, fam.seats, cfg.rounds, cfg.seed,
                                    start_seq=len(schedule), key=cfg.family_key(name), seat_keys=seat_keys)
    return schedule


def resolve(store: Store, cfg: TournamentConfig) -> tuple[str, dict[str, Any], str | None]:
    """(tournament id, identity to store, note). The newest stored tournament of the same name that
    the config only adds to is continued; else the config is a new tournament, and the note says
    what changed from the newest one of that name."""
    ident = cfg.identity()
    stored = store.identities(cfg.name)
    for tid, old in stored:
        if old is not None and identity_change(old, ident) is None:
            return tid, grown_identity(old, ident), None
    if not stored or stored[0][0] == cfg.tournament_id:
        return cfg.tournament_id, ident, None
    last_id, last = stored[0]
    why = identity_change(last, ident) if last is not None else f"tournament {last_id} was stored by an older arena"
    return cfg.tournament_id, ident, (f"{why}: this is a new tournament {cfg.tournament_id}; "
                                      f"the old one ({last_id}) stays in the store")


async def run_tournament(cfg: TournamentConfig, run_dir: str | Path, view: ViewFactory | None = None,
                         gateway: Gateway | None = None, max_matches: int | None = None,
                         notify: Callable[[str], None] | None = None) -> RunSummary:
    """Play what is left of the tournament. A view whose `live_ratings` is true gets the leaderboard
    kept current per match (TrueSkill costs ~1 ms per ranked set, so only a view that shows it asks).
    `notify` is told, in one line, when the config is a new tournament beside one of the same name."""
    families = build_families(cfg)
    check_participants(cfg)
    schedule = plan(cfg, families)  # a schedule too large is refused before the store is touched
    store = Store(run_dir)
    try:
        tid, identity, note = resolve(store, cfg)
        if tid != cfg.tournament_id:  # a stored tournament this config grows
            schedule = plan(cfg, families, tid)
        # The families once played keep their settings in the stored config (the export reads them).
        played = identity["families"]
        described = {**cfg.describe(), "identity": identity,
                     "family_options": {**{f: d["options"] for f, d in played.items()}, **cfg.family_options},
                     "unleashed": {**{f: d["unleashed"] for f, d in played.items() if d["unleashed"] is not None},
                                   **cfg.unleashed}}
        store.ensure_tournament(tid, cfg.name, described, len(schedule),
                                {n: cfg.variants[n].describe() for n in cfg.participants()},
                                cfg.variant_definitions())
        if note and notify is not None:
            notify(note)
        store.renumber(tid, [m.match_id for m in schedule])  # matches outside it are no longer read
        done = store.finished_ids(tid)
        todo = [m for m in schedule if m.match_id not in done]
        state = RunState(tid, len(schedule), len(schedule) - len(todo), live_ratings=bool(getattr(view, "live_ratings", False)))
        if max_matches is not None:
            todo = todo[:max_matches]
        # The live leaderboard starts from what is stored. TrueSkill costs ~1 ms per ranked set,
        # so without a dashboard to show it the ratings are only computed once, at the end.
        for _, fam, rs in store.iter_ranked_sets() if state.live_ratings else ():
            state.book.apply(fam, rs)
        gw = gateway or make_gateway(cfg, run_dir)
        if gateway is None:  # the budget is the tournament's, over all its runs
            gw.total_cost_usd = store.spent(tid)
            gw.on_spend = lambda usd: store.add_spend(tid, usd)
        shown = (view or NoView)(state, gw, cfg)
        try:
            with shown:
                await _play_all(cfg, families, todo, store, gw, state, shown)
                book = RatingBook()  # replayed in schedule order, the history streamed into the store
                store.replace_ratings(book.all, replay_rows(store.iter_ranked_sets(), book))
                state.book = book  # the last frame shows the stored (schedule-order) ratings
        finally:
            if gateway is None:
                await gw.aclose()
        finished_now = state.finished
        finished = store.finished_ids(tid)
        if all(m.match_id in finished for m in schedule):
            store.set_tournament_status(tid, "finished")
        return RunSummary(tid, str(run_dir), len(schedule), finished_now, state.failed, state.already_done,
                          state.stopped, book.all())
    finally:
        store.close()


def make_gateway(cfg: TournamentConfig, run_dir: str | Path) -> Gateway:
    return Gateway.from_config(cfg, run_dir)  # retry policy, response cache, cost limit


async def _play_all(cfg: TournamentConfig, families: dict[str, Family], todo: list[ScheduledMatch], store: Store,
                    gateway: Gateway, state: RunState, view: Any) -> None:
    queue = iter(todo)
    commits = GroupCommit(store)  # the matches that finish together are written together

    async def worker() -> None:
        for m in queue:  # workers share one iterator: at most matches_in_flight matches exist at once
            if state.stopped:
                return
            await _play_one(cfg, families[m.family], m, store, commits, gateway, state, view)
            # Instant players (mock, cached answers) never suspend: yield once a match so the
            # other workers get turns and the loop sweeps its cancelled call timers.
            await asyncio.sleep(0)

    workers = [asyncio.create_task(worker()) for _ in range(min(cfg.matches_in_flight, len(todo)) or 0)]
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def _play_one(cfg: TournamentConfig, family: Family, m: ScheduledMatch, store: Store, commits: GroupCommit,
                    gateway: Gateway, state: RunState, view: Any) -> None:
    options = cfg.family_options.get(m.family, {})
    ctx = MatchContext(match=m, gateway=gateway, options=options,
                       referees=cfg.referees, meta_referees=cfg.meta_referees, authors=cfg.authors,
                       players=cfg.players, unleashed=cfg.unleashed.get(m.family, family.open_ended),
                       samples=options.get("samples", cfg.samples))
    started = time.time()
    state.in_flight += 1
    result: MatchResult | None = None
    error: str | None = None
    try:
        result = await family.play(ctx)
    except CallFailed as exc:
        if type(exc).__name__ == "CostLimitReached":
            state.stopped = f"cost limit reached: {exc}"
            store.add_usage(m.tournament_id, ctx.calls)  # not committed, but its calls were made
            return  # a re-run with a higher limit plays it
        error = f"model call failed: {exc}"
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - a family bug must cost one match, not the tournament
        error = f"{m.family} family error: {type(exc).__name__}: {exc}"
    finally:
        state.in_flight -= 1
    await commits.commit(m, result, ctx.calls, ctx.transcript, started, error)
    if error:
        state.failed += 1
    else:
        state.finished += 1
        for rs in result.ranked_sets if state.live_ratings else ():  # type: ignore[union-attr]
            state.book.apply(m.family, rs)
    state.latest.appendleft((m, result, error))
    view.match_finished(m, result, error)


def run(cfg: TournamentConfig, run_dir: str | Path, view: ViewFactory | None = None, **kwargs: Any) -> RunSummary:
    return asyncio.run(run_tournament(cfg, run_dir, view, **kwargs))
