"""Programming family: what authors, players and referees are asked, and reading the answers.

Author output is bad input: `parse_challenge` and `parse_validator` either return a
usable value or raise FormatError with a reason the author is shown on the one re-ask.
"""
from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from tournaments.families.programming.challenges import BuiltinChallenge
from tournaments.kit.extract import (
    JS_LANGS,
    PY_LANGS,
    FormatError,
    clean_str,
    code_blocks,
    defines,
    extract_code,
    last_json_object,
    pick,
)

DOMAINS = (
    "supply chain", "medical systems", "CAD", "finance", "logistics", "energy utilities", "aviation", "payroll",
    "agriculture", "insurance", "telecommunications", "manufacturing quality control", "pharmacy",
    "retail pricing", "construction estimating", "hydrology", "railway scheduling", "banking compliance",
    "geospatial mapping", "hotel revenue management",
)
LANGUAGE_NAMES = {"python": "Python", "javascript": "JavaScript (Node.js, CommonJS)"}
MAX_CODE_CHARS = 20_000

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_JS_RESERVED = {"break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do",
                "else", "export", "extends", "finally", "for", "function", "if", "import", "in", "instanceof",
                "new", "return", "super", "switch", "this", "throw", "try", "typeof", "var", "void", "while",
                "with", "yield", "let", "static", "enum", "await", "null", "true", "false"}

RUBRIC_CHALLENGE = ("The better challenge is novel (not a textbook or interview puzzle), comes from real work in its "
                    "domain, needs several skills and real domain knowledge, is specified precisely (inputs, "
                    "outputs, units, rounding, errors) with correct examples, and is solvable in one short function.")
RUBRIC_VALIDATOR = ("The better validator's cases check the specification thoroughly: normal cases with correct "
                    "expected values, edge cases and invalid input, and its sandbox check shows a correct solution "
                    "passes them and a do-nothing one fails.")
RUBRIC_SOLUTION = ("The better solution is correct on the whole specification, including inputs no check shown "
                   "here covers; the validator results on some of the cases are shown first, above the code. "
                   "Beyond that it is robust and clear.")


@dataclass
class Challenge:
    title: str
    domain: str
    description: str
    function_name: str
    signature: str
    examples: list[str]
    language: str
    author: str | None = None  # variant; None for a built-in
    builtin: BuiltinChallenge | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The challenge as players and referees read it."""
        examples = "\n".join(f"  {e}" for e in self.examples)
        return (f"Title: {self.title}\nDomain: {self.domain}\nLanguage: {LANGUAGE_NAMES[self.language]}\n\n"
                f"{self.description}\n\nSignature: {self.signature}\nExamples:\n{examples}")

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "domain": self.domain, "description": self.description,
                "function_name": self.function_name, "signature": self.signature, "examples": self.examples,
                "language": self.language, "author": self.author,
                "builtin": self.builtin.id if self.builtin else None}


def from_builtin(b: BuiltinChallenge, language: str) -> Challenge:
    sig = b.signature if language == "python" else b.js_signature
    examples = list(b.examples)
    if language == "javascript":  # the examples are written as Python calls; None is null in JS
        examples = [e.replace("None", "null").replace("'", '"') for e in examples]
    return Challenge(b.title, b.domain, b.description, b.function_name, sig, examples, language, None, b)


# -- authors: challenges ----------------------------------------------------------------------------------
def challenge_prompt(domain: str, language: str) -> str:
    lang = LANGUAGE_NAMES[language]
    sig = "def name(arg: type, ...) -> type" if language == "python" else "function name(arg1, arg2)"
    return (
        f"Write an original programming challenge from the domain of {domain}. It must be a task a professional "
        f"in {domain} really needs solved, needing domain knowledge and several skills (not a textbook or "
        f"interview puzzle), and solvable by one {lang} function of at most about 40 lines whose inputs and "
        f"output are numbers, strings, lists or dicts.\n"
        "Reply with one JSON object only, with exactly these keys:\n"
        f'{{"title": "...", "domain": "{domain}", "description": "the precise specification: inputs, output, '
        f'units, rounding, which errors to raise", "function_name": "snake_case_name", "signature": "{sig}", '
        f'"examples": ["name(...) == expected", "..."]}}')


def challenge_schema(domain: str) -> dict[str, Any]:
    """The JSON schema a constrained author's challenge is written under: the keys parse_challenge
    reads, in the order the prompt gives them ("required" keeps that order for a grammar), sized so
    the whole object fits in the author's token budget (a cut-off object would not parse)."""
    text = {"type": "string"}
    return {"type": "object", "additionalProperties": False,
            "required": ["title", "domain", "description", "function_name", "signature", "examples"],
            "properties": {
                "title": {**text, "minLength": 3, "maxLength": 80},
                "domain": {"type": "string", "enum": [domain]},
                # longer than the prompt's placeholder, which a small model copies (11 words: too short)
                "description": {**text, "minLength": 100, "maxLength": 400},
                "function_name": {"type": "string", "pattern": "^[a-z_][a-z0-9_]{2,40}$"},
                "signature": {**text, "minLength": 8, "maxLength": 120},
                "examples": {"type": "array", "items": {**text, "minLength": 3, "maxLength": 100},
                             "minItems": 1, "maxItems": 3}}}


# What a constrained validator answer is (parse_validator reads this JSON as well as fenced blocks).
VALIDATOR_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["validator", "reference_solution"],
    "properties": {"validator": {"type": "string", "minLength": 40},
                   "reference_solution": {"type": "string", "minLength": 10}}}


def parse_challenge(text: str, language: str, author: str | None = None) -> Challenge:
    obj = last_json_object(text)
    if len(obj) == 1 and isinstance(next(iter(obj.values())), dict):  # {"challenge": {...}}
        obj = next(iter(obj.values()))
    title = clean_str(pick(obj, "title", "name"), "title", limit=160)
    domain = clean_str(pick(obj, "domain", "field", "industry", "area"), "domain", limit=80)
    description = clean_str(pick(obj, "description", "specification", "problem", "statement", "task"),
                            "description", limit=4000)
    if len(description.split()) < 12:
        raise FormatError("field 'description' is too short to specify a task (write the full specification)")
    name = clean_str(pick(obj, "function_name", "function", "entry_point", "func_name", "functionName"),
                     "function_name", limit=64)
    name = name.split("(")[0].strip()
    if not _IDENT.match(name) or keyword.iskeyword(name) or name in _JS_RESERVED:
        raise FormatError(f"function_name {name[:40]!r} is not a valid identifier")
    signature = clean_str(pick(obj, "signature", "function_signature"), "signature", limit=400)
    if name not in signature:
        raise FormatError(f"the signature does not mention the function {name!r}")
    raw_examples = pick(obj, "examples", "example", "tests")
    if isinstance(raw_examples, (str, dict)):
        raw_examples = [raw_examples]
    if not isinstance(raw_examples, list) or not raw_examples:
        raise FormatError("field 'examples' must be a non-empty list")
    examples = []
    for ex in raw_examples[:8]:
        s = ex if isinstance(ex, str) else json.dumps(ex, ensure_ascii=False)
        s = s.strip()
        if s:
            examples.append(s[:400])
    if not examples:
        raise FormatError("field 'examples' holds no usable example")
    return Challenge(title, domain, description, name, signature, examples, language, author)


# -- authors: validators ------------------------------------------------------------------------------------
def validator_prompt(challenge: Challenge, constrained: bool = False) -> str:
    fn = challenge.function_name
    fence = "python" if challenge.language == "python" else "javascript"
    if challenge.language == "python":
        emit = 'print("CASES " + json.dumps(cases))'
    else:
        emit = "console.log('CASES ' + JSON.stringify(cases))"
    return (f"Write a validator (the test cases) for this programming challenge.\n\n{challenge.text()}\n\n"
            f"The validator is a program that never sees the solution: the arena calls {fn} itself, in a separate "
            "sandbox, with the arguments of each case and compares what it returns with the expected value "
            "(numbers to within 1e-6). Build a list `cases` covering normal cases with exact expected values, edge "
            'cases and invalid input: {"args": [arguments of one call], "expected": the return value} or '
            '{"args": [...], "raises": true} for input that must raise an error; add "edge": true to edge cases. '
            f"Compute expected values in the program if you like. Finish by printing exactly one line: {emit}\n"
            + (f'Reply with one JSON object: {{"validator": "import json\\ncases = [...]\\n{emit.replace(chr(34), chr(92) + chr(34))}", '
               f'"reference_solution": "def {fn}(...):\\n    ..."}} (the code as JSON strings, newlines as \\n).'
               if constrained else
               f"Reply with two fenced code blocks: first ```{fence} the validator```, then ```{fence} a correct "
               f"reference solution defining {fn}```."))


@dataclass
class ValidatorDraft:
    code: str
    reference: str | None


def parse_validator(text: str, language: str, function_name: str) -> ValidatorDraft:
    """The validator (the block that prints CASES) and an optional reference solution."""
    validator = reference = None
    try:
        obj = last_json_object(text)
    except FormatError:
        obj = None
    if obj is not None and isinstance(pick(obj, "validator", "validator_code", "harness"), str):
        validator = pick(obj, "validator", "validator_code", "harness")
        ref = pick(obj, "reference_solution", "reference", "solution")
        reference = ref if isinstance(ref, str) and ref.strip() else None
    else:
        langs = PY_LANGS if language == "python" else JS_LANGS
        blocks = [code for lang, code in code_blocks(text) if lang in langs]
        with_cases = [b for b in blocks if "CASES" in b]
        if with_cases:
            validator = with_cases[-1]
            refs = [b for b in blocks if b is not validator and "CASES" not in b
                    and defines(b, function_name, language)]
            reference = refs[-1] if refs else None
        elif not blocks and "CASES" in (text or ""):
            validator = extract_code(text, language)
    if not validator or "CASES" not in validator:
        raise FormatError("no validator found: it must be a fenced code block that prints one line starting "
                          "with CASES followed by a JSON list of cases ({\"args\": [...], \"expected\": ...})")
    if len(validator) > MAX_CODE_CHARS or (reference and len(reference) > MAX_CODE_CHARS):
        raise FormatError(f"the code is too long (limit {MAX_CODE_CHARS} characters)")
    return ValidatorDraft(validator.strip("\n") + "\n", reference.strip("\n") + "\n" if reference else None)


def stub_solution(function_name: str, language: str) -> str:
    """A do-nothing solution: a validator it passes completely checks nothing."""
    if language == "python":
        return f"def {function_name}(*args, **kwargs):\n    raise NotImplementedError('stub')\n"
    return (f"function {function_name}() {{ throw new Error('stub'); }}\n"
            f"module.exports = {{ {function_name} }};\n")


# -- players ------------------------------------------------------------------------------------------------
def solution_prompt(challenge: Challenge) -> str:
    fn = challenge.function_name
    if challenge.language == "python":
        tail = (f"Write the complete Python function `{fn}` (standard library only). Reply with the code in one "
                "```python fenced block.")
    else:
        tail = (f"Write the complete JavaScript function `{fn}` (Node.js, no packages) and end with "
                f"`module.exports = {{ {fn} }};`. Reply with the code in one ```javascript fenced block.")
    return f"Solve this programming challenge.\n\n{challenge.text()}\n\n{tail}"


def parse_solution(text: str, challenge: Challenge) -> str:
    code = extract_code(text, challenge.language, must_define=challenge.function_name)
    if len(code) > MAX_CODE_CHARS:
        raise FormatError(f"the code is too long (limit {MAX_CODE_CHARS} characters)")
    if not defines(code, challenge.function_name, challenge.language):
        raise FormatError(f"the code does not define the function {challenge.function_name!r}")
    return code
