"""Declared search spaces: the committed file parses; bad declarations fail with file and place; the sampler."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.spaces import load_spaces, sample
from kgrec.errors import ConfigError


def test_the_committed_spaces_declare_every_model_and_both_catalogues() -> None:
    spaces = load_spaces()
    assert {"pop", "bprmf", "lightgcn", "kgrec", "kgrec-default"} <= set(spaces.models)
    assert [m.name for m in spaces.models.values() if m.default] == ["kgrec-default"]
    assert {"movielens", "lastfm"} <= set(spaces.datasets)
    # every searched model has room for at least 8 distinct trials
    assert all(m.grid_size() >= 8 for m in spaces.models.values() if m.space)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[models.x]\nbase = { model = "bprmf" }\nspace.learning_rate = [0.1]\n', "unknown training settings"),
        ('[models.x]\nbase = { model = "bprmf" }\nspace.lr = []\n', "models.x.space.lr: expected a non-empty list"),
        ('[models.x]\nbase = { model = "bprmf" }\nspace.lr = [-1.0]\n', "models.x.space.lr"),
        ("[models.x]\nspace.lr = [0.1]\n", "needs model = "),
        ('[common]\nlr = 0.1\n[models.x]\nbase = { model = "pop" }\n', "only epochs"),
        ("[models.x\n", "spaces.toml"),
        ('[models.x]\nbase = { model = "pop" }\ndatasets = ["books"]\n', "models.x.datasets: unknown books"),
        ('[models.x]\nbase = { model = "bprmf" }\nspace.lr = [0.1]\nablation = "y"\n', "no space, not default"),
    ],
)
def test_a_bad_declaration_names_file_and_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "spaces.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_spaces(path)
    assert str(path) in str(info.value)


def test_ablations_are_the_default_without_one_part_on_the_catalogues_that_have_it() -> None:
    spaces = load_spaces()
    ablations = {name: m for name, m in spaces.models.items() if m.ablation}
    assert {"kgrec-no-kg", "kgrec-no-tags", "kgrec-no-friends", "kgrec-no-dbpedia", "kgrec-no-satori"} <= set(ablations)
    assert all(m.from_default and not m.space and not m.default for m in ablations.values())
    assert spaces.models["kgrec-no-tags"].runs_on("lastfm") and not spaces.models["kgrec-no-tags"].runs_on("movielens")
    assert spaces.models["kgrec-no-kg"].runs_on("movielens") and spaces.models["kgrec-no-kg"].runs_on("lastfm")
    tags = spaces.base_config(spaces.models["kgrec-no-tags"], "lastfm")
    default = spaces.base_config(spaces.models["kgrec-default"], "lastfm")
    assert tags == default | {"drop_relations": ["HAS_TAG"]}


def test_sampler_is_seeded_distinct_and_inside_the_grid() -> None:
    space = {"lr": [1e-3, 1e-2], "layers": [1, 2, 3], "reg_weight": [0.0, 1e-4]}
    points = sample(space, 8, seed=5)
    assert points == sample(space, 8, seed=5)
    assert points != sample(space, 8, seed=6)
    assert len({tuple(sorted(p.items())) for p in points}) == 8
    assert all(p["lr"] in space["lr"] and p["layers"] in space["layers"] for p in points)
    assert len(sample(space, 50, seed=5)) == 12  # the whole grid, once each
    assert sample({}, 8, seed=5) == [{}]


def test_the_benchmark_refuses_a_user_sample_in_a_space_or_a_shipped_config(tmp_path: Path) -> None:
    path = tmp_path / "spaces.toml"
    path.write_text('[models.x]\nbase = { model = "bprmf", eval_users = 100 }\n')
    with pytest.raises(ConfigError, match="models.x.base: eval_users: the learning benchmark ranks every user"):
        load_spaces(path)
    (tmp_path / "shipped.toml").write_text('model = "kgrec"\neval_users = 100\n')
    path.write_text(
        '[datasets.d]\nsnapshot = "s.npz"\ndefault_config = "shipped.toml"\n'
        "[models.k]\nbase = { from_default = true }\ndefault = true\n"
    )
    spaces = load_spaces(path)
    with pytest.raises(ConfigError, match="shipped.toml: eval_users"):
        spaces.base_config(spaces.models["k"], "d", root=tmp_path)
    (tmp_path / "shipped.toml").write_text('model = "kgrec"\n')
    assert "eval_users" not in spaces.base_config(spaces.models["k"], "d", root=tmp_path)
