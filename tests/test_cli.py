from app import create_app


def test_ingest_command_prints_a_summary_and_is_idempotent(settings, fake_embedder, seeds_dir):
    app = create_app(settings, embedder_factory=lambda: fake_embedder)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["ingest", str(seeds_dir)])
    assert first.exit_code == 0, first.output
    assert "5 articles:" in first.output and "0 unchanged" in first.output
    second = runner.invoke(args=["ingest"])
    assert "0 chunks added" in second.output and "0 removed" in second.output


def test_ingest_reports_skipped_files(settings, fake_embedder, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad.txt").write_bytes(b"\xff\xfe")
    app = create_app(settings, embedder_factory=lambda: fake_embedder)
    result = app.test_cli_runner().invoke(args=["ingest", str(folder)])
    assert "skipped" in result.output and "not UTF-8" in result.output


def test_first_request_seeds_an_empty_store(client):
    r = client.get("/articles")
    assert len(r.get_json()["articles"]) == 5


def test_ingest_lists_rejected_rows_by_number(settings, fake_embedder, tmp_path):
    from tests.test_format_rows import ARTICLES

    app = create_app(settings, embedder_factory=lambda: fake_embedder)
    result = app.test_cli_runner().invoke(args=["ingest", str(ARTICLES / "malformed.csv")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("3 articles:")
    assert f"skipped {ARTICLES / 'malformed.csv'} row 4: is not UTF-8 text" in lines
    assert f"skipped {ARTICLES / 'malformed.csv'} row 6: repeats id malformed/1 (row 1)" in lines
    assert "cleaned malformed/7: published 'next Tuesday' has no year" in lines


def test_ingest_summary_counts_what_it_does_not_list(settings, fake_embedder, tmp_path):
    path = tmp_path / "mostly-bad.csv"
    path.write_text("id,text\n" + "".join(f"{n},\n" for n in range(1, 31)) + "31,Fine row.\n")
    app = create_app(settings, embedder_factory=lambda: fake_embedder)
    result = app.test_cli_runner().invoke(args=["ingest", str(path)])
    assert result.output.count("skipped ") == 21
    assert f"skipped 10 more records of {path}: 10 no text" in result.output
