"""What a referee-judged family does with every ranking: judge, meta-judge, keep everything.

`Judging` collects the ranked sets, format failures and stored verdicts of one match, so a family
only says what to judge. Family options read here (all optional):
    panel_size = 3            referees drawn from the players when none are configured
    allow_self_judging = false
    meta = true               meta-referees rank the referees of every panel
    verdict_tokens = 24       max tokens of a verdict
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.records import FormatFailure, RankedSet
from arena.schema import setting
from referees.meta import meta_panel
from referees.panel import PanelOptions, PanelResult, add_to_details, judge

if TYPE_CHECKING:
    from arena.engine.match import MatchContext


class JudgedOptions(PanelOptions):
    """The family options above; a referee-judged family's options schema extends it."""
    meta: bool = True
    verdict_tokens: int = setting(24, ge=1)


@dataclass
class JudgingOptions:
    meta: bool = True
    verdict_tokens: int = 24

    @classmethod
    def read(cls, options: JudgedOptions) -> "JudgingOptions":
        return cls(meta=options.meta, verdict_tokens=options.verdict_tokens)


@dataclass
class Judging:
    ctx: "MatchContext"
    opts: JudgingOptions = field(default_factory=JudgingOptions)
    ranked_sets: list[RankedSet] = field(default_factory=list)
    failures: list[FormatFailure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    async def judge(self, *, keep: bool = True, **kwargs: Any) -> PanelResult:
        """judge(**kwargs), then meta-judge it; keep=False leaves the panel's own ranked set out."""
        kwargs.setdefault("verdict_tokens", self.opts.verdict_tokens)
        panel = await judge(self.ctx, **kwargs)
        self.failures += panel.failures()
        add_to_details(self.details, panel)
        if keep:
            self.ranked_sets.append(panel.ranked)
        if self.opts.meta and len(panel.judgments) >= 2:
            meta = await meta_panel(self.ctx, panel, task=kwargs["task"], rubric=kwargs["rubric"],
                                    verdict_tokens=self.opts.verdict_tokens)
            if meta is not None:
                self.ranked_sets.append(meta.ranked)
                self.failures += meta.failures()
                add_to_details(self.details, meta)
        return panel
