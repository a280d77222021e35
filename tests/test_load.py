import sys
import unicodedata
from pathlib import Path

from vectorstore.article import Article
from vectorstore.formats.record import _INVISIBLE
from vectorstore.load import MAX_ARTICLE_BYTES, clean_text, iter_sources, load_paths, title_of

ARTICLES = Path(__file__).parent / "fixtures" / "articles"


def test_article_id_is_relative_path_without_extension(tmp_path: Path):
    (tmp_path / "world").mkdir()
    (tmp_path / "world" / "a.txt").write_text("Title A\nBody.")
    (tmp_path / "b.md").write_text("# **Title B**\nBody.")
    (tmp_path / "ignored.pdf").write_text("x")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.txt").write_text("Hidden\nNot an article.")
    [result] = load_paths([tmp_path]).values()
    assert sorted(a.article_id for a in result.articles) == ["b", "world/a"]
    assert result.rejected == []


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


def test_clean_text_drops_exactly_unicodes_control_characters_and_surrogates():
    every = "".join(map(chr, range(sys.maxunicode + 1))).replace("\r", "")
    visible = clean_text(every)
    assert visible == "".join(ch for ch in every.translate(_INVISIBLE) if ch in "\n\t"
                              or unicodedata.category(ch) not in ("Cc", "Cs"))
    assert "\n" in visible and "\t" in visible and "\u200b" not in visible


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


def test_a_file_of_an_unknown_format_given_by_name_is_rejected(tmp_path: Path):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    [result] = load_paths([tmp_path / "notes.pdf"]).values()
    assert "not a supported format (.txt, .md, .html" in result.rejected[0].reason


def test_sources_say_which_origins_replace_and_which_accumulate(tmp_path: Path):
    folder = tmp_path / "news"
    folder.mkdir()
    for name in ("news.csv", "page.html", "rates.rss", "wires.atom"):
        (folder / name).write_bytes((ARTICLES / name).read_bytes())
    sources = [(s.origin, s.replaces, s.items) for s in iter_sources([folder, tmp_path / "x"])]
    origins = [(origin, replaces) for origin, replaces, _ in sources]
    assert origins == [(str(folder.resolve()), True),
                       (str((folder / "rates.rss").resolve()), False),
                       (str((folder / "wires.atom").resolve()), False),
                       (str(tmp_path / "x"), False)]  # no such file: replaces nothing
    # Items are read lazily, as the ingestor asks for them.
    first = next(sources[0][2])
    assert isinstance(first, Article) and first.article_id == "news/q-101"


def test_a_file_named_twice_is_read_once():
    sources = list(iter_sources([ARTICLES / "news.csv", ARTICLES / "news.csv"]))
    assert [len(list(s.items)) for s in sources] == [3]
