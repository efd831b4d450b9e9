"""Programming: authors write challenges and validators, players write solutions, the
sandbox runs them, referees rank everything, meta-referees rank the referees.

One match, in order (every model-written program runs only in the sandbox, referees/sandbox/):

1. Challenge. Each author (ctx.authors, else the model seats) writes a challenge for a domain
   drawn from the match seed, as JSON (title, domain, description, function_name,
   signature, examples); with `constrained` (the default) under a JSON schema the backend
   enforces, so does the validator (details["constrained"] counts the calls held to it). Unusable output is re-asked once with the reason, then dropped
   (FormatFailure). Referees rank the usable ones (RankedSet role=author,
   criterion="challenge"; dropped ones rank below); the best is played. If no author
   wrote a usable one, a built-in challenge (tournaments/families/programming/challenges.py) is played and
   details["fallback"] says why.
2. Validators. Each author writes a program that prints the test cases for the chosen
   challenge (`CASES [{"args": [...], "expected": ...}, ...]`); it runs alone in the sandbox
   and never sees a solution. Its cases are checked against a do-nothing stub and a
   reference solution (runs.py); failing that check is re-asked once, then dropped.
   Referees rank the survivors (role=author, criterion="validator"). The `validators_used`
   best are used, plus the built-in challenge's own cases when it is built-in. No usable
   validator for an authored challenge: a built-in challenge is played instead (recorded).
3. Solutions. Each seat writes the function (UNLEASHED: prompt when the family is
   unleashed). Each solution runs in its own sandboxed process per validator, through a
   driver that gets only the call arguments; its answers are compared with the expected
   values here, outside its process (verdict.py), so it cannot forge its verdict. Referees
   rank the solutions with the results on the shown half of the cases above each one.
4. Outcome (role=player, criterion="outcome"): mean pass rate over the used validators
   (all cases) first (higher is better), the referees' ranking breaks ties; equal on both
   = tie. Entry.score is the pass rate.

Referee accuracy is scored against truth the referees were not shown: on every pair of
solutions whose pass rates on the held-out half of the cases differ, a referee is right
when it preferred the higher one (details["referee_accuracy"], plus a RankedSet
role=referee criterion="accuracy" when 2+ referees judged). Meta-referees rank the
referees of every panel (role=referee, criterion="judging").
"""
from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass, field
from typing import Any

from arena.engine.family import FamilyOptionError, family_options
from arena.engine.match import gather_calls
from arena.records import (
    PLAYER,
    Constraint,
    Entry,
    FormatFailure,
    MatchResult,
    RankedSet,
)
from arena.schema import setting
from referees.aggregate import dense_ranks
from referees.meta import keep_panel
from referees.panel import Candidate, PanelOptions, judge, seat_authors
from referees.sandbox import isolation
from tournaments.families.programming.challenges import BUILTIN_CHALLENGES
from tournaments.families.programming.harness import LANGUAGES
from tournaments.families.programming.prompts import (
    DOMAINS,
    RUBRIC_CHALLENGE,
    RUBRIC_SOLUTION,
    RUBRIC_VALIDATOR,
    VALIDATOR_SCHEMA,
    Challenge,
    challenge_prompt,
    challenge_schema,
    from_builtin,
    parse_challenge,
    parse_solution,
    parse_validator,
    solution_prompt,
    validator_prompt,
)
from tournaments.families.programming.runs import (
    Limits,
    Validator,
    builtin_validator,
    check_validator,
    held_out_rate,
    mean_pass_rate,
    report_line,
    run_solution,
)
from tournaments.kit.authored import propose, rank_proposals
from tournaments.kit.extract import FormatError, extract_code
from tournaments.kit.ranking import accuracy_set, decided, panel_ranks
from tournaments.kit.reask import Attempted, ask_checked

NAME = "programming"
# A solution that writes a summary line itself is trying to forge a verdict. A second line of
# defence only: the verdict is computed outside the solution's process whatever it prints.
_FORGED = re.compile(r"""['"`]\s*RESULT\b""")


@dataclass
class ProgrammingFamily:
    seats: int = 2
    languages: tuple[str, ...] = ("python",)
    domains: tuple[str, ...] = DOMAINS
    author_tokens: int = 384
    code_tokens: int = 384
    validators_used: int = 2
    retries: int = 1
    limits: Limits = field(default_factory=Limits)
    meta: bool = True
    notes: tuple[str, ...] = ()  # e.g. a configured language skipped on this host
    # Authors write challenges and validators under JSON schemas their parsers accept, enforced by
    # the backend (a grammar, structured outputs, a forced tool): a small model's JSON parses.
    constrained: bool = True

    name: str = NAME
    open_ended: bool = True

    async def play(self, ctx) -> MatchResult:
        failures: list[FormatFailure] = []
        details: dict[str, Any] = {"notes": list(self.notes), "sandbox": isolation().level}  # what confined the code
        sets: list[RankedSet] = []
        language = ctx.rng.choice(self.languages)
        domain = ctx.rng.choice(self.domains)
        details.update(language=language, domain=domain)
        authors = seat_authors(ctx)

        challenge = await self._challenge(ctx, authors, domain, language, failures, details, sets)
        validators = await self._validators(ctx, authors, challenge, failures, details, sets)
        if not validators:
            reason = "no usable validator for the chosen challenge"
            challenge = self._builtin(ctx, language, details, reason)
            validators = [builtin_validator(challenge)]
        details["challenge"] = challenge.to_dict()
        details["validators_used"] = [v.label for v in validators]
        outcome = await self._solutions(ctx, challenge, validators, failures, details, sets)
        sets.append(outcome)
        rates = " ".join(f"{e.variant}={e.score:.0%}" for e in sorted(outcome.entries, key=lambda e: e.rank))
        summary = f"{language} '{challenge.title}' ({details.get('challenge_source')}): {rates}"
        return MatchResult(sets, summary=summary, failures=failures, details=details)

    # -- 1. challenge ------------------------------------------------------------------------------------
    async def _challenge(self, ctx, authors, domain, language, failures, details, sets) -> Challenge:
        prompt = [{"role": "user", "content": ctx.task_prompt(challenge_prompt(domain, language))}]
        attempts = await propose(ctx, authors, prompt, lambda t, a: parse_challenge(t, language, a),
                                 max_tokens=self.author_tokens, retries=self.retries, what="challenge",
                                 failures=failures, details=details,
                                 constraint=Constraint.json_schema(challenge_schema(domain)) if self.constrained
                                 else None)
        details["challenges"] = [{"author": a.variant, "ok": a.ok, "reasons": a.reasons,
                                  "title": a.value.title if a.ok else None} for a in attempts]
        if not any(a.ok for a in attempts):
            return self._builtin(ctx, language, details, "no author wrote a usable challenge")
        authored = await rank_proposals(
            ctx, attempts, prompt=prompt, task=f"Programming challenges for the domain of {domain}.",
            rubric=RUBRIC_CHALLENGE, criterion="challenge", render=lambda c: c.text(),
            meta_task=f"Rank programming challenges for the domain of {domain}.", meta=self.meta,
            failures=failures, details=details, sets=sets, scored=True)
        chosen = authored.best(ctx.rng)
        details["challenge_source"] = f"author:{chosen.variant}"
        ctx.log("challenge", source=details["challenge_source"], title=chosen.value.title)
        return chosen.value

    def _builtin(self, ctx, language: str, details: dict[str, Any], reason: str) -> Challenge:
        b = ctx.rng.choice(BUILTIN_CHALLENGES)
        details["fallback"] = reason
        details["challenge_source"] = f"builtin:{b.id}"
        ctx.log("fallback", reason=reason, builtin=b.id)
        return from_builtin(b, language)

    # -- 2. validators -----------------------------------------------------------------------------------
    async def _validators(self, ctx, authors, challenge: Challenge, failures, details, sets) -> list[Validator]:
        prompt = [{"role": "user", "content": ctx.task_prompt(validator_prompt(challenge, self.constrained))}]

        async def check(text: str, author: str) -> Validator:
            draft = parse_validator(text, challenge.language, challenge.function_name)
            validator = await check_validator(draft, challenge, self.limits)
            validator.author, validator.text = author, text
            return validator

        attempts = await propose(ctx, authors, prompt, check, max_tokens=self.author_tokens, retries=self.retries,
                                 what="validator", failures=failures, details=details,
                                 constraint=Constraint.json_schema(VALIDATOR_SCHEMA) if self.constrained else None)
        valid: list[Validator] = []
        for k, a in enumerate(attempts):
            if a.ok:
                a.value.label, a.value.text = f"V{k + 1}", a.text
                valid.append(a.value)
        details["validators"] = [{"label": f"V{k + 1}", "author": a.variant, "ok": a.ok, "reasons": a.reasons,
                                  "check": a.value.check if a.ok else None}
                                 for k, a in enumerate(attempts)]
        authored = await rank_proposals(
            ctx, attempts, prompt=prompt, task=challenge.text(), rubric=RUBRIC_VALIDATOR, criterion="validator",
            render=lambda v: v.summary() + "\n" + v.code, meta_task="Rank validators for: " + challenge.title,
            meta=self.meta, failures=failures, details=details, sets=sets, scored=True)
        used = [valid[k] for k in authored.order()[: self.validators_used]]
        if challenge.builtin is not None:
            used.insert(0, builtin_validator(challenge))
        return used

    # -- 3. solutions and the outcome ----------------------------------------------------------------------
    async def _solutions(self, ctx, challenge: Challenge, validators: list[Validator], failures, details,
                         sets) -> RankedSet:
        prompt = [{"role": "user", "content": ctx.task_prompt(solution_prompt(challenge))}]
        # a player we could not reach has not played: CallFailed fails the match and a re-run replays it
        attempts: list[Attempted] = await gather_calls(
            ask_checked(ctx, v, PLAYER, prompt, lambda t: parse_solution(t, challenge), max_tokens=self.code_tokens,
                        retries=self.retries, what="solution", seat=s, failures=failures)
            for s, v in enumerate(ctx.seats))
        codes = [self._code(a, challenge, failures) for a in attempts]
        jobs = [(s, v) for s in range(len(codes)) for v in validators]
        outs = await asyncio.gather(*(run_solution(v.cases, challenge.function_name, codes[s], challenge.language,
                                                   self.limits) for s, v in jobs))
        runs: list[list[dict[str, Any]]] = [[] for _ in ctx.seats]
        for (s, v), out in zip(jobs, outs):
            runs[s].append({"validator": v.label, **out})
        rates = [mean_pass_rate(r) for r in runs]
        hidden = [held_out_rate(r) for r in runs]
        details["solutions"] = [{"seat": s, "variant": a.variant, "pass_rate": round(rates[s], 4),
                                 "held_out_rate": None if hidden[s] is None else round(hidden[s], 4),
                                 "format_ok": a.ok, "runs": runs[s]} for s, a in enumerate(attempts)]
        judged = list(range(len(ctx.seats)))
        panel = None
        if len(judged) >= 2:
            panel = await judge(
                ctx, role=PLAYER, task=challenge.text(), rubric=RUBRIC_SOLUTION, criterion="quality",
                candidates=[Candidate(attempts[s].variant, report_line(runs[s]) + "\n\n" + codes[s], s) for s in judged],
                reference="Each answer starts with its validator results on some of the cases, from running it in "
                          "a sandbox; other cases are held back.",
                prompt=prompt, rated=False)
            if all(hidden[s] is not None for s in judged):  # scored on the held-out cases the panel never saw
                acc = accuracy_set(details, panel, dense_ranks([round(hidden[s], 6) for s in judged]),
                                   scores=[hidden[s] for s in judged])
                if acc is not None:
                    sets.append(acc)
            await keep_panel(ctx, panel, "Rank solutions to: " + challenge.title, RUBRIC_SOLUTION, self.meta,
                             failures, details, sets)
        referee = panel_ranks(panel, len(judged))
        ranks = dense_ranks([(-round(rates[s], 6), referee[s]) for s in judged], lower_is_better=True)
        entries = [Entry(a.variant, a.text, r, round(rates[s], 4), s) for s, (a, r) in enumerate(zip(attempts, ranks))]
        # pass rates (execution) first, the referees break ties
        by = "execution+" + panel.ranked.ranked_by if decided(panel) else "execution"
        return RankedSet(PLAYER, prompt, entries, "outcome", panel.ranked.agreement if panel else None, ranked_by=by)

    def _code(self, a: Attempted, challenge: Challenge, failures: list[FormatFailure]) -> str:
        """What runs for a seat: its parsed code, else its best-effort code (which will fail the checks)."""
        code = a.value
        if code is None:
            try:
                code = extract_code(a.text, challenge.language)
            except FormatError:
                code = a.text
        if _FORGED.search(code):
            failures.append(FormatFailure(a.variant, a.seat, PLAYER, "tamper",
                                          "the solution prints a RESULT line itself; scored as failing everything"))
            return "raise SystemExit('forged RESULT')\n" if challenge.language == "python" else "process.exit(3);\n"
        return code


class ProgrammingOptions(PanelOptions):
    """[families.programming]"""
    seats: int = setting(2, ge=2)
    languages: list[str] = setting(["python"], must="a non-empty list of distinct names from: "
                                                    + ", ".join(LANGUAGES))
    domains: list[str] = setting(list(DOMAINS), must="a non-empty list of strings")
    author_tokens: int = setting(384, ge=16)
    code_tokens: int = setting(384, ge=16)
    validators_used: int = setting(2, ge=1)
    retries: int = setting(1, ge=0)
    timeout_s: float = setting(5.0, ge=0.5)
    memory_mb: int = setting(256, ge=32)
    meta_judging: bool = True
    constrained: bool = setting(True, must="true or false")
    tournament_players: Any = setting(None, hidden=True)  # an old internal key: still accepted, not listed


def create(options: dict[str, Any]) -> ProgrammingFamily:
    opts = family_options(ProgrammingOptions, options, NAME)
    languages = opts.languages
    if not languages or any(lang not in LANGUAGES for lang in languages) or len(set(languages)) != len(languages):
        raise FamilyOptionError(f"[families.{NAME}] languages must be a non-empty list of distinct names from: "
                                f"{', '.join(LANGUAGES)}; got {languages!r}")
    notes = []
    if "javascript" in languages and shutil.which("node") is None:
        if languages == ["javascript"]:
            raise FamilyOptionError(f"[families.{NAME}] languages = [\"javascript\"] needs node on PATH, which "
                                    "this host does not have")
        languages = [lang for lang in languages if lang != "javascript"]
        notes.append("javascript skipped: node is not installed on this host")
    domains = opts.domains
    if not domains or not all(isinstance(d, str) and d.strip() for d in domains):
        raise FamilyOptionError(f"[families.{NAME}] domains must be a non-empty list of strings")
    return ProgrammingFamily(
        seats=opts.seats,
        languages=tuple(languages),
        domains=tuple(d.strip() for d in domains),
        author_tokens=opts.author_tokens,
        code_tokens=opts.code_tokens,
        validators_used=opts.validators_used,
        retries=opts.retries,
        limits=Limits(opts.timeout_s, opts.memory_mb),
        meta=opts.meta_judging,
        notes=tuple(notes),
        constrained=opts.constrained,
    )
