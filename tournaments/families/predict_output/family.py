"""Predict the output: a dense, verified curriculum. Authors write a question and a short Python
program, the admission gate runs it for the real output, players predict it k times, and every
prediction is scored against the truth.

One match (every program runs only in the sandbox, referees/sandbox/):

1. Each author (ctx.authors, else the model seats) writes {"question", "program"}; with
   `constrained` (default) the call carries that JSON schema, so the backend's grammar makes the
   answer parse. The admission gate (predict_output/gate.py: length window, standard library
   only, banned modules and calls, deterministic over two sandboxed runs, under 2 s, a short
   output with no floats) admits it or gives the reason for the one re-ask, then the FormatFailure.
2. Referees rank two or more admitted question/program pairs (RankedSet role=author,
   criterion="question"), when eligible referees exist.
3. Every admitted program is played (`play_all`, default; else only the referees' best, the rest
   unplayed and worth 0): each seat predicts it `samples` times (family option, else [tournament]
   samples), each call with its own derived seed. No admitted program: a generated one
   (predict_output/generator.py, tier `tier` or "auto" around `tier_center`), details
   ["program_source"] = "generated:tier<t>:<seed>"; or a built-in one with fallback = "builtin".
   With `programs = n` a match plays at least n programs: what was admitted, topped up with
   distinct generated (or built-in) ones, so the author calls and the match's set-up buy more
   verified predictions (each program's seed and tier are derived from the match seed).
4. Per played program: the outcome (role=player, criterion="outcome", ranked by execution) holds
   all k x seats predictions, each scored against the real output (predict_output/scoring.py:
   1.0 exact, else 0.99 x closeness); ratings use each variant's mean score. Truth sets
   (criterion="truth", unrated): the real output > each distinct wrong prediction
   (predict_output/curriculum.py). details: solve_rate, self_similarity per variant, tier.
5. Authors by learnability (role=author, criterion="learnability", ranked by execution): with
   solve rate p of its program, an admitted proposal is worth 1 - p when 0 < p < 1, else 0;
   unadmitted proposals rank below.
6. Referees also rank one prediction per seat (its first sample) WITHOUT the real output; per
   pair the truth orders, a referee is right when it preferred the closer prediction:
   details["referee_accuracy"], plus a RankedSet role=referee criterion="accuracy" when 2+
   referees judged. Meta-referees rank the referees of both panels (criterion="judging").
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, Literal

from arena.engine.family import FamilyOptionError, family_options
from arena.engine.gateway import CallFailed
from arena.engine.match import failed_as, gather_calls
from arena.records import AUTHOR, PLAYER, Constraint, Entry, FormatFailure, MatchResult, RankedSet
from arena.schema import setting
from referees.aggregate import dense_ranks
from referees.meta import keep_panel
from referees.panel import Candidate, PanelOptions, judge, seat_authors
from referees.sandbox import isolation
from tournaments.families.predict_output import generator, stock
from tournaments.families.predict_output.curriculum import (
    Prediction,
    Proposal,
    learnability,
    learnability_set,
    self_similarity,
    solve_rate,
    truth_sets,
)
from tournaments.families.predict_output.gate import MAX_OUTPUT_CHARS, Program, admit, run_twice
from tournaments.families.predict_output.programs import BUILTIN_PROGRAMS
from tournaments.families.predict_output.scoring import normalise, similarity
from tournaments.kit.authored import rank_proposals
from tournaments.kit.extract import FormatError, clean_str, code_blocks, last_json_object, pick
from tournaments.kit.ranking import accuracy_set, verdict_truth_set
from tournaments.kit.reask import Attempted, ask_checked

NAME = "predict-output"
MAX_PROGRAM_CHARS = 4000
MAX_PROGRAM_LINES = 80
# Lengths in the schema, so a grammar-constrained small model cannot stop at a one-word "program"
# (measured on the embedded model without them: most programs were 7 to 22 characters, below the
# gate's floor). No upper bound: the author's max_tokens bounds it, and llama.cpp's grammar for a
# bounded string grows with the bound.
PROGRAM_SCHEMA = {"type": "object", "properties": {"question": {"type": "string", "minLength": 10},
                                                   "program": {"type": "string", "minLength": 40}},
                  "required": ["question", "program"], "additionalProperties": False}

AUTHOR_PROMPT = (
    "Write a question and a short Python program (30 to 600 characters, no imports beyond the standard "
    "library, reads no input, uses no randomness, time or files) whose printed output answers the question. "
    "It should print a short answer (at most 8 lines, whole numbers, strings or lists, no floats) and test real "
    "understanding of Python (control flow, data structures, scoping, evaluation order), not arithmetic "
    "stamina.\n"
    'Reply with one JSON object only: {"question": "...", "program": "print(...)\\n..."}')


def author_prompt(example: tuple[str, str] | None) -> str:
    """The authors' task; with an example program (a 135M model measured on the bare prompt wrote no
    runnable program in 16 tries: it copied the placeholder or wrote prose), the task is a new one like it."""
    if example is None:
        return AUTHOR_PROMPT
    question, code = example
    return (f"{AUTHOR_PROMPT}\n\nAn example (do not copy it: write a new program like it, with other numbers, "
            f"strings or operations):\n{{\"question\": {_json(question)}, \"program\": {_json(code)}}}")


def _json(text: str) -> str:
    import json
    return json.dumps(text, ensure_ascii=False)


def _squash(code: str) -> str:
    return re.sub(r"\s+", "", code)


RUBRIC_QUESTION = ("The better question/program pair is non-trivial, deterministic, has one clear printed answer, "
                   "and tests understanding of the language rather than arithmetic stamina or memorised trivia.")
RUBRIC_PREDICTION = ("The better prediction is exactly what the program prints; if neither is exact, the closer one "
                     "is better. Work out the real output yourself; length and confidence do not matter.")


# -- parsing and checking author output ----------------------------------------------------------------------
def parse_program(text: str) -> tuple[str, str]:
    """(question, program) from an author's answer: JSON first, else a question line and a python block."""
    if not isinstance(text, str) or not text.strip():
        raise FormatError('the answer was empty; reply with {"question": "...", "program": "..."}')
    question = program = None
    try:
        obj = last_json_object(text)
    except FormatError:
        obj = None
    if obj is not None:
        program = pick(obj, "program", "code", "python", "source")
        question = pick(obj, "question", "q", "prompt")
    if not isinstance(program, str) or not program.strip():
        blocks = [code for lang, code in code_blocks(text) if lang in ("", "python", "py", "python3")]
        if not blocks:
            raise FormatError('no program found; reply with {"question": "...", "program": "..."}')
        program = blocks[-1]
        if not isinstance(question, str) or not question.strip():
            outside = re.sub(r"```.*?(?:```|\Z)", "\n", text, flags=re.S)
            lines = [ln.strip(" #*-") for ln in outside.splitlines() if ln.strip(" #*-")]
            asked = [ln for ln in lines if ln.endswith("?")]
            question = (asked or lines or [None])[0]
            if isinstance(question, str):
                question = re.sub(r"^(?:question)\s*:\s*", "", question, flags=re.I)
    question = clean_str(question, "question", limit=400)
    program = clean_str(program, "program", limit=MAX_PROGRAM_CHARS)
    if program.count("\n") + 1 > MAX_PROGRAM_LINES:
        raise FormatError(f"the program is too long (more than {MAX_PROGRAM_LINES} lines)")
    if "print" not in program:
        raise FormatError("the program prints nothing (it must print its answer)")
    return question, program + "\n"


async def check_program(question: str, code: str, *, timeout_s: float, memory_mb: int, max_output: int,
                        author: str | None) -> Program:
    """Run twice in the sandbox; keep it only if both runs end OK with the same non-empty output
    (the built-in programs' check; authored programs go through the gate, gate.admit)."""
    return await run_twice(question, code, timeout_s=timeout_s, memory_mb=memory_mb, max_output=max_output,
                           author=author)


# -- reading predictions (scored in tournaments/families/predict_output/scoring.py) ---------------------
def extract_prediction(text: str) -> str:
    """The predicted output: the first fenced block if any, else the answer without an 'Output:' label."""
    blocks = code_blocks(text or "")
    if blocks:
        return blocks[0][1]
    return re.sub(r"^\s*(?:the\s+)?(?:exact\s+)?output(?:\s+is)?\s*:\s*", "", text or "", flags=re.I).strip("\n")


def prediction_prompt(program: Program) -> str:
    return (f"{program.shown()}\n\nWhat exactly does this program print? Reply with the exact output only, inside "
            "one ``` block.")


# -- the family --------------------------------------------------------------------------------------------
@dataclass
class Played:
    """One program as played: its predictions and what they measured."""

    program: Program
    source: str
    predictions: list[Prediction]
    outcome: RankedSet


@dataclass
class PredictOutputFamily:
    seats: int = 2
    author_tokens: int = 256
    predict_tokens: int = 96
    retries: int = 1
    timeout_s: float = 2.0
    memory_mb: int = 256
    max_output_chars: int = MAX_OUTPUT_CHARS
    meta: bool = True
    samples: int | None = None  # None: ctx.samples ([tournament] samples)
    constrained: bool = True
    play_all: bool = True
    tier: int | str = "auto"
    tier_center: float = 2.0
    fallback: str = "generated"
    example: bool = True  # show the authors a generated program to vary
    programs: int = 1  # at least this many programs per match, topped up from the stock

    name: str = NAME
    open_ended: bool = False

    async def play(self, ctx) -> MatchResult:
        failures: list[FormatFailure] = []
        details: dict[str, Any] = {"sandbox": isolation().level}  # what confined the programs
        sets: list[RankedSet] = []
        k = self.samples or max(1, int(getattr(ctx, "samples", 1) or 1))
        details["samples"] = k
        example = self._example(ctx) if self.example else None
        prompt = [{"role": "user", "content": author_prompt(example)}]
        attempts = await self._propose(ctx, prompt, failures, example)
        details["authored"] = [{"author": a.variant, "ok": a.ok, "reasons": a.reasons} for a in attempts]
        to_play = await self._authored(ctx, attempts, prompt, failures, details, sets)
        if to_play:
            programs = [(a.value, f"author:{a.variant}") for a in to_play]
        else:
            programs = [await self._fallback(ctx, details, "no author wrote an admitted question and program")]
        programs += await self._top_up(ctx, programs)
        played = await gather_calls(self._play_program(ctx, program, source, k, failures, details, sets, first=i == 0)
                                    for i, (program, source) in enumerate(programs))
        first = played[0]
        details["program"] = {"question": first.program.question, "code": first.program.code,
                              "output": first.program.output, "author": first.program.author}
        details["program_source"] = first.source
        details["played"] = [{"source": p.source, "solve_rate": round(solve_rate(p.predictions), 4),
                              "self_similarity": self_similarity(p.predictions)} for p in played]
        details["solve_rate"] = round(sum(solve_rate(p.predictions) for p in played) / len(played), 4)
        details["self_similarity"] = _mean_by_variant([self_similarity(p.predictions) for p in played])
        details["predictions"] = [{"seat": q.seat, "variant": q.variant, "prediction": q.value[:2000],
                                   "score": q.score, "exact": q.exact} for q in first.predictions]
        for p in played:
            sets.append(p.outcome)
            sets.extend(truth_sets(p.outcome.prompt, p.program.output, p.predictions))
        rewards = {p.source: learnability(solve_rate(p.predictions)) for p in played}
        details["learnability"] = rewards
        proposals = [Proposal(a.variant, a.text, a.ok, rewards.get(f"author:{a.variant}", 0.0) if a.ok else None)
                     for a in attempts]
        author_set = learnability_set(prompt, proposals)
        if author_set is not None:
            sets.append(author_set)
        scores = " ".join(f"{v}={s:.2f}" for v, s in _mean_scores(first.predictions).items())
        return MatchResult(sets, summary=f"{first.source}: {scores} solved {details['solve_rate']:.2f}",
                           failures=failures, details=details)

    def _example(self, ctx) -> tuple[str, str]:
        """A generated program around the tier centre (what the players partly solve, so what the
        authors write after it can be learnable) shown to the authors, from the training side and
        apart from the one the fallback would play."""
        tier = generator.pick_tier(ctx.match.seed, "auto", self.tier_center)
        return generator.generate(generator.training_seed(ctx.match.seed * 7919 + 17), tier)

    async def _propose(self, ctx, prompt, failures, example: tuple[str, str] | None = None) -> list[Attempted]:
        constraint = Constraint.json_schema(PROGRAM_SCHEMA) if self.constrained else None

        async def check(text: str, author: str) -> Program:
            question, code = parse_program(text)
            if example is not None and _squash(code) == _squash(example[1]):
                raise FormatError("the program is the example itself; write a new one (change its numbers, "
                                  "strings or operations)")
            if generator.is_heldout(code):  # held-out tasks are never trained on, whoever wrote them
                raise FormatError("this program falls in the held-out evaluation set; write a different one")
            return await admit(question, code, author=author, memory_mb=self.memory_mb, timeout_s=self.timeout_s,
                               max_output_chars=self.max_output_chars)

        return await gather_calls(
            ask_checked(ctx, a, AUTHOR, prompt, lambda t, a=a: check(t, a), max_tokens=self.author_tokens,
                        retries=self.retries, what="question and program", failures=failures, constraint=constraint)
            for a in seat_authors(ctx))

    async def _authored(self, ctx, attempts, prompt, failures, details, sets) -> list[Attempted]:
        """The admitted attempts to play: all of them, or the referees' best (play_all = false)."""
        if not any(a.ok for a in attempts):
            return []
        authored = await rank_proposals(
            ctx, attempts, prompt=prompt, task="Questions with short Python programs whose printed output answers "
            "them, for others to predict.", rubric=RUBRIC_QUESTION, criterion="question",
            render=lambda p: p.shown() + f"\n\nOutput:\n{p.output}", meta_task="Rank question/program pairs",
            meta=self.meta, failures=failures, details=details, sets=sets)
        if self.play_all:
            return [authored.valid[i] for i in authored.order()]
        return [authored.best(ctx.rng)]

    async def _fallback(self, ctx, details, reason: str) -> tuple[Program, str]:
        details["fallback"] = reason
        if self.fallback == "builtin":
            stocked = stock.builtin(ctx.rng.choice(BUILTIN_PROGRAMS))
        else:
            stocked = stock.generated(ctx.match.seed, self.tier, self.tier_center)
            details["tier"] = stocked.tier
        ctx.log("fallback", reason=reason, program=stocked.source)
        return await stock.admit_stocked(stocked, timeout_s=self.timeout_s, memory_mb=self.memory_mb), stocked.source

    async def _top_up(self, ctx, chosen: list[tuple[Program, str]]) -> list[tuple[Program, str]]:
        """Stocked programs that bring the match to `programs`, none repeating one already chosen."""
        seen = {_squash(p.code) for p, _ in chosen}
        extra: list[tuple[Program, str]] = []
        for j in range(1, 4 * self.programs):  # a repeat is rare for generated ones; spare draws cover it
            if len(chosen) + len(extra) >= self.programs:
                break
            stocked = stock.extra(ctx.match.seed, j, self.fallback, self.tier, self.tier_center)
            if _squash(stocked.code) in seen:
                continue
            seen.add(_squash(stocked.code))
            program = await stock.admit_stocked(stocked, timeout_s=self.timeout_s, memory_mb=self.memory_mb)
            extra.append((program, stocked.source))
        return extra

    async def _play_program(self, ctx, program: Program, source: str, k: int, failures, details, sets, *,
                            first: bool) -> Played:
        prompt = [{"role": "user", "content": prediction_prompt(program)}]
        asked = [(s, v) for s, v in enumerate(ctx.seats) for _ in range(k)]
        completions = await asyncio.gather(*(ctx.ask(v, PLAYER, prompt, max_tokens=self.predict_tokens)
                                             for _, v in asked), return_exceptions=True)
        predictions = []
        for (seat, variant), c in zip(asked, completions):
            if isinstance(c, CallFailed):  # an unreachable player has not played: the match fails, re-run replays it
                raise failed_as(c, variant, PLAYER)  # a spent cost limit stays one: the run stops
            if isinstance(c, BaseException):
                raise c
            value = extract_prediction(c.text)
            if not value.strip():
                failures.append(FormatFailure(variant, seat, PLAYER, "unparseable", "empty prediction"))
            predictions.append(Prediction(variant, seat, c.text, value, similarity(value, program.output)))
        ranks = dense_ranks([round(p.score, 4) for p in predictions])
        if first:  # referees judge one program's predictions, one per seat: its first sample
            await self._referees(ctx, program, prompt, predictions[::k], ranks[::k], failures, details, sets)
        entries = [Entry(p.variant, p.text, r, p.score, p.seat, verified=p.exact)  # the exact real output
                   for p, r in zip(predictions, ranks)]
        outcome = RankedSet(PLAYER, prompt, entries, "outcome", ranked_by="execution")
        return Played(program, source, predictions, outcome)

    async def _referees(self, ctx, program, prompt, predictions, ranks, failures, details, sets) -> None:
        panel = await judge(ctx, role=PLAYER, task=f"{program.shown()}\n\nPredict what this program prints.",
                            candidates=[Candidate(p.variant, normalise(p.value) or "(empty)", p.seat)
                                        for p in predictions],
                            rubric=RUBRIC_PREDICTION, criterion="prediction", prompt=prompt, rated=False)
        truth = dense_ranks([round(p.score, 4) for p in predictions])
        acc = accuracy_set(details, panel, truth, scores=[p.score for p in predictions])
        sets += [rs for rs in (acc, verdict_truth_set(panel, truth)) if rs is not None]
        await keep_panel(ctx, panel, "Rank output predictions for: " + program.question, RUBRIC_PREDICTION,
                         self.meta, failures, details, sets)


def _mean_scores(predictions: list[Prediction]) -> dict[str, float]:
    by: dict[str, list[float]] = {}
    for p in predictions:
        by.setdefault(p.variant, []).append(p.score)
    return {v: sum(s) / len(s) for v, s in by.items()}


def _mean_by_variant(maps: list[dict[str, float]]) -> dict[str, float]:
    by: dict[str, list[float]] = {}
    for m in maps:
        for v, x in m.items():
            by.setdefault(v, []).append(x)
    return {v: round(sum(xs) / len(xs), 4) for v, xs in by.items()}


class PredictOutputOptions(PanelOptions):
    """[families.predict-output]"""
    seats: int = setting(2, ge=2)
    author_tokens: int = setting(256, ge=16)
    predict_tokens: int = setting(96, ge=4)
    retries: int = setting(1, ge=0)
    timeout_s: float = setting(2.0, ge=0.5)  # the gate's limit per run
    memory_mb: int = setting(256, ge=32)
    max_output_chars: int = setting(MAX_OUTPUT_CHARS, ge=16)
    meta_judging: bool = True
    # answers per seat to one program; unset: [tournament] samples
    samples: int | None = setting(None, ge=1, le=64, must="a whole number from 1 to 64")
    constrained: bool = True  # the author call carries the {"question", "program"} JSON schema
    play_all: bool = True  # play every admitted program (each costs samples x seats predictions)
    # programs per match at least: the admitted ones topped up with generated (or built-in) ones
    programs: int = setting(1, ge=1, le=16, must="a whole number from 1 to 16")
    tier: int | Literal["auto"] = setting("auto", must='0, 1, 2, 3, 4 or "auto"')
    tier_center: float = setting(2.0, ge=0.0, le=4.0)
    fallback: Literal["generated", "builtin"] = "generated"
    example: bool = True  # show the authors a generated program of the match's tier to vary
    tournament_players: Any = setting(None, hidden=True)  # an old internal key: still accepted, not listed


def create(options: dict[str, Any]) -> PredictOutputFamily:
    opts = family_options(PredictOutputOptions, options, NAME)
    if opts.tier != "auto" and opts.tier not in generator.TIERS:
        raise FamilyOptionError(f'[families.{NAME}]: tier must be 0, 1, 2, 3, 4 or "auto", got {opts.tier!r}')
    return PredictOutputFamily(
        seats=opts.seats,
        author_tokens=opts.author_tokens,
        predict_tokens=opts.predict_tokens,
        retries=opts.retries,
        timeout_s=opts.timeout_s,
        memory_mb=opts.memory_mb,
        max_output_chars=opts.max_output_chars,
        meta=opts.meta_judging,
        samples=opts.samples,
        constrained=opts.constrained,
        play_all=opts.play_all,
        tier=opts.tier,
        tier_center=opts.tier_center,
        fallback=opts.fallback,
        example=opts.example,
        programs=opts.programs,
    )
