"""Programming family: author output parsing, validators in the sandbox, solution ranking."""
import asyncio
import json

import pytest

from arena.engine.family import FamilyOptionError
from arena.engine.gateway import CallFailed, Gateway, RetryPolicy
from arena.engine.match import MatchContext
from arena.records import ScheduledMatch, Variant
from tournaments.families.programming.challenges import BUILTIN_CHALLENGES
from tournaments.families.programming.family import create
from tournaments.families.programming.prompts import parse_challenge, parse_validator
from tournaments.kit.extract import FormatError

CHALLENGE = {"title": "Remaining shelf life", "domain": "pharmacy",
             "description": "Given the days a drug has been stored and its labelled shelf life in days, return the "
                            "remaining fraction of shelf life, clamped to 0..1 and rounded to 2 decimals.",
             "function_name": "remaining", "signature": "def remaining(days: int, life: int) -> float",
             "examples": ["remaining(10, 100) == 0.9", "remaining(200, 100) == 0.0"]}
# Six cases; the arena holds back every second one (cases 2, 4, 6) from the referees.
VALIDATOR = '''Here is my validator:
```python
import json
cases = [{"args": [10, 100], "expected": 0.9}, {"args": [0, 50], "expected": 1.0},
         {"args": [200, 100], "expected": 0.0, "edge": True}, {"args": [25, 100], "expected": 0.75},
         {"args": [40, 80], "expected": 0.5}, {"args": [150, 100], "expected": 0.0, "edge": True}]
print("CASES " + json.dumps(cases))
```
And a reference solution:
```python
def remaining(days, life):
    return round(min(1.0, max(0.0, 1 - days / life)), 2)
```'''
GOOD = "```python\ndef remaining(days, life):\n    return round(min(1.0, max(0.0, 1 - days / life)), 2)\n```"
HALF = "```python\ndef remaining(days, life):\n    return 1 - days / life\n```"  # forgets the clamp: 4/6
EVERY_BUILTIN = "```python\n" + "\n".join(c.reference_py for c in BUILTIN_CHALLENGES) + "```"
NODE = __import__("shutil").which("node") is not None


def script(name, *answers):
    return Variant(name, "mock/script", options={"script": list(answers)})


def make_ctx(variants, seats=("p1", "p2"), *, authors=("a1", "a2"), referees=(), meta=(), seed=5, options=None):
    gw = Gateway({v.name: v for v in variants}, retry=RetryPolicy(max_attempts=1, base_delay_s=0))
    match = ScheduledMatch("m1", "t1", "programming", tuple(seats), 0, 0, 0, seed)
    return MatchContext(match, gw, options=options or {}, authors=tuple(authors), referees=tuple(referees),
                        meta_referees=tuple(meta), unleashed=True)


def play(ctx, **options):
    return asyncio.run(create(options).play(ctx))


def by_set(result, role, criterion):
    return next((rs for rs in result.ranked_sets if rs.role == role and rs.criterion == criterion), None)


def ranks(rs):
    return {e.variant: e.rank for e in rs.entries}


# -- reading author output ----------------------------------------------------------------------------------
def test_challenge_json_is_read_bare_fenced_or_after_prose_and_the_last_object_wins():
    bare = parse_challenge(json.dumps(CHALLENGE), "python")
    assert bare.function_name == "remaining" and bare.examples[0] == "remaining(10, 100) == 0.9"
    chatty = ("Sure! A draft: {\"title\": \"old\"}\nFinal answer:\n```json\n" + json.dumps(CHALLENGE, indent=2)
              + "\n```\nHope it helps {not json}")
    assert parse_challenge(chatty, "python").title == "Remaining shelf life"
    wrapped = json.dumps({"challenge": CHALLENGE})
    assert parse_challenge(wrapped, "python").domain == "pharmacy"
    assert parse_challenge(json.dumps([CHALLENGE]), "python").title == "Remaining shelf life"
    pythonish = "```json\n" + repr(CHALLENGE).replace("]", ",]") + "\n```"  # single quotes, trailing comma
    assert parse_challenge(pythonish, "python").signature.startswith("def remaining")


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("I cannot write JSON today.", "no JSON object"),
    ("{" * 50_000, "no JSON object"),  # deeply nested garbage: an error, not a RecursionError
    ("[" * 200_000 + json.dumps(CHALLENGE), "too long"),
    (json.dumps({**CHALLENGE, "function_name": "class"}), "not a valid identifier"),
    (json.dumps({**CHALLENGE, "function_name": "rem-aining"}), "not a valid identifier"),
    (json.dumps({**CHALLENGE, "signature": "def other(x)"}), "does not mention"),
    (json.dumps({**CHALLENGE, "examples": []}), "examples"),
    (json.dumps({**CHALLENGE, "description": "Too short."}), "too short"),
    (json.dumps({k: v for k, v in CHALLENGE.items() if k != "title"}), "'title' is missing"),
    (json.dumps({**CHALLENGE, "title": ["a", "list"]}), "must be a string"),
    (json.dumps({"answer": 42, "ok": True}), "'title' is missing"),  # some other schema
], ids=lambda v: v[:30] if isinstance(v, str) else None)
def test_bad_challenges_raise_a_format_error_with_the_reason(text, reason):
    with pytest.raises(FormatError, match=reason):
        parse_challenge(text, "python")


def test_validator_and_reference_are_told_apart_in_fenced_blocks_or_json():
    draft = parse_validator(VALIDATOR, "python", "remaining")
    assert "CASES" in draft.code and "def remaining" in draft.reference
    as_json = json.dumps({"validator": "print('CASES []')", "reference_solution": ""})
    draft = parse_validator(as_json, "python", "f")
    assert draft.reference is None and "CASES" in draft.code
    with pytest.raises(FormatError, match="CASES"):
        parse_validator("```python\nprint('all good')\n```", "python", "f")


@pytest.mark.parametrize("stdout, reason", [
    ('log line\nCASES [{"args": [1], "expected": 2}, {"args": [-1], "raises": true, "edge": true}]\n', None),
    ('CASES: [{"args": [], "expected": null}]', None),
    ('all tests passed!', "no line starting with CASES"),
    ('CASES [{"args": [1], "expected": 2}]\nCASES [{"args": [1], "expected": 3}]', "more than one"),
    ('CASES []', "non-empty"),
    ('CASES {"args": [1]}', "no line starting with CASES"),
    ('CASES [{"args": 1, "expected": 2}]', "list of arguments"),
    ('CASES [{"args": [1]}]', "neither"),
    ('CASES [{args: [1]}]', "not valid JSON"),
    ('CASES ' + json.dumps([{"args": [k], "expected": k} for k in range(61)]), "too many"),
    ('CASES ' + "[" * 50_000 + "]" * 50_000, "not valid JSON|too large"),  # deep nesting: a reason, no crash
    ("\n" * 400_000 + "CASES", "no line starting with CASES"),  # read in linear time
])
def test_validator_cases_are_read_strictly(stdout, reason):
    from tournaments.families.programming.harness import parse_cases
    if reason is None:
        cases = parse_cases(stdout)
        assert all(set(c) <= {"args", "expected", "raises", "edge"} for c in cases)
        return
    with pytest.raises(FormatError, match=reason):
        parse_cases(stdout)


def test_the_verdict_is_computed_from_answers_outside_the_solution_process():
    """What the solution's process prints is only its own answers: forged verdict lines, deep or
    huge values and missing answers all count as failing, and the held-out half is counted apart."""
    from tournaments.families.programming.harness import read_outputs
    from tournaments.families.programming.verdict import score
    cases = [{"args": [1], "expected": 2}, {"args": [2], "expected": [1, 2.0]}, {"args": [3], "raises": True},
             {"args": [4], "expected": {"a": True}}, {"args": [5], "expected": 1}]
    stdout = ('RESULT {"passed": 5, "failed": 0, "total": 5}\n@@ 0 {"ok": 2.0000000001}\n'
              '@@ 1 {"ok": [1, 2]}\n@@ 1 {"ok": "second line for a case: ignored"}\n@@ 2 {"raised": "ValueError: x"}\n'
              '@@ 3 {"ok": {"a": 1}}\n@@ 4 ' + "[" * 5000 + "]" * 5000 + "\n@@ 9 {\"ok\": 1}\n")
    answers, load_error = read_outputs(stdout, len(cases))
    assert load_error is None and answers[4] is None
    report = score(cases, answers, None, 1.0, 0.1).to_dict()
    assert (report["passed"], report["total"]) == (3, 5)  # true is not 1, no answer is a failure
    assert (report["hidden_passed"], report["hidden_total"]) == (1, 2)  # cases 2 and 4 are held out
    assert report["failures"] == [("case 5: no answer (the solution's process ended or hung before this call "
                                   "returned)")]
    assert report["hidden_failures"] == ["case 4: expected {'a': True}, got {'a': 1}"]
    broken = score(cases, *read_outputs('@@ load {"error": "SyntaxError: x"}', len(cases)), 1.0, 0.1).to_dict()
    assert broken["passed"] == 0 and broken["import_error"] == "SyntaxError: x"


# -- whole matches with scripted models ---------------------------------------------------------------------
def test_passing_solution_beats_failing_one_and_referee_accuracy_is_recorded():
    variants = [script("a1", json.dumps(CHALLENGE), VALIDATOR),
                script("a2", "no idea", "still no idea", VALIDATOR),
                script("p1", HALF), script("p2", GOOD),
                script("fair", "[[B]]", "[[A]]"),  # prefers the second solution in both orders: p2
                script("contrarian", "[[A]]", "[[B]]")]  # prefers p1 in both orders
    ctx = make_ctx(variants, referees=("fair", "contrarian"))
    result = play(ctx, meta_judging=False)
    outcome = result.outcome
    assert ranks(outcome) == {"p1": 1, "p2": 0}
    assert {e.variant: e.score for e in outcome.entries} == {"p1": 0.6667, "p2": 1.0}
    assert result.details["challenge_source"] == "author:a1" and "fallback" not in result.details
    # the garbage challenge was re-asked once with the reason, then recorded, and ranks below the usable one
    a2 = [f for f in result.failures if f.variant == "a2"]
    assert [f.kind for f in a2] == ["unparseable", "unparseable"] and "no JSON object" in a2[0].detail
    assert ranks(by_set(result, "author", "challenge")) == {"a1": 0, "a2": 1}
    reask = next(c for c in ctx.calls if c.variant == "a2" and len(c.messages) > 1)
    assert "cannot be used: no JSON object" in reask.messages[-1]["content"]
    # ground truth for the referees: p2 passes more of the held-out checks
    assert result.details["referee_accuracy"] == {"fair": [1, 1], "contrarian": [0, 1]}
    assert ranks(by_set(result, "referee", "accuracy")) == {"fair": 0, "contrarian": 1}
    # players got the open-ended prefix, and the solutions really ran in the sandbox
    player_prompt = next(c for c in ctx.calls if c.role == "player").messages[-1]["content"]
    assert player_prompt.startswith("UNLEASHED: ") and "def remaining" in player_prompt
    runs = {s["variant"]: s["runs"] for s in result.details["solutions"]}
    assert runs["p2"][0]["status"] == "ok" and runs["p2"][0]["report"]["passed"] == 6
    assert result.details["validators_used"] == ["V1", "V2"]


def test_referees_are_scored_on_held_out_cases_they_were_not_shown():
    """The referees see results on half the cases; their accuracy is counted on the other half, so
    repeating the shown results back is not a free score."""
    wrong_on_shown = ("```python\ndef remaining(days, life):\n    if (days, life) in ((10, 100), (200, 100)):\n"
                      "        return -1\n    return round(min(1.0, max(0.0, 1 - days / life)), 2)\n```")
    wrong_on_hidden = ("```python\ndef remaining(days, life):\n    if days == 150:\n        return 7\n"
                       "    return round(min(1.0, max(0.0, 1 - days / life)), 2)\n```")
    variants = [script("a1", json.dumps(CHALLENGE), VALIDATOR), script("p1", wrong_on_shown),
                script("p2", wrong_on_hidden),
                script("deep", "[[A]]", "[[B]]"),  # prefers p1, which is right on every held-out case
                script("echo", "[[B]]", "[[A]]")]  # prefers p2, whose shown results look better
    ctx = make_ctx(variants, authors=("a1",), referees=("deep", "echo"))
    result = play(ctx, meta_judging=False)
    assert {e.variant: e.score for e in result.outcome.entries} == {"p1": 0.6667, "p2": 0.8333}
    assert [s["held_out_rate"] for s in result.details["solutions"]] == [1.0, 0.6667]
    assert result.details["referee_accuracy"] == {"deep": [1, 1], "echo": [0, 1]}
    assert ranks(by_set(result, "referee", "accuracy")) == {"deep": 0, "echo": 1}
    shown = [c.messages[-1]["content"] for c in ctx.calls if c.role == "referee"]
    assert shown and all("V1: passed 1/3" in t and "V1: passed 3/3" in t for t in shown)
    assert not any(x in t for t in shown for x in ("4/6", "5/6", "case 6", "got 7"))


def test_equal_pass_rates_are_ordered_by_the_referees_then_tied():
    variants = [script("a1", json.dumps(CHALLENGE), VALIDATOR), script("a2", json.dumps(CHALLENGE), VALIDATOR),
                script("p1", GOOD), script("p2", GOOD), script("judge", "[[B]]", "[[A]]")]
    ctx = make_ctx(variants, referees=("judge",))
    result = play(ctx, meta_judging=False)
    assert ranks(result.outcome) == {"p1": 1, "p2": 0}  # both 100%: the referee's preference decides
    tied = make_ctx(variants[:4] + [script("judge", "[[TIE]]")], referees=("judge",))
    assert ranks(play(tied, meta_judging=False).outcome) == {"p1": 0, "p2": 0}


def test_every_author_failing_falls_back_to_a_builtin_challenge_and_says_so():
    variants = [script("a1", "nonsense"), script("p1", EVERY_BUILTIN), script("p2", "I don't know")]
    ctx = make_ctx(variants, authors=("a1",))
    result = play(ctx)
    d = result.details
    assert d["fallback"] == "no author wrote a usable challenge" and d["challenge_source"].startswith("builtin:")
    assert d["validators_used"] == ["builtin"]
    assert ranks(result.outcome) == {"p1": 0, "p2": 1}
    assert {e.variant: e.score for e in result.outcome.entries} == {"p1": 1.0, "p2": 0.0}
    kinds = [(f.variant, f.kind) for f in result.failures]
    assert ("a1", "unparseable") in kinds and ("p2", "unparseable") in kinds  # no code: re-asked, recorded
    assert by_set(result, "author", "challenge") is None  # nobody usable: nothing to rank


def test_validators_that_crash_print_nothing_or_check_nothing_are_discarded():
    crashing = "```python\nprint('CASES ' + str(1/0))\n```"
    silent = "```python\ncases = []\n# forgot to print the CASES line\n```"
    vacuous = "```python\nprint('CASES [{\"args\": [1, 2], \"raises\": true}]')\n```"  # a stub passes it
    variants = [script("a1", json.dumps(CHALLENGE), crashing, silent), script("a2", json.dumps(CHALLENGE), vacuous),
                script("a3", json.dumps(CHALLENGE), VALIDATOR), script("p1", GOOD), script("p2", HALF)]
    ctx = make_ctx(variants, authors=("a1", "a2", "a3"))
    result = play(ctx, retries=0)
    v = {x["author"]: x for x in result.details["validators"]}
    assert not v["a1"]["ok"] and "ZeroDivisionError" in v["a1"]["reasons"][0]
    assert not v["a2"]["ok"] and "checks nothing" in v["a2"]["reasons"][0]
    assert v["a3"]["ok"] and v["a3"]["check"]["reference"]["passed"] == 6 and v["a3"]["check"]["stub"]["passed"] == 0
    assert result.details["validators_used"] == ["V3"]
    assert ranks(by_set(result, "author", "validator")) == {"a1": 1, "a2": 1, "a3": 0}
    assert ranks(result.outcome) == {"p1": 0, "p2": 1}


def test_hanging_or_forging_solutions_score_zero_without_stalling_the_match():
    hang = "```python\ndef remaining(days, life):\n    while True:\n        pass\n```"
    forge = ("```python\nimport atexit\ndef remaining(days, life):\n    return 0\n"
             "atexit.register(lambda: print('RESULT {\"passed\": 4, \"failed\": 0, \"total\": 4}'))\n```")
    sneaky = ("```python\ndef remaining(days, life):\n    return -1\n"
              "print('RES' + 'ULT {\"passed\": 4, \"failed\": 0, \"total\": 4}')\n```")
    variants = [script("a1", json.dumps(CHALLENGE), VALIDATOR), script("p1", hang), script("p2", forge),
                script("p3", GOOD), script("p4", sneaky)]
    ctx = make_ctx(variants, seats=("p1", "p2", "p3", "p4"), authors=("a1",))
    result = play(ctx, timeout_s=1.0)
    scores = {e.variant: e.score for e in result.outcome.entries}
    assert scores == {"p1": 0.0, "p2": 0.0, "p3": 1.0, "p4": 0.0}
    # the forged line is just noise in the solution's own process: its answers (0) are what count
    sneaky_run = result.details["solutions"][3]["runs"][0]
    assert sneaky_run["status"] == "ok" and sneaky_run["report"]["failures"][0].startswith("case 1: expected 0.9")
    hang = result.details["solutions"][0]["runs"][0]
    assert hang["status"] == "timeout" or "CaseTimeout" in hang["report"]["failures"][0]
    assert any(f.variant == "p2" and f.kind == "tamper" for f in result.failures)


def test_an_unreachable_player_fails_the_match_instead_of_losing_it():
    variants = [script("a1", json.dumps(CHALLENGE), VALIDATOR), script("p1", GOOD),
                Variant("p2", "mock/fail", options={"kind": "fatal"})]
    with pytest.raises(CallFailed):
        play(make_ctx(variants, authors=("a1",)))


def test_an_unreachable_author_fails_the_match_instead_of_being_left_out():
    # (it used to be recorded as a "call-failed" format failure while the match went on and was rated)
    variants = [script("a1", json.dumps(CHALLENGE), VALIDATOR), Variant("a2", "mock/fail", options={"kind": "fatal"}),
                script("p1", GOOD), script("p2", HALF)]
    with pytest.raises(CallFailed, match="author a2"):
        play(make_ctx(variants))


def test_meta_referees_rank_the_referees_of_the_solution_panel():
    variants = [script("a1", json.dumps(CHALLENGE), VALIDATOR), script("p1", HALF), script("p2", GOOD),
                script("fair", "[[B]]", "[[A]]"), script("contrarian", "[[A]]", "[[B]]"),
                script("meta", "[[A]]", "[[B]]")]  # "fair" shown first, then second: prefers it both times
    ctx = make_ctx(variants, authors=("a1",), referees=("fair", "contrarian"), meta=("meta",))
    result = play(ctx)
    judging = by_set(result, "referee", "judging")
    assert judging is not None and ranks(judging) == {"fair": 0, "contrarian": 1}
    assert any(c.role == "meta-referee" for c in ctx.calls)


@pytest.mark.skipif(not NODE, reason="node is not installed")
def test_javascript_solutions_run_under_node():
    js_challenge = {**CHALLENGE, "signature": "function remaining(days, life)"}
    js_validator = ("```javascript\nconst cases = [[[10, 100], 0.9], [[0, 50], 1], [[200, 100], 0]]\n"
                    "  .map(([args, expected]) => ({args, expected}));\n"
                    "console.log('CASES ' + JSON.stringify(cases));\n```")
    good = ("```javascript\nfunction remaining(d, l) { return Math.round(Math.min(1, Math.max(0, 1 - d / l)) * 100) / 100; }\n"
            "module.exports = { remaining };\n```")
    bad = "```javascript\nconst remaining = (d, l) => 1 - d / l;\nmodule.exports = { remaining };\n```"  # no clamp
    variants = [script("a1", json.dumps(js_challenge), js_validator), script("p1", bad), script("p2", good)]
    ctx = make_ctx(variants, authors=("a1",))
    result = play(ctx, languages=["javascript"])
    assert result.details["language"] == "javascript"
    assert {e.variant: e.score for e in result.outcome.entries} == {"p1": 0.6667, "p2": 1.0}


def run_builtin(challenge, language, solution):
    from tournaments.families.programming.runs import Limits, run_solution
    return asyncio.run(run_solution(list(challenge.cases), challenge.function_name, solution, language,
                                    Limits(timeout_s=10)))


@pytest.mark.parametrize("challenge", BUILTIN_CHALLENGES, ids=lambda c: c.id)
def test_builtin_challenges_pass_their_reference_and_fail_a_stub(challenge):
    from tournaments.families.programming.prompts import stub_solution
    good = run_builtin(challenge, "python", challenge.reference_py)
    assert good["status"] == "ok" and good["report"]["passed"] == good["report"]["total"] == 6
    assert good["report"]["edge_total"] >= 1 and good["report"]["errors"] == 0
    stub = run_builtin(challenge, "python", stub_solution(challenge.function_name, "python"))
    assert stub["report"]["passed"] < 6 and stub["report"]["errors"] >= 1
    if NODE:
        js = run_builtin(challenge, "javascript", challenge.reference_js)
        assert js["report"]["passed"] == 6, js
        # the generated harness also finds a function the solution forgot to export
        unexported = challenge.reference_js.split("module.exports")[0]
        assert run_builtin(challenge, "javascript", unexported)["report"]["passed"] == 6


def test_builtin_harness_gives_credit_for_the_cases_a_partly_hanging_solution_finishes():
    from tournaments.families.programming.prompts import from_builtin
    from tournaments.families.programming.runs import (
        Limits,
        builtin_validator,
        run_solution,
    )
    c = BUILTIN_CHALLENGES[0]
    hangs_on_empty = c.reference_py.replace("    if not daily_demand:\n        return 0\n",
                                            "    while not daily_demand:\n        pass\n")
    assert hangs_on_empty != c.reference_py
    validator = builtin_validator(from_builtin(c, "python"))
    out = asyncio.run(run_solution(validator.cases, c.function_name, hangs_on_empty, "python", Limits(timeout_s=4)))
    assert out["status"] == "ok" and out["report"]["passed"] == 5
    assert "CaseTimeout" in out["report"]["failures"][0]
    if NODE:  # JavaScript too: each call runs under vm's timeout
        js = c.reference_js.replace("if (d.length === 0) return 0;", "while (d.length === 0) {}")
        assert js != c.reference_js
        out = asyncio.run(run_solution(validator.cases, c.function_name, js, "javascript", Limits(timeout_s=4)))
        assert out["status"] == "ok" and out["report"]["passed"] == 5
        assert "CaseTimeout" in out["report"]["failures"][0]


def test_builtin_harness_reports_import_errors_and_wrong_answers():
    c = BUILTIN_CHALLENGES[0]
    broken = run_builtin(c, "python", "def reorder_quantity(:\n")
    assert broken["report"]["passed"] == 0 and "SyntaxError" in broken["report"]["import_error"]
    wrong = run_builtin(c, "python", "def reorder_quantity(*a):\n    return 0\n")
    assert 0 < wrong["report"]["passed"] < 6 and wrong["report"]["failures"][0].startswith("case 1: expected 199")


def test_options_are_checked_with_clear_messages():
    with pytest.raises(FamilyOptionError, match="unknown option"):
        create({"langauges": ["python"]})
    with pytest.raises(FamilyOptionError, match="languages must be"):
        create({"languages": ["cobol"]})
    with pytest.raises(FamilyOptionError, match="seats must be >= 2"):
        create({"seats": 1})
    with pytest.raises(FamilyOptionError, match="timeout_s must be float"):
        create({"timeout_s": "fast"})
    fam = create({"languages": ["python", "javascript"], "domains": ["railway scheduling"]})
    assert fam.open_ended and fam.domains == ("railway scheduling",)
    assert ("javascript" in fam.languages) == NODE and bool(fam.notes) != NODE


def test_runner_plays_and_stores_matches_with_scripted_players(tmp_path):
    """Through the registry, runner and store: details are stored as JSON and the outcome is rated."""
    from tests.tournaments.runs import check_scripted_run_is_stored_rated_and_resumable
    check_scripted_run_is_stored_rated_and_resumable("programming", tmp_path / "run")


def test_real_embedded_model_finishes_with_a_ranked_outcome(tmp_path):
    """Whatever SmolLM2-135M writes, the match ends with a ranked outcome (usually via the fallbacks)."""
    from arena.config import parse_config
    from arena.engine.runner import run
    from arena.engine.store import Store
    cfg = parse_config({"tournament": {"families": ["programming"], "players": ["smol-cold", "smol-warm"],
                                       "seed": 11},
                        "families": {"programming": {"author_tokens": 16, "code_tokens": 24, "retries": 0}}})
    summary = run(cfg, tmp_path / "run", max_matches=1)
    assert summary.finished == 1 and summary.failed == 0
    store = Store(tmp_path / "run", create=False)
    try:
        sets = [rs for _, fam, rs in store.iter_ranked_sets() if fam == "programming"]
        outcome = [rs for rs in sets if rs.role == "player" and rs.criterion == "outcome"]
        assert len(outcome) == 1 and {e.variant for e in outcome[0].entries} == {"smol-cold", "smol-warm"}
        assert all(0.0 <= e.score <= 1.0 for e in outcome[0].entries)
    finally:
        store.close()


# -- formats the backend enforces -----------------------------------------------------------------------
def _served_match(constrained):
    """A match whose authors and players are an OpenAI-compatible server that honours formats."""
    from tests.players.wire import compat
    from tests.support.fault_server import FaultServer

    def reply(body):
        fmt = json.dumps(body.get("response_format") or {})
        if '"examples"' in fmt:
            return json.dumps(CHALLENGE)
        if '"validator"' in fmt:
            code = VALIDATOR.split("```python\n")[1].split("```")[0]
            return json.dumps({"validator": code, "reference_solution": GOOD.strip("`").removeprefix("python\n")})
        content = body["messages"][-1]["content"]
        return VALIDATOR if "validator" in content.lower() and "Solve" not in content else (
            json.dumps(CHALLENGE) if "original programming challenge" in content else GOOD)

    async def go():
        async with FaultServer(reply=reply) as srv:
            vs = [compat(n, srv.openai_url) for n in ("a1", "a2", "p1", "p2")]
            ctx = make_ctx(vs)
            result = await create({"constrained": constrained}).play(ctx)
            await ctx.gateway.aclose()
            return result, list(srv.bodies)
    return asyncio.run(go())


def test_constrained_authors_are_asked_under_json_schemas_their_parsers_accept():
    result, bodies = _served_match(True)
    schemas = [b["response_format"]["json_schema"]["schema"] for b in bodies if "response_format" in b]
    assert len(schemas) == 4  # two challenges, two validators; solutions stay free code
    assert result.details["challenge_source"] == "author:a1" or result.details["challenge_source"] == "author:a2"
    assert result.details["constrained"] == {"challenge": {"calls": 2, "constrained": 2},
                                             "validator": {"calls": 2, "constrained": 2}}
    assert all(v["ok"] for v in result.details["validators"])


def test_unconstrained_authors_get_no_format():
    result, bodies = _served_match(False)
    assert not any("response_format" in b for b in bodies) and "constrained" not in result.details
    assert result.details["challenge_source"].startswith("author:")


def test_json_valid_under_the_schemas_is_what_the_parsers_accept():
    jsonschema = pytest.importorskip("jsonschema")
    from tournaments.families.programming.prompts import (
        VALIDATOR_SCHEMA,
        challenge_schema,
    )
    schema = challenge_schema("pharmacy")
    jsonschema.validate(CHALLENGE, schema)
    assert parse_challenge(json.dumps(CHALLENGE), "python").function_name == "remaining"
    with pytest.raises(jsonschema.ValidationError):  # a name the parser refuses is refused by the schema too
        jsonschema.validate({**CHALLENGE, "function_name": "Remaining life"}, schema)
    code = VALIDATOR.split("```python\n")[1].split("```")[0]
    answer = {"validator": code, "reference_solution": GOOD.strip("`").removeprefix("python\n")}
    jsonschema.validate(answer, VALIDATOR_SCHEMA)
    assert parse_validator(json.dumps(answer), "python", "remaining").reference is not None
    assert create({}).constrained is True
