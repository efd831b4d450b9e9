import pytest

from arena.files import atomic_write


def test_the_file_appears_only_when_writing_succeeded(tmp_path):
    out = tmp_path / "pairs.jsonl"
    out.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-file")
    assert out.read_text() == "old\n" and not (tmp_path / "pairs.jsonl.part").exists()

    with atomic_write(out) as tmp:
        assert tmp.parent == out.parent and tmp != out
        tmp.write_text("new\n")
    assert out.read_text() == "new\n" and list(tmp_path.iterdir()) == [out]
