"""Authored tasks: authors propose, the sandbox checks, a panel ranks, the best is played.

The pipeline shared by the execution-judged families (programming's challenges and validators,
predict-output's programs):

1. `propose`: every author is asked for the same thing; `check` parses the answer and runs it
   in the sandbox, raising FormatError with a reason for the one re-ask (tournaments.kit.reask).
2. `rank_proposals`: when two or more proposals are usable a referee panel ranks them (role
   author), the family keeps the panel (referees.meta.keep_panel), and the authors are ranked:
   usable work by the panel, unusable work below it. (An author whose call failed fails the
   match: tournaments.kit.reask raises, and the match is replayed by a re-run.)
3. `Authored.best` / `Authored.order`: what gets played.

What the family records in its details, and what it plays when nothing is usable, stay its own.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arena.engine.match import gather_calls
from arena.records import AUTHOR, Constraint, Entry, FormatFailure, Messages, RankedSet
from referees.aggregate import dense_ranks
from referees.meta import keep_panel
from referees.panel import Candidate, PanelResult, judge
from tournaments.kit.ranking import decided, panel_ranks
from tournaments.kit.reask import Attempted, ask_checked

if TYPE_CHECKING:
    import random

    from arena.engine.match import MatchContext

# check(answer text, author) -> the usable value; raises FormatError with the reason
AuthorCheck = Callable[[str, str], Any | Awaitable[Any]]


async def propose(ctx: MatchContext, authors: list[str], prompt: Messages, check: AuthorCheck, *,
                  max_tokens: int, retries: int, what: str, failures: list[FormatFailure],
                  constraint: Constraint | None = None, details: dict[str, Any] | None = None) -> list[Attempted]:
    """Every author's attempt at the same prompt, asked together (CallFailed if any call failed).
    `constraint`: the format every call is asked under (e.g. the JSON schema `check` reads); with
    `details`, how many calls the backends held to it goes to details["constrained"][what]."""
    attempts = await gather_calls(
        ask_checked(ctx, a, AUTHOR, prompt, lambda t, a=a: check(t, a), max_tokens=max_tokens, retries=retries,
                    what=what, failures=failures, constraint=constraint)
        for a in authors)
    if constraint is not None and details is not None:
        for a in attempts:
            a.count_constrained(details, what)
    return attempts


@dataclass
class Authored:
    """The authors' attempts and the panel that ranked the usable ones (None below two)."""

    attempts: list[Attempted]
    panel: PanelResult | None = None

    @property
    def valid(self) -> list[Attempted]:
        return [a for a in self.attempts if a.ok]

    def ranks(self) -> list[int]:
        """The panel's ranks of the usable attempts (all tied without a decided panel)."""
        return panel_ranks(self.panel, len(self.valid))

    def order(self) -> list[int]:
        """Indices into `valid`, best first (ties in the authors' order)."""
        ranks = self.ranks()
        return sorted(range(len(ranks)), key=lambda k: (ranks[k], k))

    def best(self, rng: random.Random) -> Attempted:
        """The best-ranked usable attempt; a tie is drawn from the match's random generator."""
        valid, ranks = self.valid, self.ranks()
        best = [a for a, r in zip(valid, ranks) if r == min(ranks)]
        return best[0] if len(best) == 1 else rng.choice(best)


async def rank_proposals(ctx: MatchContext, attempts: list[Attempted], *, prompt: Messages, task: str,
                         rubric: str, criterion: str, render: Callable[[Any], str], meta_task: str, meta: bool,
                         failures: list[FormatFailure], details: dict[str, Any], sets: list[RankedSet],
                         scored: bool = False) -> Authored:
    """Rank the usable attempts by a panel (two or more), keep the panel, and add the authors'
    ranking to `sets` when it orders anyone. `render` shows a usable value to the referees;
    `scored` puts the panel's scores on the authors' entries (0.0 for unusable work)."""
    out = Authored(attempts)
    valid = out.valid
    if len(valid) >= 2:
        out.panel = await judge(ctx, role=AUTHOR, task=task, candidates=[Candidate(a.variant, render(a.value))
                                                                          for a in valid],
                                rubric=rubric, criterion=criterion, prompt=prompt)
        await keep_panel(ctx, out.panel, meta_task, rubric, meta, failures, details, sets)
    author_set = _author_set(prompt, out, criterion, scored)
    if author_set is not None:
        sets.append(author_set)
    return out


def _author_set(prompt: Messages, authored: Authored, criterion: str, scored: bool) -> RankedSet | None:
    """Usable work ranked by the panel, unusable work below it."""
    panel, valid = authored.panel, authored.valid
    pr = authored.ranks()
    panel_scores = [e.score for e in panel.ranked.entries] if decided(panel) else [None] * len(valid)
    keys, scores = [], []
    for a in authored.attempts:
        if a.ok:
            k = valid.index(a)
            keys.append((0, pr[k]))
            scores.append(panel_scores[k])
        else:
            keys.append((1, 0))
            scores.append(0.0)
    ranks = dense_ranks(keys, lower_is_better=True)
    if len(set(ranks)) < 2:
        return None  # everyone tied (or alone): nothing to learn, nothing to rate
    # the sandbox check splits usable from unusable work; the panel orders the usable work. When it
    # orders none of it (no panel, or all tied), every pair is usable over unusable work, which the
    # check itself verified.
    unordered = len(set(pr)) <= 1
    entries = [Entry(a.variant, a.text, r, s if scored else None, verified=unordered and a.ok)
               for a, r, s in zip(authored.attempts, ranks, scores)]
    by = "execution+" + panel.ranked.ranked_by if decided(panel) else "execution"
    return RankedSet(AUTHOR, prompt, entries, criterion, panel.ranked.agreement if panel else None, ranked_by=by)
