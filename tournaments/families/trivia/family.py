"""Trivia: authors write question/answer pairs from a page, players answer without it.

One match:
1. a page is drawn from the page source (tournaments/families/trivia/pages.py; offline builtin set by default);
2. `questions` authors (default 2) each write one "Question: ... / Answer: ..." pair from the page.
   Authors are the tournament's `authors`, else the tournament players not seated in this match,
   else the seats themselves (then each seat writes one question, so the page advantage is even);
3. the referee panel ranks the questions (answerable from the page, not trivial, not ambiguous):
   RankedSet role="author", criterion="question" — this rates authors;
4. every seat answers every question without the page, `samples` times (ctx.samples, distinct seeds).
   When the page confirms the author's answer (every content word of it is on the page and the
   question does not give it away: trivia/scoring.py), answers are graded by closeness to it (SQuAD
   token F1): RankedSet criterion="answer", ranked_by="closeness", rated=False. Otherwise the referee
   panel ranks the answers against the page and the author's answer (ranked_by="referees:...");
5. outcome: players ranked by the sum over questions of their mean score (closeness, or win share in
   the panel's ranking); questions nobody graded add nothing, and with none graded it is unrated.
   details["grading"] says per question whether the reference was verified and each closeness.
   `page_questions` (default 1) more questions are written by the environment (trivia/cloze.py): a
   sentence of the page with a name or number blanked out, the blanked words the reference (true by
   construction, never one that states an author's answer), graded the same way;
With `constrained` (default true) the author's reply is asked under a JSON schema (QA_SCHEMA), so a
backend that enforces it (a llama.cpp grammar for local/) always returns a readable pair.
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
from arena.records import AUTHOR, PLAYER, Constraint, Entry, MatchResult, RankedSet
from arena.schema import setting
from referees.accuracy import record_panel_accuracy
from referees.aggregate import dense_ranks
from referees.collect import JudgedOptions, Judging, JudgingOptions
from referees.panel import Candidate, author_pool
from referees.prompts import RUBRICS, clip
from tournaments.families.trivia import cloze, pages, scoring
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
# The authored pair under `constrained` (parse_qa reads this JSON; the bounds within _checked's). The
# grammar writes keys in sorted order: "short_answer" sorts after "question", as it must be written.
QA_SCHEMA = Constraint.json_schema({
    "type": "object", "additionalProperties": False, "required": ["question", "short_answer"],
    "properties": {"question": {"type": "string", "minLength": 10, "maxLength": 160},
                   "short_answer": {"type": "string", "minLength": 1, "maxLength": 60}}})


def parse_qa(text: str) -> tuple[str, str]:
    """(question, answer) from 'Question: ... / Answer: ...' lines, a JSON object, or — small models
    rarely follow the format — the last sentence ending in '?' and an 'answer is ...' phrase after it.
    A question without an answer is kept (answer NO_ANSWER): the referees rank such questions."""
    if not isinstance(text, str) or not text.strip():
        raise FormatError("the reply was empty")
    for obj in reversed(json_objects(text)):
        q, a = pick(obj, "question", "q"), pick(obj, "answer", "short_answer", "a")
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
    constrained: bool = True  # the authored question/answer is asked under QA_SCHEMA
    page_questions: int = 1  # fill-in-the-blank questions from the page itself (trivia/cloze.py)
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

        # The answer must be words of the text: only an answer the page confirms grades the players.
        form = ('as JSON: {"question": "...?", "short_answer": "..."}' if self.constrained
                else "like:\nQuestion: ...?\nAnswer: ...")
        author_prompt = [{"role": "user", "content": ctx.task_prompt(
            f"Write a quiz question about the text below.\n\nText: {page.title}. {text}\n\nNow write one quiz "
            f"question about this text, then its answer (a few words copied from the text), {form}")}]
        qas: list[tuple[str, str, str, str]] = []  # author, question, answer, raw reply
        for author in author_pool(ctx, self.questions):
            got = await ask_parsed(ctx, author, AUTHOR, author_prompt, parse_qa, max_tokens=self.question_tokens,
                                   what="question", constraint=QA_SCHEMA if self.constrained else None)
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
        asked = list(qas)
        for _ in range(self.page_questions):  # the page's own fill-in-the-blank: verified by construction
            blank = cloze.cloze(text, ctx.rng, avoid=[a for _, _, a, _ in asked])
            if blank is not None and all(q != blank[0] for _, q, _, _ in asked):
                asked.append(("page", blank[0], blank[1], ""))
                details.setdefault("page_questions", []).append({"question": blank[0], "answer": blank[1]})
        for author, question, reference, _ in asked:
            seat_scores = await self.answer(ctx, judging, text, question, reference, transcripts)
            if seat_scores is not None:
                decided += 1
                for seat, score in seat_scores.items():
                    totals[seat] += score
        return self._result(ctx, totals, transcripts, decided, asked, judging)

    async def answer(self, ctx, judging: Judging, page_text: str, question: str, reference: str,
                     transcripts: dict[int, list[str]]) -> dict[int, float] | None:
        """Every seat answers `question` ctx.samples times (distinct derived seeds). Returns each seat's
        mean score, or None when nothing graded the answers (an unverified reference, no panel verdict)."""
        answer_prompt = [{"role": "user", "content": f"Answer this trivia question in a few words.\n"
                                                     f"Question: {question}"}]
        cands: list[Candidate] = []
        usable: list[bool] = []
        for seat, player in enumerate(ctx.seats):
            for _ in range(max(1, ctx.samples)):
                got = await ask_parsed(ctx, player, PLAYER, answer_prompt, parse_answer, seat=seat,
                                       max_tokens=self.answer_tokens, what="answer")
                if got.failure:
                    judging.failures.append(got.failure)
                cands.append(Candidate(player, got.value or "(no answer)", seat))
                usable.append(got.value is not None)
                transcripts[seat].append(f"Q: {question}\nA: {cands[-1].text}")
        grade: dict[str, Any] = {"question": question, "reference": reference,
                                 "verified": scoring.verified(reference, question, page_text)}
        judging.details.setdefault("grading", []).append(grade)
        reference_text = f"{clip(page_text, 700)}\nReference answer: {reference}"
        if grade["verified"]:
            # The page confirms the reference: closeness decides. A forfeited answer (format failure,
            # recorded as such) scores 0 and is no text to learn from, so it stays out of the set.
            close = [scoring.closeness(c.text, reference) if ok else 0.0 for c, ok in zip(cands, usable)]
            grade["closeness"] = close
            kept = [k for k, ok in enumerate(usable) if ok]
            ranks = dense_ranks([close[k] for k in kept])
            judging.ranked_sets.append(RankedSet(
                PLAYER, answer_prompt, [Entry(cands[k].variant, cands[k].text, r, close[k], cands[k].seat)
                                        for k, r in zip(kept, ranks)],
                "answer", None, False, ranked_by="closeness"))  # rated through the outcome only
            if len(ctx.seats) == len(cands):  # any referees are scored against the closeness truth
                panel = await judging.judge(keep=False, role=PLAYER, criterion="answer",
                                            task=answer_prompt[0]["content"], prompt=answer_prompt,
                                            candidates=cands, rubric=RUBRICS["trivia.answer"],
                                            reference=reference_text, rated=False)
                record_panel_accuracy(judging.details, panel, dense_ranks(close))
            return {s: sum(c for c, x in zip(close, cands) if x.seat == s)
                       / sum(1 for x in cands if x.seat == s) for s in range(len(ctx.seats))}
        panel = await judging.judge(role=PLAYER, criterion="answer", task=answer_prompt[0]["content"],
                                    prompt=answer_prompt, candidates=cands, rubric=RUBRICS["trivia.answer"],
                                    reference=reference_text, rated=False)
        truth = truth_ranks([c.text for c in cands], reference)
        if truth is not None:
            record_panel_accuracy(judging.details, panel, truth)
        if not any(r is not None for j in panel.judgments for *_, r in j.results):
            return None
        shares: dict[int, list[float]] = {}
        for e in panel.ranked.entries:
            shares.setdefault(e.seat, []).append(e.score if e.score is not None else 0.5)
        return {s: sum(v) / len(v) for s, v in shares.items()}

    def _result(self, ctx, totals, transcripts, decided, qas, judging: Judging) -> MatchResult:
        ranks = dense_ranks([totals[s] for s in range(len(ctx.seats))])
        entries = [Entry(p, "\n\n".join(transcripts[s]) or "(no question)", ranks[s],
                         round(totals[s], 4), s) for s, p in enumerate(ctx.seats)]
        prompt = [{"role": "user", "content": "Answer these trivia questions in a few words.\n"
                   + "\n".join(f"Question: {q}" for _, q, _, _ in qas)}]
        # Entries stitch every question's answer together: no model gave that reply to `prompt`. Never a pair.
        judged = dict.fromkeys(rs.ranked_by for rs in judging.ranked_sets
                               if rs.criterion == "answer" and rs.ranked_by != "nobody")
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
    # A backend that can enforce it makes the author's reply a {"question", "answer"} JSON object.
    constrained: bool = setting(True, must="true or false")
    samples: int = setting(1, ge=1)  # answers per seat to each question (else [tournament] samples)
    page_questions: int = setting(1, ge=0)  # fill-in-the-blank questions the page answers itself


def create(options: dict[str, Any]) -> TriviaFamily:
    opts = family_options(TriviaOptions, options, "trivia")
    return TriviaFamily(
        source=pages.open_source(opts, "trivia"),
        questions=opts.questions,
        page_chars=opts.page_chars,
        question_tokens=opts.question_tokens,
        answer_tokens=opts.answer_tokens,
        constrained=opts.constrained,
        page_questions=opts.page_questions,
        judging=JudgingOptions.read(opts),
    )
