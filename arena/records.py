"""Every record the arena stores or exports, in one place.

Messages are plain OpenAI-style dicts ({"role": ..., "content": ...}) because that is
what the providers take and what TRL's conversational DPO format expects.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

Messages = list[dict[str, str]]

# Roles a variant can take in a match.
AUTHOR, PLAYER, REFEREE, META_REFEREE = "author", "player", "referee", "meta-referee"
ROLES = (AUTHOR, PLAYER, REFEREE, META_REFEREE)

# Aggregate key for "all families" in ratings.
ALL_FAMILIES = "*"


@dataclass(frozen=True)
class SamplingParams:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int = 256
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, ())}

    def replace(self, **changes: Any) -> "SamplingParams":
        # Once per model call: a positional constructor costs a third of dataclasses.replace.
        return SamplingParams(changes.get("temperature", self.temperature), changes.get("top_p", self.top_p),
                              changes.get("max_tokens", self.max_tokens), changes.get("seed", self.seed),
                              changes.get("stop", self.stop))


@dataclass(frozen=True)
class Variant:
    """One model configuration; the unit that gets a rating."""

    name: str
    model: str  # e.g. "local/smollm2-135m", "openai/gpt-4o-mini", "mock/random"
    params: SamplingParams = SamplingParams()
    system: str | None = None
    adapter: str | None = None  # checkpoint / LoRA adapter, backend-specific
    # Backend options that do not change who the variant is: base_url(s), api key
    # variable name, timeouts, price overrides. Never holds a secret value.
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0]

    def describe(self) -> dict[str, Any]:
        """What identifies the variant (safe to store: no secrets)."""
        return {
            "name": self.name,
            "model": self.model,
            "params": self.params.to_dict(),
            "system": self.system,
            "adapter": self.adapter,
        }


@dataclass(frozen=True)
class Constraint:
    """A format the answer must have, carried by the call and enforced by the backend's own
    mechanism: a llama.cpp grammar for local/, structured outputs (response_format with a JSON
    schema) for openai/ and OpenAI-compatible servers, a tool schema for anthropic/. A backend that
    cannot enforce it sends the call unconstrained (Completion.constrained stays False)."""

    choices: tuple[str, ...] = ()  # the answer is exactly one of these texts
    schema: str | None = None  # the answer is one JSON value valid under this JSON schema (JSON text)

    def __post_init__(self) -> None:
        if bool(self.choices) == (self.schema is not None):
            raise ValueError("a constraint is either choices or a JSON schema")

    @classmethod
    def json_schema(cls, schema: dict[str, Any]) -> "Constraint":
        import json
        return cls(schema=json.dumps(schema, sort_keys=True, separators=(",", ":")))

    def key(self) -> str:
        """Stable text for cache keys and call places."""
        return "choices:" + "\x1f".join(self.choices) if self.choices else "schema:" + (self.schema or "")


@dataclass
class Completion:
    """One model answer, with what it cost."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    finish_reason: str | None = None
    cached: bool = False
    retries: int = 0
    cost_usd: float = 0.0
    constrained: bool = False  # the backend enforced the call's Constraint
    # Per generated token, the most likely alternatives and their log-probabilities, when the call
    # asked for them (Request.logprobs) and the backend exposes them; None otherwise.
    top_logprobs: list[dict[str, float]] | None = None
    # Streamed answers only: seconds from the request to the first text, and tokens/s after it.
    first_token_s: float | None = None
    tokens_per_s: float | None = None


@dataclass
class CallRecord:
    """A model call as stored: who asked, in which role, and what came back."""

    match_id: str
    variant: str
    role: str
    messages: Messages
    response: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    cached: bool = False
    retries: int = 0
    cost_usd: float = 0.0
    error: str | None = None
    constrained: bool = False  # the backend enforced a format constraint on this call
    finish_reason: str | None = None  # "length": the answer was cut at max_tokens
    first_token_s: float | None = None  # streamed calls: time to the first text (Completion's)
    tokens_per_s: float | None = None  # streamed calls: generation rate after the first token


@dataclass
class Entry:
    """One performance inside a ranked set. rank 0 is best; equal ranks are ties."""

    variant: str
    text: str
    rank: int
    score: float | None = None
    seat: int | None = None
    # True only where a rule or an execution checked it right (a legal move, an exact real output)
    verified: bool = False
    # The conversation this text answered when it is not the set's prompt (e.g. a re-prompt after
    # an illegal move); None: the set's prompt.
    prompt: Messages | None = None


@dataclass
class RankedSet:
    """Performances answering the same prompt, ranked.

    The unit of both rating updates and preference pairs: for every role and
    family, whatever got ranked becomes one of these.
    """

    role: str
    prompt: Messages
    entries: list[Entry]
    criterion: str = "outcome"  # what was ranked: outcome, quality, ethics, ranking, ...
    agreement: float | None = None  # referee agreement, when referees ranked it
    rated: bool = True  # False: kept for export only, does not move ratings
    exportable: bool = True  # False: entries are not texts answering the prompt (e.g. a chess game)
    # Who ranked it: "rule", "execution", "referees:a,b", "meta-referees:m", joined by "+" when
    # several did (e.g. "execution+referees:a"); "" in stores written before it was recorded.
    ranked_by: str = ""


@dataclass
class FormatFailure:
    """An illegal move or unparseable answer: recorded apart from skill losses."""

    variant: str
    seat: int | None
    role: str
    kind: str  # e.g. "illegal-move", "unparseable", "forfeit"
    detail: str


@dataclass
class MatchResult:
    """What a family returns for one match."""

    ranked_sets: list[RankedSet]
    summary: str = ""
    status: str = "finished"  # finished | failed
    failures: list[FormatFailure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # family-specific, e.g. PGN

    @property
    def outcome(self) -> RankedSet | None:
        """The players' ranking: the match outcome."""
        for rs in self.ranked_sets:
            if rs.role == PLAYER and rs.criterion == "outcome":
                return rs
        return None


@dataclass(frozen=True, slots=True)  # slots: a 100k-match schedule is held in memory
class ScheduledMatch:
    """One cell of the schedule, before it is played."""

    match_id: str
    tournament_id: str
    family: str
    seats: tuple[str, ...]  # variant names in seat order
    round: int
    repetition: int
    seq: int  # position in the schedule; ratings are replayed in this order
    seed: int


@dataclass
class Rating:
    variant: str
    role: str
    family: str
    mu: float
    sigma: float
    matches: int = 0
    wins: int = 0
    losses: int = 0
    draws: int = 0

    @property
    def conservative(self) -> float:
        return self.mu - 3 * self.sigma

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["conservative"] = round(self.conservative, 4)
        return d


def to_jsonable(obj: Any) -> Any:
    """Dataclasses to plain JSON-ready structures."""
    if obj is None or isinstance(obj, (str, int, float)):  # most leaves: skip the dataclass probe
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    return obj


def ranked_set_from_dict(d: dict[str, Any]) -> RankedSet:
    return RankedSet(
        role=d["role"],
        prompt=d["prompt"],
        entries=[Entry(**e) for e in d["entries"]],  # fields added later have defaults: old stores load
        criterion=d.get("criterion", "outcome"),
        agreement=d.get("agreement"),
        rated=d.get("rated", True),
        exportable=d.get("exportable", True),
        ranked_by=d.get("ranked_by", ""),
    )


@dataclass
class Verdict:
    """One referee verdict on two performances as shown (first = seat A), kept for bias statistics.

    Listwise rankings are stored flattened into one Verdict per pair in presentation order.
    """

    referee: str
    first: str  # variant shown first (as A)
    second: str  # variant shown second (as B)
    winner: str | None  # "A", "B", "TIE"; None = missing after one re-ask
    first_len: int = 0
    second_len: int = 0
    kind: str = "pairwise"  # pairwise | listwise
    reasked: bool = False
    # How it was reached: "text" (a parsed reply), "probability" (P("A") over P("B") read from the
    # verdict token's log-probabilities; `probability` is that share), "likelihood" (each answer's
    # mean token log-likelihood; `probability` is the logistic of their difference)
    method: str = "text"
    probability: float | None = None  # P(first better) in this order, for probability/likelihood


@dataclass
class RefereeJudgment:
    """One referee's ranking of a panel's candidates, with the verdicts behind it."""

    referee: str
    ranks: list[int]  # per candidate, in candidate order; 0 best, ties equal
    scores: list[float | None]  # win share per candidate (ties count half)
    results: list[list[int | None]]  # [i, j, +1 | -1 | 0 | None] per candidate pair
    verdicts: list[Verdict] = field(default_factory=list)
    missing: int = 0  # verdicts unreadable after one re-ask (a failed call fails the match)
    agreement: float | None = None  # with the panel consensus
    prompt: Messages = field(default_factory=list)  # the canonical judging prompt (first pair, first order)
    text: str = ""  # this referee's reply to `prompt`; becomes a judging preference pair
    method: str = "text"  # text | probability | likelihood (see Verdict.method)
    # Per pair: {"i", "j", "orders": [forward, backward] (each +1 i better, -1 j better, 0, None:
    # what each seat order alone said), "p": P(i better) averaged over both orders, or None}
    pairs: list[dict[str, Any]] = field(default_factory=list)
