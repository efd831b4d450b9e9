"""Meta-referees: which referee applied the rubric better?

For every pair of referees that judged the same candidates, each eligible meta-referee
sees the candidates (anonymous), both referees' rankings and their replies, in both
orders (disagreement = tie). The referees are ranked by Copeland on the meta panel's
majority per pair. The result is a RankedSet with role="referee", criterion="judging":
it rates referees through the engine's normal rating replay, and its entries' texts are
the referees' replies to the same judging prompt, so it is also a preference pair for
judging.

Meta pool: `meta_judges=`, else the tournament's meta_referees, else the tournament players
(capped like the referee panel). A meta-referee never judges a ranking of its own, nor a match
it plays in (unless self-judging is allowed for the family).
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from arena.records import META_REFEREE, REFEREE, Entry, RankedSet, RefereeJudgment, Verdict
from referees import aggregate, prompts
from referees.panel import Ask, PanelResult, add_to_details, ask_all, judge_pool, self_judging_allowed
from referees.verdicts import PAIR_CHOICES, parse_pairwise

if TYPE_CHECKING:
    from arena.engine.match import MatchContext


def describe_judgment(j: RefereeJudgment) -> str:
    order = sorted(range(len(j.ranks)), key=lambda k: (j.ranks[k], k))
    parts = []
    for k, c in enumerate(order):
        if k:
            parts.append(" = " if j.ranks[c] == j.ranks[order[k - 1]] else " > ")
        parts.append(f"#{c + 1}")
    reply = prompts.clip(j.text, 160) or "(no reply)"
    return f"Ranking: {''.join(parts)}\nReply: {reply}"


def _candidates_text(panel: PanelResult, limit: int = 240) -> str:
    return "\n".join(f"#{k + 1}: {prompts.clip(e.text, limit)}" for k, e in enumerate(panel.ranked.entries))


async def meta_panel(ctx: "MatchContext", panel: PanelResult, *, task: str, rubric: str,
                     meta_judges: Sequence[str] | None = None, verdict_tokens: int = 24) -> PanelResult | None:
    """Meta-referees rank the panel's referees; None when fewer than 2 referees decided anything."""
    judged = [j for j in panel.judgments if any(r[2] is not None for r in j.results)]
    if len(judged) < 2:
        return None
    cand_variants = [e.variant for e in panel.ranked.entries]
    pool = judge_pool(ctx, cand_variants, meta_judges, salt="meta:" + panel.ranked.criterion,
                      default=ctx.meta_referees)
    own_ok = self_judging_allowed(ctx)
    shown = _candidates_text(panel)
    pairs = list(itertools.combinations(range(len(judged)), 2))
    jobs = []  # (meta, i, j, first, second, messages)
    for i, j in pairs:
        eligible = [m for m in pool if own_ok or m not in (judged[i].referee, judged[j].referee)]
        for m in eligible:
            for x, y in ((i, j), (j, i)):
                msgs = prompts.meta_messages(task=task, rubric=rubric, candidates=shown,
                                             first=describe_judgment(judged[x]), second=describe_judgment(judged[y]))
                jobs.append((m, i, j, x, y, msgs))
    if not jobs:
        ctx.log("meta-panel", note="no eligible meta-referee")
        return None
    answers = await ask_all(ctx, META_REFEREE, [Ask(m, msgs, parse_pairwise, prompts.PAIR_REASK, PAIR_CHOICES,
                                                    verdict_tokens) for m, _, _, _, _, msgs in jobs])
    metas = list(dict.fromkeys(job[0] for job in jobs))
    per_meta: dict[str, dict] = {m: {} for m in metas}
    verdicts: dict[str, list[Verdict]] = {m: [] for m in metas}
    missing: dict[str, int] = {m: 0 for m in metas}
    first_reply: dict[str, tuple] = {}
    half: dict[tuple, str | None] = {}
    for (m, i, j, x, y, msgs), a in zip(jobs, answers):
        verdicts[m].append(Verdict(m, judged[x].referee, judged[y].referee, a.value, len(judged[x].text),
                                   len(judged[y].text), "meta", a.reasked))
        missing[m] += a.value is None
        first_reply.setdefault(m, (msgs, a.text))
        if x == i:
            half[(m, i, j)] = a.value
        else:
            per_meta[m][(i, j)] = aggregate.both_orders(half[(m, i, j)], a.value)
    consensus = aggregate.consensus(per_meta.values(), pairs)
    ranks, scores = aggregate.copeland(len(judged), consensus)
    meta_judgments = []
    for m in metas:
        res = {p: per_meta[m].get(p) for p in pairs}
        mr, ms = aggregate.copeland(len(judged), res)
        meta_judgments.append(RefereeJudgment(
            m, mr, ms, [[i, j, res[(i, j)]] for i, j in pairs], verdicts[m], missing[m],
            aggregate.agreement(res, consensus)
            if len(metas) > 1 else None, first_reply[m][0], first_reply[m][1]))
    agreements = [mj.agreement for mj in meta_judgments if mj.agreement is not None]
    decided = any(r is not None for r in consensus.values())
    ranked = RankedSet(REFEREE, judged[0].prompt,
                       [Entry(jd.referee, jd.text, r, s) for jd, r, s in zip(judged, ranks, scores)],
                       "judging", round(sum(agreements) / len(agreements), 4) if agreements else None, decided,
                       ranked_by="meta-referees:" + ",".join(metas))
    ctx.log("meta-panel", criterion=panel.ranked.criterion, meta_referees=metas, ranks=ranks,
            missing=sum(missing.values()))
    return PanelResult(ranked, meta_judgments, sum(missing.values()), metas, "" if decided else "no pair decided",
                       META_REFEREE)


async def meta_judge(ctx: "MatchContext", panel: PanelResult, *, task: str, rubric: str,
                     meta_judges: Sequence[str] | None = None) -> RankedSet | None:
    """The referees of `panel` ranked by meta-referees (role="referee"), or None if < 2 referees judged."""
    result = await meta_panel(ctx, panel, task=task, rubric=rubric, meta_judges=meta_judges)
    return result.ranked if result else None


async def keep_panel(ctx: "MatchContext", panel: PanelResult, task: str, rubric: str, meta: bool,
                     failures: list, details: dict, sets: list[RankedSet]) -> None:
    """What a family keeps of a panel it ran itself: the verdicts in the match details, the
    unreadable ones as format failures and, when `meta` is on and referees judged, the
    meta-referees' ranking of those referees."""
    add_to_details(details, panel)
    failures.extend(panel.failures())
    if meta and panel.judgments:
        ranked = await meta_judge(ctx, panel, task=task, rubric=rubric)
        if ranked is not None:
            sets.append(ranked)
