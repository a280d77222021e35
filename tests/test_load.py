from pathlib import Path

from vectorstore.load import MAX_ARTICLE_BYTES, clean_text, load_paths, title_of


def test_article_id_is_relative_path_without_extension(tmp_path: Path):
    (tmp_path / "world").mkdir()
    (tmp_path / "world" / "a.txt").write_text("Title A\nBody.")
    (tmp_path / "b.md").write_text("# **Title B**\nBody.")
    (tmp_path / "ignored.csv").write_text("x")
    [result] = load_paths([tmp_path]).values()
    assert sorted(a.article_id for a in result.articles) == ["b", "world/a"]


def test_title_is_first_non_empty_line_without_emphasis():
    assert title_of("\n\n**Ukraine’s Defense Potential: A Call to Action**\nBody") == (
        "Ukraine’s Defense Potential: A Call to Action"
    )
    assert title_of("  _Quiet_ *news* day  \nBody") == "Quiet news day"


def test_seed_titles_follow_the_contract():
    [result] = load_paths([Path("seeds")]).values()
    titles = {a.article_id: a.title for a in result.articles}
    assert titles["001_757337abefd0f303"] == "Ukraine’s Defense Potential: A Call to Action"
    assert len(titles) == 5


def test_clean_text_drops_invisible_and_control_characters():
    assert clean_text("a\u200bb\x00c\r\nd\ufeff") == "abc\nd"


def test_bad_files_are_rejected_with_a_reason(tmp_path: Path):
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "empty.txt").write_text("  \n ")
    (tmp_path / "huge.txt").write_bytes(b"a " * (MAX_ARTICLE_BYTES // 2 + 10))
    [result] = load_paths([tmp_path]).values()
    reasons = {Path(r.path).name: r.reason for r in result.rejected}
    assert reasons["binary.txt"] == "not UTF-8 text"
    assert reasons["empty.txt"] == "empty"
    assert "larger than" in reasons["huge.txt"]
    assert result.articles == []
