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
