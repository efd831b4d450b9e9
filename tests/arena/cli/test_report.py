"""`arena report`: one self-contained HTML file, rendered in a real browser (headless Chromium).

A small scripted tournament (chess and predict-output with referees, a loop-style lineage rnd /
rnd-g1, and a player whose name and answers carry a <script>) is reported; Chromium renders the
page to a PNG and dumps its DOM, and the page must show every section's picture, log no console
error, and never run the injected script.
"""
from __future__ import annotations

import base64
import io
import re
import shutil
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from arena.cli import main
from arena.engine.store import Store
from arena.records import Entry, MatchResult, RankedSet, ScheduledMatch

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                    "(Debian: apt-get install chromium)")

# $x^$ is broken TeX: a figure that parsed names as mathtext would fail on it
EVIL = "$x^$<script>document.title='pwned'</script>"
CONFIG = f"""
[tournament]
name = "report-test"
families = ["chess", "predict-output"]
players = ["rnd", "rnd-g1", "{EVIL}"]
referees = ["rnd", "author"]
rounds = 1
seed = 5

[families.chess]
max_plies = 10

[families.predict-output]
timeout_s = 2.0

[[variants]]
name = "rnd"
model = "mock/random"

[[variants]]
name = "rnd-g1"
model = "mock/first"

[[variants]]
name = "author"
model = "mock/constant"
text = '{{"question": "What is printed?", "program": "print(sum(range(10)))"}}'

[[variants]]
name = "{EVIL}"
model = "mock/constant"
text = "<script>document.title='pwned'</script><img src=x onerror=\\"document.title='pwned'\\">45"
"""
SECTIONS = ("leaderboard", "generations", "head-to-head", "referees", "scores", "diversity", "usage")


def arena(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arena.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, check=False)


def chromium(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *flags,
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


class Page(HTMLParser):
    """The title, each section's id and the images (and scripts) inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.title, self.sections, self.scripts, self.refs = "", {}, 0, []
        self._in_title, self._section = False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.refs += [v or "" for k, v in attrs if k in ("src", "href", "action", "srcset", "data")]
        if tag == "title":
            self._in_title = True
        elif tag == "section":
            self._section = a.get("id")
            self.sections[self._section] = {"imgs": [], "empty": False}
        elif tag == "img" and self._section:
            self.sections[self._section]["imgs"].append(a.get("src") or "")
        elif tag == "script":
            self.scripts += 1
        elif tag == "p" and self._section and "empty" in (a.get("class") or ""):
            self.sections[self._section]["empty"] = True

    def handle_endtag(self, tag):
        self._in_title = self._in_title and tag != "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def decode_png(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,"), uri[:60]
    img = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1], validate=True)))
    img.load()
    return img


def non_blank(img: Image.Image) -> bool:
    lo, hi = img.convert("L").getextrema()
    return hi - lo > 50


@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("report")
    cfg, run, out = tmp / "t.toml", tmp / "run", tmp / "report.html"
    cfg.write_text(CONFIG)
    proc = arena("run", str(cfg), "--run-dir", str(run), "--display", "none")
    assert proc.returncode == 0, proc.stderr
    proc = arena("report", "--run-dir", str(run), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout
    return tmp, run, out.read_text(encoding="utf-8")


def test_report_is_one_self_contained_file_with_every_section(reported):
    tmp, run, text = reported
    assert not list(tmp.glob("*.part")), "the temporary of the atomic write is left behind"
    # Nothing to fetch: no script, no link, no remote or file reference; pictures are data URIs.
    assert "<script" not in text.lower() and "<link" not in text.lower()
    page = Page()
    page.feed(text)
    assert all(ref.startswith(("data:", "#")) for ref in page.refs), "a reference outside the file"
    assert page.title == "Arena report" and page.scripts == 0
    assert list(page.sections) == list(SECTIONS)
    for key in SECTIONS:
        section = page.sections[key]
        assert not section["empty"], f"section {key} says no data"
        assert len(section["imgs"]) == 1, key
        assert non_blank(decode_png(section["imgs"][0])), f"section {key}'s picture is blank"
    # The numbers a user reads: every player on the board, the lineage's generations, the referees.
    for name in ("rnd", "rnd-g1", "author"):
        assert f"<td>{name}</td>" in text
    assert "$x^$&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in text
    assert "Bradley-Terry" in text or "TrueSkill" in text
    # tokens per variant and role: the referee's calls as stored
    db = sqlite3.connect(run / "arena.sqlite")
    calls, tokens_in = db.execute("SELECT COUNT(*), SUM(input_tokens) FROM calls WHERE variant='author' "
                                  "AND role='referee'").fetchone()
    db.close()
    assert calls > 0
    assert f'<td>author</td><td>referee</td><td class="num">{calls}</td><td class="num">{tokens_in}</td>' in text


@needs_chromium
def test_report_renders_in_headless_chromium_without_errors_or_injected_script(reported):
    tmp, _, _ = reported
    page_file = tmp / "report.html"
    shot = tmp / "report.png"
    proc = chromium(page_file, tmp / "profile", f"--screenshot={shot}", "--window-size=1200,5000")
    assert shot.is_file(), proc.stderr[-2000:]
    img = Image.open(shot)
    assert img.size == (1200, 5000) and non_blank(img)
    assert not console_lines(proc.stderr), console_lines(proc.stderr)

    proc = chromium(page_file, tmp / "profile", "--dump-dom")
    assert not console_lines(proc.stderr), console_lines(proc.stderr)
    dom = Page()
    dom.feed(proc.stdout)
    assert dom.title == "Arena report", "a script in a variant's name or answer ran"
    assert dom.scripts == 0
    assert set(dom.sections) == set(SECTIONS)
    for key, section in dom.sections.items():
        assert len(section["imgs"]) == 1 and non_blank(decode_png(section["imgs"][0])), key


@needs_chromium
def test_the_browser_check_sees_a_script_that_runs(tmp_path):
    """The harness itself: a page whose script runs and logs an error is caught by both checks."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><title>report</title><script>document.title='pwned'; undefinedFn()</script>")
    proc = chromium(bad, tmp_path / "profile", "--dump-dom")
    dom = Page()
    dom.feed(proc.stdout)
    assert dom.title == "pwned"
    assert any("Uncaught" in line for line in console_lines(proc.stderr))


def test_one_tournament_of_the_run_and_no_data_sections(tmp_path, capsys):
    run = tmp_path / "run"
    store = Store(run)
    store.ensure_tournament("empty-1", "empty", {}, 0, {})
    store.ensure_tournament("other-1", "other", {}, 1, {})
    outcome = RankedSet("player", [{"role": "user", "content": "q"}], [Entry("alpha", "a", 0, 1.0),
                                                                       Entry("beta", "b", 1, 0.0)])
    store.commit_match(ScheduledMatch("m-1", "other-1", "trivia", ("alpha", "beta"), 0, 0, 0, 1),
                       MatchResult([outcome], details={"self_similarity": {"alpha": 0.25}}), [], [], 0.0)
    store.close()

    out = tmp_path / "empty.html"
    assert main(["report", "--run-dir", str(run), "--tournament", "empty-1", "--out", str(out)]) == 0
    page = Page()
    page.feed(out.read_text())
    assert list(page.sections) == list(SECTIONS)
    assert all(s["empty"] and not s["imgs"] for s in page.sections.values())
    assert "alpha" not in out.read_text()

    assert main(["report", "--run-dir", str(run), "--tournament", "other-1", "--out", str(out)]) == 0
    text = out.read_text()
    assert "<td>alpha</td>" in text and "<td>beta</td>" in text
    page = Page()
    page.feed(text)
    assert not page.sections["scores"]["empty"] and not page.sections["head-to-head"]["empty"]
    assert page.sections["referees"]["empty"] and page.sections["generations"]["empty"]
    # the self-similarity the family stored is shown beside the variant's diversity
    assert re.search(r"<td>alpha</td><td[^>]*>[^<]*</td><td[^>]*>0\.250</td>", text), text
    capsys.readouterr()
    assert main(["report", "--run-dir", str(run), "--tournament", "other-1", "--out", "-"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")


def test_bad_input_gets_one_clear_line(tmp_path, capsys):
    run = tmp_path / "run"
    Store(run).close()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [
        (("--run-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r.html")), "run directory not found"),
        (("--run-dir", str(tmp_path), "--out", str(tmp_path / "r.html")), "no arena run"),
        (("--run-dir", str(run), "--tournament", "nope", "--out", str(tmp_path / "r.html")), "unknown tournament"),
        (("--run-dir", str(run), "--out", str(tmp_path / "missing" / "r.html")), "does not exist"),
        (("--run-dir", str(run), "--out", str(a_file / "r.html")), "does not exist"),
        (("--run-dir", str(run), "--out", str(tmp_path)), "is a directory"),
        (("--run-dir", str(run), "--out", ""), "--out is empty"),
        (("--run-dir", str(run), "--bootstrap", "0", "--out", str(tmp_path / "r.html")), "--bootstrap"),
    ]
    for args, needle in cases:
        assert main(["report", *args]) != 0, args
        err = capsys.readouterr().err
        assert needle in err, (args, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "r.html").exists()
