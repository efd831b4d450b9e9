"""A panel of referees ranks candidates: `judge()`.

Who judges (documented in docs/referees.md):
1. `judges=` when the caller names them, else
2. the tournament's `referees`, else
3. the tournament's players (`ctx.players`, falling back to the match's seats), at most `panel_size` of them (default 3), picked by the match seed;
   never a scripted player (`random`, `first`, any mock/ variant): its verdicts are no judgement, so it
   judges (or writes tasks, `author_pool`) only where the config names it in that role.
From that pool every variant that is a candidate or sits in the match is removed — a referee never
judges a match it plays in — unless `allow_self=True` or the family option `allow_self_judging = true`;
then it judges, and its self-preference is measured from the stored verdicts (referees/bias.py).

How: up to `listwise_from - 1` candidates every pair is judged pairwise in both seat orders
(disagreement = tie); from `listwise_from` candidates on each referee ranks the whole list twice,
shown forward and reversed. An unreadable verdict is re-asked once, then counted as missing (that pair
stays undecided for that referee: never a loss, never a zero). A verdict whose call failed is not
missing: the CallFailed propagates and fails the match, which a re-run replays. The panel's result
per pair is the net vote of the referees that decided it (wins minus losses, a tie votes 0); the
ranking is Copeland on those results (ties allowed). A ranked set in which no pair was decided at all is returned with rated=False.
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from arena.engine.gateway import CallFailed
from arena.engine.match import failed_as, gather_calls
from arena.records import REFEREE, Entry, FormatFailure, Messages, RankedSet, RefereeJudgment, Verdict, to_jsonable
from arena.schema import Schema, setting
from referees import aggregate, methods, prompts
from referees.verdicts import PAIR_CHOICES, TIE, A, B, parse_pairwise, parse_ranking

if TYPE_CHECKING:
    from arena.engine.match import MatchContext

DEFAULT_PANEL_SIZE = 3
LISTWISE_FROM = 5  # pairwise needs n*(n-1) calls per referee; above 4 candidates rank the list instead
VERDICT_TOKENS = 24


@dataclass
class Candidate:
    variant: str  # who produced it
    text: str  # the performance being judged
    seat: int | None = None


@dataclass
class PanelResult:
    ranked: RankedSet
    judgments: list[RefereeJudgment]
    missing: int  # verdicts that could not be parsed after one re-ask
    judges: list[str] = field(default_factory=list)
    note: str = ""  # why nobody judged, when nobody did
    call_role: str = REFEREE  # META_REFEREE when the judges were meta-referees

    def failures(self) -> list[FormatFailure]:
        """Missing verdicts as format failures of the referees (not skill losses)."""
        return [FormatFailure(j.referee, None, self.call_role, "missing-verdict",
                              f"{j.missing} unreadable verdict(s) on {self.ranked.criterion}")
                for j in self.judgments if j.missing]

    def to_details(self) -> dict[str, Any]:
        """What a family stores in MatchResult.details["panels"] (read by referees/bias.py)."""
        return {"role": self.ranked.role, "criterion": self.ranked.criterion, "judged_by": self.call_role,
                "candidates": [e.variant for e in self.ranked.entries],
                "ranks": [e.rank for e in self.ranked.entries], "missing": self.missing, "note": self.note,
                "judgments": [to_jsonable(j) for j in self.judgments]}


def add_to_details(details: dict[str, Any], *panels: PanelResult | None) -> None:
    details.setdefault("panels", []).extend(p.to_details() for p in panels if p is not None)


class PanelOptions(Schema):
    """Family options that say who judges; a family's options schema that uses panels extends it
    (see docs/referees.md)."""
    panel_size: int = setting(DEFAULT_PANEL_SIZE, ge=1)  # referees drawn when none are configured
    allow_self_judging: bool = False
    # How referees reach verdicts: auto | text | probability | likelihood (referees/methods.py)
    method: Literal["auto", "text", "probability", "likelihood"] = "auto"
    # Per referee variant, overriding `method` for it: two referees of one model that decide by
    # different methods disagree, so the referee ratings compare the methods match by match.
    referee_methods: dict[str, Literal["auto", "text", "probability", "likelihood"]] = {}


# -- who judges ---------------------------------------------------------------------------------------
def tournament_players(ctx: "MatchContext") -> tuple[str, ...]:
    names = getattr(ctx, "players", None) or ctx.seats
    return tuple(n for n in names if n in ctx.gateway.variants)


def scripted(ctx: "MatchContext", name: str) -> bool:
    """A mock/ variant (random, first, script, ...): drawn into a role only when named in it."""
    variant = ctx.gateway.variants.get(name)
    return variant is not None and variant.provider == "mock"


def self_judging_allowed(ctx: "MatchContext", allow_self: bool = False) -> bool:
    return bool(allow_self or ctx.options.get("allow_self_judging", False))


def judge_pool(ctx: "MatchContext", candidates: Sequence[str], judges: Sequence[str] | None, *,
               allow_self: bool = False, salt: str = "", default: Sequence[str] = ()) -> list[str]:
    """The referees that may judge these candidates in this match (see module docstring)."""
    if judges is not None:
        pool, capped = list(judges), False
    elif default:
        pool, capped = list(default), False
    else:
        pool, capped = [p for p in tournament_players(ctx) if not scripted(ctx, p)], True
    pool = list(dict.fromkeys(p for p in pool if p in ctx.gateway.variants))
    if not self_judging_allowed(ctx, allow_self):
        busy = set(candidates) | set(ctx.seats)
        pool = [p for p in pool if p not in busy]
    size = ctx.options.get("panel_size")
    if isinstance(size, int) and not isinstance(size, bool) and size >= 1:
        capped = True
    else:
        size = DEFAULT_PANEL_SIZE
    if capped and len(pool) > size:
        pool = sorted(random.Random(f"{ctx.match.seed}:{salt}").sample(pool, size), key=pool.index)
    return pool


def author_pool(ctx: "MatchContext", k: int) -> list[str]:
    """k authors for this match: the tournament's authors if configured; else k distinct players not
    seated in this match when there are that many; else the seats take turns (each writes one task, so
    the advantage of having written it is shared, and authors still get a ranking to be rated on).
    Scripted players are drawn only when configured, or when every seat is one (nobody else can write)."""
    known = ctx.gateway.variants
    configured = [p for p in dict.fromkeys(ctx.authors) if p in known]
    others = [p for p in dict.fromkeys(getattr(ctx, "players", ()))
              if p in known and p not in ctx.seats and not scripted(ctx, p)]
    if not configured and len(others) < k:
        # seat s writes task s, the same in every match; the model seats only, if there are any
        order = [s for s in ctx.seats if not scripted(ctx, s)] or list(ctx.seats)
    else:
        pool = configured or others
        order = random.Random(f"{ctx.match.seed}:authors").sample(pool, len(pool))
    return [order[i % len(order)] for i in range(k)]


def seat_authors(ctx: "MatchContext") -> list[str]:
    """The authors of a family in which each seat writes a task: the configured authors, else the
    seats that are models (every seat only when all are scripted: nobody else can write)."""
    if ctx.authors:
        return list(dict.fromkeys(ctx.authors))
    return [s for s in dict.fromkeys(ctx.seats) if not scripted(ctx, s)] or list(dict.fromkeys(ctx.seats))


# -- asking ------------------------------------------------------------------------------------------
@dataclass
class Ask:
    """One verdict to get from one judge."""

    variant: str
    messages: Messages
    parse: Callable[[str], Any]
    reask: str
    choices: tuple[str, ...] | None
    max_tokens: int


@dataclass
class Asked:
    text: str
    value: Any  # None = missing
    reasked: bool = False


async def ask_all(ctx: "MatchContext", call_role: str, asks: list[Ask]) -> list[Asked]:
    """Every verdict, each re-asked once when unreadable. A failed call raises (CallFailed).

    All first tries go out together, then all re-asks together, so the order of calls (and with it
    the per-call seeds and scripted replies) never depends on which answer happened to come back first.
    """
    async def call(a: Ask, messages: Messages) -> str:
        try:
            done = await ctx.ask(a.variant, call_role, messages, choices=a.choices, max_tokens=a.max_tokens)
        except CallFailed as exc:  # not a missing verdict: the match fails and a re-run replays it
            raise failed_as(exc, a.variant, call_role)
        return done.text

    async def first(a: Ask) -> Asked:
        text = await call(a, a.messages)
        return Asked(text, a.parse(text))

    async def again(a: Ask, before: Asked) -> Asked:
        text = await call(a, [*a.messages, {"role": "assistant", "content": before.text},
                              {"role": "user", "content": a.reask}])
        return Asked(text, a.parse(text), True)

    answers = list(await gather_calls(first(a) for a in asks))
    redo = [k for k, got in enumerate(answers) if got.value is None]
    for k, got in zip(redo, await gather_calls(again(asks[k], answers[k]) for k in redo)):
        answers[k] = got
    return answers


def _labels(n: int) -> list[str]:
    return [chr(ord("A") + k) for k in range(n)]


class _Pairwise:
    """Every pair in both seat orders."""

    def __init__(self, cands, task, rubric, reference, tokens, limit):
        self.cands = cands
        self.pairs = list(itertools.combinations(range(len(cands)), 2))
        self.shown = [(x, y) for i, j in self.pairs for x, y in ((i, j), (j, i))]
        self.messages = [prompts.pairwise_messages(task=task, rubric=rubric, first=cands[x].text,
                                                   second=cands[y].text, reference=reference, limit=limit)
                         for x, y in self.shown]
        self.tokens = tokens

    def asks(self, ref: str) -> list[Ask]:
        return [Ask(ref, m, parse_pairwise, prompts.PAIR_REASK, PAIR_CHOICES, self.tokens) for m in self.messages]

    def assemble(self, ref: str, answers: list[Asked]):
        c = self.cands
        verdicts = [Verdict(ref, c[x].variant, c[y].variant, a.value, len(c[x].text), len(c[y].text), "pairwise",
                            a.reasked) for (x, y), a in zip(self.shown, answers)]
        results = {p: aggregate.both_orders(answers[2 * k].value, answers[2 * k + 1].value)
                   for k, p in enumerate(self.pairs)}
        return results, verdicts


class _Listwise:
    """The whole list, shown forward and reversed."""

    def __init__(self, cands, task, rubric, reference, tokens, limit):
        n = len(cands)
        self.cands, self.labels = cands, _labels(n)
        self.pairs = list(itertools.combinations(range(n), 2))
        self.orders = [list(range(n)), list(reversed(range(n)))]
        self.choices = tuple(f"[[{'>'.join(p)}]]" for p in itertools.permutations(self.labels)) if n <= 5 else None
        self.messages = [prompts.listwise_messages(task=task, rubric=rubric, texts=[cands[k].text for k in order],
                                                   labels=self.labels, reference=reference, limit=limit)
                         for order in self.orders]
        self.tokens = max(tokens, 4 * n + 8)

    def asks(self, ref: str) -> list[Ask]:
        labels = self.labels
        return [Ask(ref, m, lambda t: parse_ranking(t, labels), prompts.listwise_reask(labels), self.choices,
                    self.tokens) for m in self.messages]

    def assemble(self, ref: str, answers: list[Asked]):
        c, n = self.cands, len(self.cands)
        readings, verdicts = [], []
        for order, a in zip(self.orders, answers):
            level = None
            if a.value is not None:
                groups = [[order[self.labels.index(lab)] for lab in g] for g in a.value]
                readings.append(aggregate.from_groups(groups))
                level = {cand: k for k, g in enumerate(groups) for cand in g}
            else:
                readings.append(None)
            for p, q in itertools.combinations(range(n), 2):  # p shown before q
                x, y = order[p], order[q]
                win = None if level is None else A if level[x] < level[y] else B if level[x] > level[y] else TIE
                verdicts.append(Verdict(ref, c[x].variant, c[y].variant, win, len(c[x].text), len(c[y].text),
                                        "listwise", a.reasked))
        return aggregate.merge_orders(readings[0], readings[1], self.pairs), verdicts


def _text_pairs(plan: Any, answers: list[Asked]) -> list[dict[str, Any]]:
    """What each seat order alone said, per pair (for strict, JudgeBench-style accuracy)."""
    if not isinstance(plan, _Pairwise):  # a listwise reading is two whole rankings: no per-pair orders
        return []
    out = []
    for k, (i, j) in enumerate(plan.pairs):
        f, b = answers[2 * k].value, answers[2 * k + 1].value
        out.append({"i": i, "j": j, "orders": aggregate.order_readings(f, b), "p": None})
    return out


async def rank_by_panel(ctx: "MatchContext", *, call_role: str, judges: list[str], cands: list[Candidate],
                        task: str, rubric: str, reference: str | None, tokens: int, limit: int,
                        listwise_from: int, method: str | None = None, prompt: Messages | None = None
                        ) -> tuple[list[RefereeJudgment], dict, int]:
    """Every judge ranks the candidates; returns judgments (agreement filled), consensus, missing.
    Each judge reaches its verdicts by its method (referees/methods.py): text judges' asks go out
    together, then the probability judges', then the likelihood judges score one after another."""
    how = {ref: methods.method_for(ctx, ref, method, len(cands)) for ref in judges}
    pairwise = _Pairwise(cands, task, rubric, reference, tokens, limit)
    plan = pairwise if len(cands) < listwise_from else _Listwise(cands, task, rubric, reference, tokens, limit)
    texts = [ref for ref in judges if how[ref] == "text"]
    per_judge = [plan.asks(ref) for ref in texts]
    flat = await ask_all(ctx, call_role, [a for asks in per_judge for a in asks])
    reached: dict[str, methods.Reached] = {}
    pos = 0
    for ref, asks in zip(texts, per_judge):
        answers = flat[pos:pos + len(asks)]
        pos += len(asks)
        results, verdicts = plan.assemble(ref, answers)
        reached[ref] = methods.Reached(results, verdicts, sum(a.value is None for a in answers), answers[0].text,
                                       _text_pairs(plan, answers))
    probs = [ref for ref in judges if how[ref] == "probability"]
    for ref, got in zip(probs, await gather_calls(methods.by_probability(ctx, call_role, ref, pairwise)
                                                  for ref in probs)):
        reached[ref] = got
    for ref in (r for r in judges if how[r] == "likelihood"):
        reached[ref] = await methods.by_likelihood(ctx, ref, pairwise, prompt or [{"role": "user", "content": task}])
    panel = aggregate.consensus((reached[ref].results for ref in judges), plan.pairs)
    judgments = []
    for ref in judges:
        r = reached[ref]
        ranks, scores = aggregate.copeland(len(cands), r.results)
        judgments.append(RefereeJudgment(
            referee=ref, ranks=ranks, scores=scores, results=[[i, j, r.results[(i, j)]] for i, j in plan.pairs],
            verdicts=r.verdicts, missing=r.missing,
            agreement=aggregate.agreement(r.results, panel) if len(judges) > 1 else None,
            prompt=(plan if how[ref] == "text" else pairwise).messages[0], text=r.text, method=how[ref],
            pairs=r.pairs))
    return judgments, panel, sum(r.missing for r in reached.values())


def _how(judgments: list[RefereeJudgment]) -> str:
    """"" when every referee wrote text verdicts (as stores before methods existed), else
    " by method,method" in judge order, so a ranked set says how it was reached."""
    used = [j.method for j in judgments]
    return "" if all(m == "text" for m in used) else " by " + ",".join(used)


async def judge(ctx: "MatchContext", *, role: str, task: str, candidates: list[Candidate], rubric: str,
                criterion: str = "quality", reference: str | None = None, judges: Sequence[str] | None = None,
                allow_self: bool = False, prompt: Messages | None = None, verdict_tokens: int = VERDICT_TOKENS,
                text_limit: int = 1200, listwise_from: int = LISTWISE_FROM, rated: bool = True,
                exportable: bool = True, method: str | None = None) -> PanelResult:
    """Rank `candidates` (performances of `role` answering `task`) by a referee panel.
    exportable=False: the candidates are not replies to `prompt` (e.g. whole games), never pairs.
    method: how the referees reach verdicts (referees/methods.py); None: the family option `method`."""
    cands = list(candidates)
    ranked_prompt = prompt if prompt is not None else [{"role": "user", "content": task}]
    pool = judge_pool(ctx, [c.variant for c in cands], judges, allow_self=allow_self, salt=criterion,
                      default=ctx.referees)
    note = ""
    if len(cands) < 2:
        note = "fewer than 2 candidates"
    elif not pool:
        note = ("no eligible referee (every candidate referee plays in this match; configure [tournament] "
                "referees or allow_self_judging = true)")
    if note:
        entries = [Entry(c.variant, c.text, 0, None, c.seat) for c in cands]
        ctx.log("panel", criterion=criterion, role=role, note=note)
        return PanelResult(RankedSet(role, ranked_prompt, entries, criterion, None, False, exportable, "nobody"),
                           [], 0, [], note)
    judgments, panel, missing = await rank_by_panel(
        ctx, call_role=REFEREE, judges=pool, cands=cands, task=task, rubric=rubric, reference=reference,
        tokens=verdict_tokens, limit=text_limit, listwise_from=listwise_from,
        method=method or ctx.options.get("method"), prompt=ranked_prompt)
    ranks, scores = aggregate.copeland(len(cands), panel)
    entries = [Entry(c.variant, c.text, r, s, c.seat) for c, r, s in zip(cands, ranks, scores)]
    agreements = [j.agreement for j in judgments if j.agreement is not None]
    decided = any(r is not None for r in panel.values())
    ranked = RankedSet(role, ranked_prompt, entries, criterion,
                       round(sum(agreements) / len(agreements), 4) if agreements else None, rated and decided,
                       exportable, "referees:" + ",".join(pool) + _how(judgments))
    ctx.log("panel", criterion=criterion, role=role, judges=pool, ranks=ranks, missing=missing,
            agreement=ranked.agreement)
    return PanelResult(ranked, judgments, missing, pool, "" if decided else "no pair decided")
