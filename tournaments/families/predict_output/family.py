"""Predict the output: authors write a question and a short Python program, the sandbox
runs it for the real output, players predict it, predictions are ranked against it.

One match (every program runs only in the sandbox, referees/sandbox/):

1. Each author (ctx.authors, else the model seats) writes {"question", "program"}. A program is
   kept only if it runs OK twice in the sandbox and prints the same non-empty output both
   times (so it has one real answer; string hashing differs per run, so set-order
   accidents show up). Unusable output is re-asked once with the reason, then dropped
   (FormatFailure). No usable program: a built-in one (tournaments/families/predict_output/programs.py) is used and
   details["fallback"] says why.
2. Referees rank the usable question/program pairs (non-trivial, deterministic, tests
   understanding rather than arithmetic stamina): RankedSet role=author,
   criterion="question"; dropped ones rank below. The best one is played.
3. Players (closed family: no UNLEASHED: prefix) predict the printed output.
4. Outcome (role=player, criterion="outcome"), procedural: score 1.0 for an exact match
   after whitespace normalisation (line ends, runs of blanks, blank lines at either end),
   else 0.99 x closeness compared as values (predict_output/scoring.py: numbers by numeric
   closeness, a hedge by a quarter of its worst alternative). Higher is better; equal scores
   (4 decimals) tie.
5. Referees also rank the predictions WITHOUT the real output. Per pair the truth orders, a
   referee is right when it preferred the prediction closer to the truth:
   details["referee_accuracy"], plus a RankedSet role=referee criterion="accuracy" when 2+
   referees judged. Meta-referees rank the referees of both panels (criterion="judging").
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from arena.engine.family import family_options
from arena.engine.gateway import CallFailed
from arena.engine.match import failed_as
from arena.records import PLAYER, Entry, FormatFailure, MatchResult, RankedSet
from arena.schema import setting
from referees.aggregate import dense_ranks
from referees.meta import keep_panel
from referees.panel import Candidate, PanelOptions, judge, seat_authors
from referees.sandbox import isolation, run_python
from tournaments.families.predict_output.programs import BUILTIN_PROGRAMS
from tournaments.families.predict_output.scoring import normalise, similarity
from tournaments.kit.authored import propose, rank_proposals
from tournaments.kit.extract import FormatError, clean_str, code_blocks, last_json_object, pick
from tournaments.kit.ranking import accuracy_set
from tournaments.kit.reask import Attempted

NAME = "predict-output"
MAX_PROGRAM_CHARS = 4000
MAX_PROGRAM_LINES = 80

AUTHOR_PROMPT = (
    "Write a question and a short Python program (standard library only, at most 25 lines, reads no input, uses "
    "no randomness, time or object ids) whose printed output answers the question. It should test real "
    "understanding of Python (control flow, data structures, scoping, evaluation order), not arithmetic stamina.\n"
    'Reply with one JSON object only: {"question": "...", "program": "print(...)\\n..."}')
RUBRIC_QUESTION = ("The better question/program pair is non-trivial, deterministic, has one clear printed answer, "
                   "and tests understanding of the language rather than arithmetic stamina or memorised trivia.")
RUBRIC_PREDICTION = ("The better prediction is exactly what the program prints; if neither is exact, the closer one "
                     "is better. Work out the real output yourself; length and confidence do not matter.")


@dataclass
class Program:
    question: str
    code: str
    output: str
    author: str | None = None  # None: built-in

    def shown(self) -> str:
        return f"Question: {self.question}\n\n```python\n{self.code.rstrip()}\n```"


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
    """Run twice in the sandbox; keep it only if both runs end OK with the same non-empty output."""
    first, second = await asyncio.gather(*(run_python(code, timeout_s=timeout_s, memory_mb=memory_mb,
                                                      max_output_bytes=max_output * 4) for _ in range(2)))
    for res in (first, second):
        if res.status != "ok":
            tail = " | ".join((res.stderr or "").strip().splitlines()[-2:])[:300]
            raise FormatError(f"the program did not run cleanly ({res.status}{': ' + tail if tail else ''})")
    if first.stdout != second.stdout:
        raise FormatError("the program printed different output on two runs: it is not deterministic")
    if not first.stdout.strip():
        raise FormatError("the program printed nothing")
    if len(first.stdout) > max_output or first.stdout.count("\n") > 40:
        raise FormatError(f"the output is too long to predict (limit {max_output} characters, 40 lines)")
    return Program(question, code, first.stdout, author)


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
class PredictOutputFamily:
    seats: int = 2
    author_tokens: int = 256
    predict_tokens: int = 96
    retries: int = 1
    timeout_s: float = 5.0
    memory_mb: int = 256
    max_output_chars: int = 2000
    meta: bool = True

    name: str = NAME
    open_ended: bool = False

    async def play(self, ctx) -> MatchResult:
        failures: list[FormatFailure] = []
        details: dict[str, Any] = {"sandbox": isolation().level}  # what confined the programs
        sets: list[RankedSet] = []
        authors = seat_authors(ctx)
        program = await self._program(ctx, authors, failures, details, sets)
        details["program"] = {"question": program.question, "code": program.code, "output": program.output,
                              "author": program.author}
        outcome = await self._predictions(ctx, program, failures, details, sets)
        sets.append(outcome)
        scores = " ".join(f"{e.variant}={e.score:.2f}" for e in sorted(outcome.entries, key=lambda e: e.rank))
        return MatchResult(sets, summary=f"{details['program_source']}: {scores}", failures=failures, details=details)

    async def _program(self, ctx, authors, failures, details, sets) -> Program:
        prompt = [{"role": "user", "content": AUTHOR_PROMPT}]

        async def check(text: str, author: str) -> Program:
            question, code = parse_program(text)
            return await check_program(question, code, timeout_s=self.timeout_s, memory_mb=self.memory_mb,
                                       max_output=self.max_output_chars, author=author)

        attempts = await propose(ctx, authors, prompt, check, max_tokens=self.author_tokens, retries=self.retries,
                                 what="question and program", failures=failures)
        details["authored"] = [{"author": a.variant, "ok": a.ok, "reasons": a.reasons} for a in attempts]
        if not any(a.ok for a in attempts):
            return await self._builtin(ctx, details, "no author wrote a usable question and program")
        authored = await rank_proposals(
            ctx, attempts, prompt=prompt, task="Questions with short Python programs whose printed output answers "
            "them, for others to predict.", rubric=RUBRIC_QUESTION, criterion="question",
            render=lambda p: p.shown() + f"\n\nOutput:\n{p.output}", meta_task="Rank question/program pairs",
            meta=self.meta, failures=failures, details=details, sets=sets)
        chosen = authored.best(ctx.rng)
        details["program_source"] = f"author:{chosen.variant}"
        return chosen.value

    async def _builtin(self, ctx, details, reason: str) -> Program:
        question, code = ctx.rng.choice(BUILTIN_PROGRAMS)
        details["fallback"] = reason
        details["program_source"] = f"builtin:{BUILTIN_PROGRAMS.index((question, code)) + 1}"
        ctx.log("fallback", reason=reason, builtin=details["program_source"])
        return await check_program(question, code, timeout_s=max(self.timeout_s, 5.0), memory_mb=self.memory_mb,
                                   max_output=max(self.max_output_chars, 4000), author=None)

    async def _predictions(self, ctx, program: Program, failures, details, sets) -> RankedSet:
        prompt = [{"role": "user", "content": prediction_prompt(program)}]
        answers = [Attempted(variant, seat=s) for s, variant in enumerate(ctx.seats)]
        completions = await asyncio.gather(*(ctx.ask(v, PLAYER, prompt, max_tokens=self.predict_tokens)
                                             for v in ctx.seats), return_exceptions=True)
        for a, c in zip(answers, completions):
            if isinstance(c, CallFailed):  # an unreachable player has not played: the match fails, re-run replays it
                raise failed_as(c, a.variant, PLAYER)  # a spent cost limit stays one: the run stops
            if isinstance(c, BaseException):
                raise c
            a.text = c.text
            a.value = extract_prediction(c.text)
            if not a.value.strip():
                failures.append(FormatFailure(a.variant, a.seat, PLAYER, "unparseable", "empty prediction"))
        scores = [similarity(a.value or "", program.output) for a in answers]
        ranks = dense_ranks([round(s, 4) for s in scores])
        details["predictions"] = [{"seat": a.seat, "variant": a.variant, "prediction": (a.value or "")[:2000],
                                   "score": sc, "exact": sc == 1.0} for a, sc in zip(answers, scores)]
        panel = await judge(ctx, role=PLAYER, task=f"{program.shown()}\n\nPredict what this program prints.",
                            candidates=[Candidate(a.variant, normalise(a.value or "") or "(empty)", a.seat)
                                        for a in answers],
                            rubric=RUBRIC_PREDICTION, criterion="prediction", prompt=prompt, rated=False)
        acc = accuracy_set(details, panel, ranks)
        if acc is not None:
            sets.append(acc)
        await keep_panel(ctx, panel, "Rank output predictions for: " + program.question, RUBRIC_PREDICTION,
                         self.meta, failures, details, sets)
        entries = [Entry(a.variant, a.text, r, sc, a.seat, verified=sc == 1.0)  # the exact real output
                   for a, r, sc in zip(answers, ranks, scores)]
        return RankedSet(PLAYER, prompt, entries, "outcome", ranked_by="execution")


class PredictOutputOptions(PanelOptions):
    """[families.predict-output]"""
    seats: int = setting(2, ge=2)
    author_tokens: int = setting(256, ge=16)
    predict_tokens: int = setting(96, ge=4)
    retries: int = setting(1, ge=0)
    timeout_s: float = setting(5.0, ge=0.5)
    memory_mb: int = setting(256, ge=32)
    max_output_chars: int = setting(2000, ge=16)
    meta_judging: bool = True
    tournament_players: Any = setting(None, hidden=True)  # an old internal key: still accepted, not listed


def create(options: dict[str, Any]) -> PredictOutputFamily:
    opts = family_options(PredictOutputOptions, options, NAME)
    return PredictOutputFamily(
        seats=opts.seats,
        author_tokens=opts.author_tokens,
        predict_tokens=opts.predict_tokens,
        retries=opts.retries,
        timeout_s=opts.timeout_s,
        memory_mb=opts.memory_mb,
        max_output_chars=opts.max_output_chars,
        meta=opts.meta_judging,
    )
