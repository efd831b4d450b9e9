import asyncio
import bz2
import json
import random

import pytest

from arena.engine.family import FamilyOptionError
from tournaments.families.trivia.pages import WikipediaRandom, builtin_pages, open_source, wikitext_to_text

LONG = "The river flows through many countries and is important for trade. " * 5

XML = f"""<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">
  <page><title>Danube River</title><ns>0</ns><revision><text>'''Danube''' is a [[river|long river]] in
[[Europe]].{{{{Infobox river|name=Danube}}}}&lt;ref&gt;a source&lt;/ref&gt;
== History ==
{LONG}
[[Category:Rivers]]</text></revision></page>
  <page><title>Talk:Danube</title><ns>1</ns><revision><text>{LONG}</text></revision></page>
  <page><title>Donau</title><ns>0</ns><redirect title="Danube River"/><revision><text>#REDIRECT [[Danube River]]</text></revision></page>
  <page><title>Stub</title><ns>0</ns><revision><text>Too short.</text></revision></page>
</mediawiki>"""


def pick(source, seed=1):
    return asyncio.run(source.random_page(random.Random(seed)))


def test_builtin_source_needs_no_download():
    pages = builtin_pages()
    assert 30 <= len(pages) <= 60
    assert all(len(p.text) >= 200 and p.title for p in pages)
    assert pick(open_source({})).origin == "builtin"


def test_xml_dump_plain_and_bz2(tmp_path):
    plain = tmp_path / "dump.xml"
    plain.write_text(XML, encoding="utf-8")
    packed = tmp_path / "dump.xml.bz2"
    packed.write_bytes(bz2.compress(XML.encode()))
    for path in (plain, packed):
        source = open_source({"path": str(path)})
        assert source.kind == "xml"
        titles = [p.title for p in source.pages]
        assert titles == ["Danube River"]  # talk page, redirect and stub are skipped
        text = source.pages[0].text
        assert "long river in Europe" in " ".join(text.split()) and "Infobox" not in text and "a source" not in text
        assert "[[" not in text and "Category" not in text


def test_jsonl_source_skips_bad_lines(tmp_path):
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join([json.dumps({"title": "Good", "text": LONG}), "{broken", json.dumps({"title": 3}),
                               json.dumps({"title": "Short", "text": "tiny"})]), encoding="utf-8")
    source = open_source({"source": "jsonl", "path": str(path)})
    assert [p.title for p in source.pages] == ["Good"]
    assert pick(source).text == LONG.strip()


def test_folder_source(tmp_path):
    (tmp_path / "Blue_whale.txt").write_text(LONG, encoding="utf-8")
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01")
    (tmp_path / "short.md").write_text("hi", encoding="utf-8")
    source = open_source({"path": str(tmp_path), "min_chars": 50})
    assert [p.title for p in source.pages] == ["Blue whale"]


def test_max_pages_bounds_memory(tmp_path):
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(json.dumps({"title": f"P{k}", "text": LONG}) for k in range(20)), encoding="utf-8")
    assert len(open_source({"path": str(path), "max_pages": 5}).pages) == 5


@pytest.mark.parametrize("options, message", [
    ({"source": "jsonl"}, "needs path"),
    ({"source": "nowhere"}, "source must be one of"),
    ({"path": "/no/such/file.jsonl"}, "not found"),
    ({"path": "/tmp/x.csv"}, "cannot tell"),
    ({"max_pages": 0}, ">= 1"),
])
def test_bad_page_options_are_one_clear_error(options, message):
    with pytest.raises(FamilyOptionError, match=message):
        open_source(options)


def test_empty_or_broken_files_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(FamilyOptionError, match="no usable page"):
        open_source({"path": str(empty)})
    broken = tmp_path / "broken.xml"
    broken.write_text("<mediawiki><page><title>x", encoding="utf-8")
    with pytest.raises(FamilyOptionError, match="cannot read xml pages|no usable page"):
        open_source({"path": str(broken)})


def test_wikitext_cleanup():
    text = wikitext_to_text("{{Infobox|a={{nested}}}}'''Bold''' and [[Target|shown]] [https://x.org label]\n"
                            "{| class=wikitable\n| cell\n|}\n* list item\n== Section ==\nProse.<!-- hidden -->")
    assert text == "Bold and shown label\nSection.\nProse."


def test_wikipedia_source_is_online_only_and_not_called_on_creation():
    source = open_source({"source": "wikipedia"})
    assert isinstance(source, WikipediaRandom) and source.fallback.pages  # no request made here


def test_wikipedia_client_against_a_local_server():
    """The REST client path, served by a local aiohttp server (no network in tests)."""
    from aiohttp import web

    async def scenario():
        hits = {"n": 0}

        async def summary(request):
            hits["n"] += 1
            if hits["n"] == 1:  # a stub first: the client draws again
                return web.json_response({"title": "Stub", "extract": "Short."})
            return web.json_response({"title": "Tardigrade", "extract": LONG,
                                      "content_urls": {"desktop": {"page": "https://example.org/Tardigrade"}}})

        async def broken(request):
            return web.Response(status=503)

        app = web.Application()
        app.router.add_get("/summary", summary)
        app.router.add_get("/broken", broken)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            page = await WikipediaRandom(f"http://127.0.0.1:{port}/summary", timeout_s=5).random_page(random.Random(1))
            assert (page.title, page.origin, hits["n"]) == ("Tardigrade", "https://example.org/Tardigrade", 2)
            with pytest.raises(Exception, match="HTTP 503"):
                await WikipediaRandom(f"http://127.0.0.1:{port}/broken", timeout_s=5).random_page(random.Random(1))
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
