"""bench.scale across sittings: the work folder's manifest, what is taken again, what is refused (no Neo4j)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.scale import main, run_options
from bench.scale_report import main as report_main
from bench.scale_report import table
from bench.scale_work import MANIFEST, WorkDir, forget_store, mark_store, store_is
from bench.synth import CatalogueShape, load_catalogue, make_catalogue

GIT = {"commit": "a" * 40, "dirty": False}
OPTIONS = {"shape": {"interactions": 100}, "epochs": 2, "eval_users": 10}


def test_a_folder_of_another_commit_or_other_options_is_refused_in_one_line(tmp_path: Path) -> None:
    WorkDir.open(tmp_path / "w", GIT, OPTIONS)
    with pytest.raises(SystemExit) as other_commit:
        WorkDir.open(tmp_path / "w", {"commit": "b" * 40, "dirty": False}, OPTIONS)
    assert "made by commit aaaaaaaaaa, this checkout is bbbbbbbbbb" in str(other_commit.value)
    with pytest.raises(SystemExit) as other_options:
        WorkDir.open(tmp_path / "w", GIT, OPTIONS | {"epochs": 3})
    assert "epochs 2 -> 3" in str(other_options.value)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(SystemExit, match="not a bench.scale work folder"):
        WorkDir.open(tmp_path / "mine", GIT, OPTIONS)
    for refused in (other_commit, other_options):
        assert "\n" not in str(refused.value)
    assert len(WorkDir.open(tmp_path / "w", GIT, OPTIONS).manifest["sittings"]) == 2  # the same run: accepted


def test_a_finished_stage_is_taken_again_and_a_redone_one_drops_the_later_ones(tmp_path: Path) -> None:
    work = WorkDir.open(tmp_path, GIT, OPTIONS)
    for stage in ("generate", "ingest", "export"):
        work.record(stage, {"seconds": 1.0})
    work.progress("train", {"seconds": 9.0})  # cut short
    again = WorkDir.open(tmp_path, GIT, OPTIONS)
    again.progress("ingest", {"seconds": 4.0})  # a check that is cut short too
    again = WorkDir.open(tmp_path, GIT, OPTIONS)
    assert again.reuse("generate", whole=True) == {"seconds": 1.0, "sitting": 1}
    assert again.reuse("ingest", whole=False) is None  # e.g. the store was replaced
    assert again.done("export") is None and again.reused == ["generate"]
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert set(manifest["stages"]) == {"generate"}
    # the redone stage keeps its own cut attempt; training will start afresh, so its cut attempt is discarded
    assert [a["stage"] for a in manifest["interrupted"]] == ["ingest"]
    assert [a["stage"] for a in manifest["discarded"]] == ["train"]


def test_an_attempt_cut_short_is_kept_with_its_stage(tmp_path: Path) -> None:
    work = WorkDir.open(tmp_path, GIT, OPTIONS)
    work.progress("train", {"seconds": 40.0, "client_peak_mib": 900.0, "server_peak_mib": 700.0})
    # the sitting ends here (killed); the next one continues training and records it
    again = WorkDir.open(tmp_path, GIT, OPTIONS)
    result = again.record("train", {"seconds": 25.0, "client_peak_mib": 800.0, "server_peak_mib": 750.0})
    assert result["sitting"] == 2
    assert result["interrupted"] == [
        {"stage": "train", "sitting": 1, "seconds": 40.0, "client_peak_mib": 900.0, "server_peak_mib": 700.0}
    ]
    assert "running" not in json.loads((tmp_path / MANIFEST).read_text())


def _stages(train: dict) -> dict:
    peaks = {"client_peak_mib": 10.0, "server_peak_mib": 20.0}
    serve = {"requests": 5, "errors": 0, "neighbourhood_load_seconds": 1.0, "serve_rss_listening_mib": 1.0}
    serve |= {"serve_rss_ready_mib": 2.0, "http_p50_ms": 10.0, "bolt_p50_ms": 1.0, "ratio_p50": 10.0}
    serve |= {"http_p99_ms": 20.0, "bolt_p99_ms": 1.0, "ratio_p99": 20.0, "seconds": 3.0}
    return {
        "generate": {"interactions": 100, "triples": 50, "files_mib": 1.0, "seconds": 1.0, "sitting": 1} | peaks,
        "ingest": {"method": "m", "nodes": 3, "relationships": 4, "seconds": 2.0, "sitting": 1} | peaks,
        "export": {"snapshot_mib": 1.0, "seconds": 3.0, "sitting": 1} | peaks,
        "train": {"epochs": 2, "epoch_seconds": [5.0, 6.0], "sitting": 2} | train,
        "serve": serve | peaks | {"sitting": 2},
    }


def test_the_table_counts_a_continued_training_whole_and_names_the_sample() -> None:
    cut = {"stage": "train", "sitting": 1, "seconds": 40.0, "client_peak_mib": 900.0, "server_peak_mib": 700.0}
    users = {"valid": {"users": 10, "of": 95, "sample": True}, "test": {"users": 10, "of": 90, "sample": True}}
    train = {"seconds": 25.0, "client_peak_mib": 800.0, "server_peak_mib": 750.0, "continued_from_epoch": 1}
    text = table(_stages(train | {"interrupted": [cut], "evaluated_users": users}))
    row = next(line for line in text.splitlines() if line.startswith("| train"))
    assert "a seeded sample of 10 of 90 users" in row
    assert "| 65.0 | 900 MiB | 750 MiB |" in row
    assert "train in sitting 2, continued after epoch 1" in text and "1 cut attempt(s) of 40 s" in text


def test_a_training_continued_inside_its_first_epoch_counts_as_continued() -> None:
    cut = {"stage": "train", "sitting": 1, "seconds": 600.0, "client_peak_mib": 900.0, "server_peak_mib": 700.0}
    train = {"seconds": 25.0, "client_peak_mib": 800.0, "server_peak_mib": 750.0}
    text = table(_stages(train | {"continued_from_epoch": 0, "continued_at_batch": 812, "interrupted": [cut]}))
    assert "continued inside epoch 1, after its batch 812" in text
    assert "| 625.0 | 900 MiB | 750 MiB |" in next(line for line in text.splitlines() if line.startswith("| train"))


def test_the_catalogue_is_taken_again_only_when_it_was_finished(tmp_path: Path) -> None:
    shape = CatalogueShape(interactions=300, users=40, items=100, triples=200, seed=3)
    assert load_catalogue(tmp_path, shape) is None
    made = make_catalogue(tmp_path, shape)
    assert load_catalogue(tmp_path, shape) == made
    assert load_catalogue(tmp_path, CatalogueShape(interactions=300, users=40, items=100, triples=200, seed=4)) is None
    (made.data_dir / made.name / "complete.json").unlink()  # as if generation had been cut short
    assert load_catalogue(tmp_path, shape) is None


def test_the_store_note_ties_the_graph_to_its_work_folder(tmp_path: Path) -> None:
    mine, other = WorkDir.open(tmp_path / "a", GIT, OPTIONS), WorkDir.open(tmp_path / "b", GIT, OPTIONS)
    mark = mark_store(tmp_path, mine, {"nodes": 3, "relationships": 4})
    assert store_is(tmp_path, mine, mark) and not store_is(tmp_path, other, mark)
    mark_store(tmp_path, other, {"nodes": 3, "relationships": 4})  # another run ingested since
    assert not store_is(tmp_path, mine, mark)
    forget_store(tmp_path)
    assert not store_is(tmp_path, other, mark)


def test_resume_needs_a_work_folder_and_the_sample_is_an_option_of_the_run(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--fraction", "0.01", "--resume"])
    assert "--resume needs --work-dir" in capsys.readouterr().err
    from argparse import Namespace

    args = Namespace(quick=False, fraction=0.01, epochs=2, threads=2, eval_users=500, requests=20, heap="1g")
    options = run_options(Namespace(**vars(args), pagecache="1g"))
    assert options["eval_users"] == 500 and options["shape"]["interactions"] == 100_000


def test_a_second_run_is_refused_and_leaves_the_running_one_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench.scale as scale
    from bench.instance import held

    settings = scale.settings_for("1g", "1g").model_copy(update={"home": tmp_path})
    monkeypatch.setattr(scale, "settings_for", lambda heap, pagecache: settings)
    stopped: list[object] = []
    monkeypatch.setattr(scale.LocalNeo4j, "stop", lambda self: stopped.append(self))
    lock = settings.instance_dir.parent / f"{scale.INSTANCE}.lock"
    assert lock.is_relative_to(tmp_path)  # never the lock of a real run on this machine
    # the first holder is the running one; the second run must be refused
    with held(lock, "the first run"), pytest.raises(SystemExit, match=r"another bench.scale run .*pid \d+"):
        main(["--quick", "--resume", "--work-dir", str(tmp_path / "work")])
    assert stopped == []  # its server was not stopped
    assert not (tmp_path / "work").exists()  # nor its folder touched


def test_the_readme_block_is_the_result_files_table_and_nothing_else_moves(tmp_path: Path) -> None:
    train = {"seconds": 25.0, "client_peak_mib": 800.0, "server_peak_mib": 750.0}
    provenance = {"commit": "abcdef1234", "dirty": False, "date": "2026-12-02T01:00:00+00:00"}
    provenance |= {"machine": {"cpu": "AMD EPYC", "cores": 2, "gpu": None}}
    provenance |= {"load_average_1min": {"before": 0.5, "after": 2.1}}
    options = {"heap": "4g", "pagecache": "4g", "threads": "2"}
    result = {"stages": _stages(train), "options": options, "provenance": provenance, "sittings": [{}, {}]}
    (tmp_path / "r.json").write_text(json.dumps(result))
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- scale:begin -->\nold\n<!-- scale:end -->\nafter\n")
    assert report_main([str(tmp_path / "r.json"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# x\n<!-- scale:begin -->\nCommit `abcdef1`, 2026-12-02, 2 CPUs (AMD EPYC), no GPU")
    assert "2 sitting(s), load average 0.5 at the start of the last and 2.1 at its end" in text
    assert table(result["stages"]) in text and "old" not in text and text.endswith("<!-- scale:end -->\nafter\n")
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit):
        report_main([str(tmp_path / "r.json"), "--readme", str(readme)])
    assert readme.read_text() == "no markers\n"
