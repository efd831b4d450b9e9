"""Where trivia pages come from.

family option `source` (default "builtin"):
- "builtin"   ~40 short encyclopedic paragraphs shipped in tournaments/families/trivia/pages.jsonl (no download)
- "jsonl"     `path` = a JSON Lines file of {"title": ..., "text": ...}
- "xml"       `path` = a MediaWiki XML dump, plain .xml or .xml.bz2, stream-parsed (bounded memory)
- "folder"    `path` = a folder of .txt / .md files (title = file name)
- "wikipedia" the Wikipedia REST API's random page summary, online only; if the request fails
              the match uses a builtin page and records why (details["page_fallback"])
With `path` and no `source`, the kind is inferred from the path. Offline sources keep at most
`max_pages` usable pages (default 5000, in file order) and drop pages shorter than `min_chars`
(default 200). Bad options fail once, at family creation, with one line.
"""
from __future__ import annotations

import bz2
import json
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from arena.engine.family import FamilyOptionError, family_options
from arena.schema import Schema, setting

WIKIPEDIA_RANDOM = "https://en.wikipedia.org/api/rest_v1/page/random/summary"
SOURCES = ("builtin", "jsonl", "xml", "folder", "wikipedia")


@dataclass(frozen=True)
class Page:
    title: str
    text: str
    origin: str  # file path, URL or "builtin"


class PageSource(Protocol):
    kind: str

    async def random_page(self, rng: random.Random) -> Page: ...


class PageSourceError(Exception):
    """No page could be had from this source."""


# -- wikitext ----------------------------------------------------------------------------------------
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_REF = re.compile(r"<ref[^>]*/>|<ref[^>]*>.*?</ref>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_TABLE = re.compile(r"\{\|.*?\|\}", re.S)
_FILE = re.compile(r"\[\[(?:File|Image|Category):[^\[\]]*(?:\[\[[^\[\]]*\]\][^\[\]]*)*\]\]", re.I)
_LINK = re.compile(r"\[\[(?:[^|\[\]]*\|)?([^\[\]]*)\]\]")
_EXTLINK = re.compile(r"\[https?://[^\s\]]+\s?([^\]]*)\]")
_HEADING = re.compile(r"^=+\s*(.*?)\s*=+\s*$", re.M)
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")


def wikitext_to_text(markup: str) -> str:
    """Plain prose from MediaWiki markup (good enough for question writing, not a full parser)."""
    s = _COMMENT.sub("", markup)
    s = _REF.sub("", s)
    for _ in range(6):  # nested templates, innermost first
        s, n = _TEMPLATE.subn("", s)
        if not n:
            break
    s = _TABLE.sub("", s)
    s = _FILE.sub("", s)
    s = _LINK.sub(r"\1", s)
    s = _EXTLINK.sub(r"\1", s)
    s = _HEADING.sub(r"\1.", s)
    s = _TAG.sub("", s)
    s = s.replace("'''", "").replace("''", "")
    lines = [ln.strip() for ln in s.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("*", "#", "|", "!", "{", "}", ":"))]
    return re.sub(r"[ \t]+", " ", "\n".join(lines)).strip()


# -- offline sources ---------------------------------------------------------------------------------
def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def iter_xml_pages(path: Path):
    """(title, plain text) of main-namespace, non-redirect pages, streamed."""
    opener = bz2.open if path.name.endswith(".bz2") else open
    with opener(path, "rb") as fh:
        title, ns, text, redirect = None, "0", None, False
        for event, elem in ET.iterparse(fh, events=("end",)):
            name = _local_name(elem.tag)
            if name == "title":
                title = elem.text or ""
            elif name == "ns":
                ns = (elem.text or "0").strip()
            elif name == "redirect":
                redirect = True
            elif name == "text":
                text = "".join(elem.itertext())
            elif name == "page":
                if title and ns == "0" and not redirect and text and not text.lstrip().lower().startswith("#redirect"):
                    yield title, wikitext_to_text(text)
                title, ns, text, redirect = None, "0", None, False
                elem.clear()


def iter_jsonl_pages(path: Path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue  # one bad line does not spoil the file
            if isinstance(obj, dict) and isinstance(obj.get("title"), str) and isinstance(obj.get("text"), str):
                yield obj["title"], obj["text"]


def iter_folder_pages(path: Path):
    for f in sorted(path.rglob("*")):
        if f.is_file() and f.suffix.lower() in (".txt", ".md", ".text"):
            try:
                yield f.stem.replace("_", " "), f.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue


class LocalPages:
    """A bounded list of pages loaded once from a local source."""

    def __init__(self, kind: str, pages: list[Page]):
        self.kind = kind
        self.pages = pages

    async def random_page(self, rng: random.Random) -> Page:
        return rng.choice(self.pages)


def builtin_pages() -> list[Page]:
    text = resources.files("tournaments.families.trivia").joinpath("pages.jsonl").read_text(encoding="utf-8")
    return [Page(t, x, "builtin") for t, x in _jsonl_lines(text)]


def _jsonl_lines(text: str):
    for line in text.splitlines():
        if line.strip():
            obj = json.loads(line)
            yield obj["title"], obj["text"]


def load_local(kind: str, path: Path, *, max_pages: int, min_chars: int) -> LocalPages:
    readers = {"xml": iter_xml_pages, "jsonl": iter_jsonl_pages, "folder": iter_folder_pages}
    pages: list[Page] = []
    try:
        for title, text in readers[kind](path):
            text = text.strip()
            if len(text) >= min_chars:
                pages.append(Page(title.strip() or "untitled", text, str(path)))
                if len(pages) >= max_pages:
                    break
    except (ET.ParseError, OSError, EOFError, UnicodeDecodeError) as exc:
        if not pages:
            raise PageSourceError(f"cannot read {kind} pages from {path}: {exc}") from None
    if not pages:
        raise PageSourceError(f"no usable page (>= {min_chars} characters) in {path}")
    return LocalPages(kind, pages)


# -- online ------------------------------------------------------------------------------------------
class WikipediaRandom:
    """Random page summaries from the Wikipedia REST API; only when the config asks for it."""

    kind = "wikipedia"

    def __init__(self, url: str = WIKIPEDIA_RANDOM, timeout_s: float = 15.0, min_chars: int = 200):
        self.url, self.timeout_s, self.min_chars = url, timeout_s, min_chars
        self.fallback = LocalPages("builtin", builtin_pages())

    async def fetch(self) -> Page:
        import aiohttp
        headers = {"User-Agent": "arena-trivia/0.1 (https://github.com/; offline-first tournament engine)",
                   "Accept": "application/json"}
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            for _ in range(3):  # short stubs are common: draw again
                async with session.get(self.url) as resp:
                    if resp.status != 200:
                        raise PageSourceError(f"Wikipedia answered HTTP {resp.status}")
                    data: Any = await resp.json(content_type=None)
                text = (data.get("extract") or "").strip() if isinstance(data, dict) else ""
                if len(text) >= self.min_chars:
                    url = ((data.get("content_urls") or {}).get("desktop") or {}).get("page") or self.url
                    return Page(str(data.get("title") or "untitled"), text, url)
        raise PageSourceError("Wikipedia returned only stub pages")

    async def random_page(self, rng: random.Random) -> Page:
        return await self.fetch()


class PageOptions(Schema):
    """The family options that choose the page source; the trivia family's options extend them."""
    source: str = ""  # "": told by `path`, or the builtin pages without one
    path: str = ""
    max_pages: int = setting(5000, ge=1)
    min_chars: int = setting(200, ge=1)


def open_source(options: dict[str, Any] | PageOptions, family: str = "trivia") -> PageSource:
    """The page source the family options ask for (validated here, one line on error)."""
    opts = options if isinstance(options, PageOptions) else family_options(PageOptions, options, family)
    kind = opts.source or ("" if opts.path else "builtin")
    max_pages, min_chars = opts.max_pages, opts.min_chars
    path = Path(opts.path).expanduser() if opts.path else None
    if not kind:
        assert path is not None
        kind = ("folder" if path.is_dir() else "xml" if path.name.endswith((".xml", ".xml.bz2", ".bz2"))
                else "jsonl" if path.suffix == ".jsonl" else "")
        if not kind:
            raise FamilyOptionError(f"[families.{family}] cannot tell the page source of {path}; "
                                    f"set source = one of {', '.join(SOURCES)}")
    if kind not in SOURCES:
        raise FamilyOptionError(f"[families.{family}] source must be one of {', '.join(SOURCES)}, got {kind!r}")
    if kind == "builtin":
        return LocalPages("builtin", [p for p in builtin_pages() if len(p.text) >= min(min_chars, 200)])
    if kind == "wikipedia":
        return WikipediaRandom(min_chars=min_chars)
    if path is None:
        raise FamilyOptionError(f"[families.{family}] source = {kind!r} needs path = \"...\"")
    if kind == "folder" and not path.is_dir():
        raise FamilyOptionError(f"[families.{family}] path {path} is not a folder")
    if kind != "folder" and not path.is_file():
        raise FamilyOptionError(f"[families.{family}] page file not found: {path}")
    try:
        return load_local(kind, path, max_pages=max_pages, min_chars=min_chars)
    except PageSourceError as exc:
        raise FamilyOptionError(f"[families.{family}] {exc}") from None
