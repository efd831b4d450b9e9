"""Trivia: authors write question/answer pairs from a page, players answer without it.

One match:
1. a page is drawn from the page source (tournaments/families/trivia/pages.py; offline builtin set by default);
2. `questions` authors (default 2) each write one "Question: ... / Answer: ..." pair from the page.
   Authors are the tournament's `authors`, else the tournament players not seated in this match,
   else the seats themselves (then each seat writes one question, so the page advantage is even);
3. the referee panel ranks the questions (answerable from the page, not trivial, not ambiguous):
   RankedSet role="author", criterion="question" — this rates authors;
4. every seat answers every question without the page; per question the panel ranks the answers
   against the page and the author's answer (role="player", criterion="answer", rated=False: kept
   as preference data, rated through the outcome only);
5. outcome: players ranked by the sum over questions of their win share in the answer ranking.
Meta-referees rank each panel's referees (criterion="judging"). Where exactly one of two answers
contains the author's answer (normalised), that pair has a known right answer and referee accuracy
is recorded against it (details["referee_accuracy"], a heuristic ground truth).

Trivia is closed (answers are right or wrong), so open_ended = False; the authoring prompt still goes
through ctx.task_prompt, so `unleashed = {trivia = true}` prefixes it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from arena.engine.family import family_options
from arena.records import AUTHOR, PLAYER, Entry, MatchResult, RankedSet
from arena.schema import setting
from referees.accuracy import record_panel_accuracy
from referees.aggregate import dense_ranks
from referees.collect import JudgedOptions, Judging, JudgingOptions
from referees.panel import Candidate, author_pool
from referees.prompts import RUBRICS, clip
from tournaments.families.trivia import pages
from tournaments.kit.extract import FormatError, json_objects, pick
from tournaments.kit.reprompt import ask_parsed

_QUESTION = re.compile(r"^[\W_]*(?:question|q)\s*[:.\-]\s*(.+)$", re.I | re.M)
_ANSWER = re.compile(r"^[\W_]*(?:answer|a)\s*[:.\-]\s*(.+)$", re.I | re.M)
_ANSWER_IS = re.compile(r"\banswer(?: to this question)?\s+(?:is|would be)\s*:?\s*(.+)", re.I)
# Starts only after a newline or '?' (where every match starts anyway): without the lookbehind a
# long line with no '?' is rescanned from each position, quadratic (300 KB of garbage: minutes).
_ASKED = re.compile(r"(?<![^\n?])[^\n?]*\?")
_LEAD_IN = re.compile(r"^[^:?]*\bquestion\b[^:?]*:\s*|^(?:what is )?the answer to (?:the|this) question\s*:?\s*",
                      re.I)
_INLINE_ANSWER = re.compile(r"\s+answer\s*:\s*", re.I)
NO_ANSWER = "(the author gave no answer)"


def parse_qa(text: str) -> tuple[str, str]:
    """(question, answer) from 'Question: ... / Answer: ...' lines, a JSON object, or — small models
    rarely follow the format — the last sentence ending in '?' and an 'answer is ...' phrase after it.
    A question without an answer is kept (answer NO_ANSWER): the referees rank such questions."""
    if not isinstance(text, str) or not text.strip():
        raise FormatError("the reply was empty")
    for obj in reversed(json_objects(text)):
        q, a = pick(obj, "question", "q"), pick(obj, "answer", "a")
        if isinstance(q, str) and isinstance(a, (str, int, float)) and not isinstance(a, bool):
            return _checked(q, str(a))
    qs = list(_QUESTION.finditer(text))
    if qs:
        q_text, q_end = qs[-1].group(1), qs[-1].end()
    else:
        asked = [m for m in _ASKED.finditer(text) if len(m.group(0).strip()) >= 10]
        if not asked:
            raise FormatError("no question found; write a line 'Question: ...?'")
        q_text, q_end = asked[-1].group(0), asked[-1].end()
    rest = text[q_end:]
    inline = _INLINE_ANSWER.split(q_text, maxsplit=1)  # "Question: ...? Answer: ..." on one line
    if len(inline) == 2:
        q_text, rest = inline[0], "Answer: " + inline[1]
    m = _ANSWER.search(rest) or _ANSWER_IS.search(rest)
    answer = m.group(1) if m else ""
    for _ in range(3):  # "The question is: What is the answer to the question "..."?"
        q_text = _LEAD_IN.sub("", q_text.strip()).strip(" \"'")
    if "?" in q_text:
        q_text = q_text[: q_text.index("?") + 1]
    return _checked(q_text, answer.split("\n")[0].strip(" \"'") or NO_ANSWER)


def _checked(q: str, a: str) -> tuple[str, str]:
    q, a = " ".join(q.split()), " ".join(a.split()).strip(" .")
    if len(q) < 10:
        raise FormatError("the question is too short")
    if len(q) > 300:
        raise FormatError("the question is too long")
    if len(a) > 150:
        raise FormatError("the answer is too long; keep it to a few words")
    return q, a or NO_ANSWER


def parse_answer(text: str) -> str:
    text = (text or "").strip()
    m = _ANSWER.search(text)
    if m:
        text = m.group(1)
    text = " ".join(text.split())
    if not text:
        raise FormatError("the answer was empty; reply with a few words")
    return text[:300]


def normalise(s: str) -> str:
    s = re.sub(r"[^\w\s]", " ", s.lower())
    return " " + " ".join(w for w in s.split() if w not in ("the", "a", "an")) + " "


def truth_ranks(answers: list[str], reference: str) -> list[int] | None:
    """Ranks when exactly one of two answers contains the reference answer, else None."""
    ref = normalise(reference)
    if len(answers) != 2 or len(ref.strip()) < 2 or reference == NO_ANSWER:
        return None
    hits = [ref in normalise(a) for a in answers]
    return [0 if h else 1 for h in hits] if hits.count(True) == 1 else None


@dataclass
class TriviaFamily:
    source: Any = None
    questions: int = 2
    page_chars: int = 700  # the 135M model loses the instruction after long pages
    question_tokens: int = 80
    answer_tokens: int = 40
    judging: JudgingOptions = field(default_factory=JudgingOptions)

    name: str = "trivia"
    seats: int = 2
    open_ended: bool = False

    async def page(self, ctx, details: dict[str, Any]) -> pages.Page:
        try:
            return await self.source.random_page(ctx.rng)
        except Exception as exc:  # noqa: BLE001 - network errors of every kind: fall back, say why
            details["page_fallback"] = f"{type(exc).__name__}: {exc}"[:300]
            fallback = getattr(self.source, "fallback", None) or pages.LocalPages("builtin", pages.builtin_pages())
            return await fallback.random_page(ctx.rng)

    async def play(self, ctx) -> MatchResult:
        judging = Judging(ctx, self.judging)
        details = judging.details
        page = await self.page(ctx, details)
        text = clip(page.text, self.page_chars)
        details["page"] = {"title": page.title, "origin": page.origin}
        ctx.log("page", title=page.title, origin=page.origin)

        author_prompt = [{"role": "user", "content": ctx.task_prompt(
            f"Write a quiz question about the text below.\n\nText: {page.title}. {text}\n\nNow write one quiz "
            f"question about this text, then its answer, like:\nQuestion: ...?\nAnswer: ...")}]
        qas: list[tuple[str, str, str, str]] = []  # author, question, answer, raw reply
        for author in author_pool(ctx, self.questions):
            got = await ask_parsed(ctx, author, AUTHOR, author_prompt, parse_qa, max_tokens=self.question_tokens,
                                   what="question")
            if got.failure:
                judging.failures.append(got.failure)
            else:
                qas.append((author, got.value[0], got.value[1], got.text))
        details["questions"] = [{"author": a, "question": q, "answer": ans} for a, q, ans, _ in qas]
        if len(qas) >= 2:
            await judging.judge(role=AUTHOR, criterion="question", task=f"Write a trivia question from the page "
                                f"'{page.title}'.", candidates=[Candidate(a, raw) for a, _, _, raw in qas],
                                rubric=RUBRICS["trivia.question"], reference=text, prompt=author_prompt)

        totals: dict[int, float] = {s: 0.0 for s in range(len(ctx.seats))}
        transcripts: dict[int, list[str]] = {s: [] for s in range(len(ctx.seats))}
        decided = 0
        for author, question, reference, _ in qas:
            answer_prompt = [{"role": "user", "content": f"Answer this trivia question in a few words.\n"
                                                         f"Question: {question}"}]
            answers = []
            for seat, player in enumerate(ctx.seats):
                got = await ask_parsed(ctx, player, PLAYER, answer_prompt, parse_answer, seat=seat,
                                       max_tokens=self.answer_tokens, what="answer")
                if got.failure:
                    judging.failures.append(got.failure)
                answers.append(got.value or "(no answer)")
                transcripts[seat].append(f"Q: {question}\nA: {answers[-1]}")
            panel = await judging.judge(
                role=PLAYER, criterion="answer", task=answer_prompt[0]["content"], prompt=answer_prompt,
                candidates=[Candidate(p, a, s) for s, (p, a) in enumerate(zip(ctx.seats, answers))],
                rubric=RUBRICS["trivia.answer"], reference=f"{clip(text, 700)}\nReference answer: {reference}",
                rated=False)
            if any(r is not None for j in panel.judgments for *_, r in j.results):
                decided += 1
                for e in panel.ranked.entries:
                    totals[e.seat] += e.score if e.score is not None else 0.5
            truth = truth_ranks(answers, reference)
            if truth is not None:
                record_panel_accuracy(details, panel, truth)
        return self._result(ctx, totals, transcripts, decided, qas, judging)

    def _result(self, ctx, totals, transcripts, decided, qas, judging: Judging) -> MatchResult:
        ranks = dense_ranks([totals[s] for s in range(len(ctx.seats))])
        entries = [Entry(p, "\n\n".join(transcripts[s]) or "(no question)", ranks[s],
                         round(totals[s], 4), s) for s, p in enumerate(ctx.seats)]
        prompt = [{"role": "user", "content": "Answer these trivia questions in a few words.\n"
                   + "\n".join(f"Question: {q}" for _, q, _, _ in qas)}]
        # Entries stitch every question's answer together: no model gave that reply to `prompt`. Never a pair.
        judged = dict.fromkeys(rs.ranked_by for rs in judging.ranked_sets if rs.criterion == "answer")
        outcome = RankedSet(PLAYER, prompt, entries, "outcome", None, decided > 0, exportable=False,
                            ranked_by="+".join(judged) or "nobody")
        scores = ", ".join(f"{e.variant} {e.score:g}" for e in entries)
        summary = f"{len(qas)} question(s); " + (f"answer scores: {scores}" if decided
                                                  else "no answer ranking decided (unrated)")
        return MatchResult([outcome, *judging.ranked_sets], summary, failures=judging.failures,
                           details=judging.details)


class TriviaOptions(JudgedOptions, pages.PageOptions):
    """[families.trivia]"""
    questions: int = setting(2, ge=1)
    page_chars: int = setting(700, ge=100)
    question_tokens: int = setting(80, ge=8)
    answer_tokens: int = setting(40, ge=4)


def create(options: dict[str, Any]) -> TriviaFamily:
    opts = family_options(TriviaOptions, options, "trivia")
    return TriviaFamily(
        source=pages.open_source(opts, "trivia"),
        questions=opts.questions,
        page_chars=opts.page_chars,
        question_tokens=opts.question_tokens,
        answer_tokens=opts.answer_tokens,
        judging=JudgingOptions.read(opts),
    )
