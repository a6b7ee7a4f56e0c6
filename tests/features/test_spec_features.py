"""``[[features]]`` entries in pipeline specs: validation names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgrec.errors import SpecError
from kgrec.ingest.spec import load_spec
from tests.conftest import REPO, write

HEAD = 'name = "f"\ndataset = "posters"\n'
TEXT = '[[features]]\nmodality = "text"\nencoder = "minilm"\nproperties = ["title", "abstract"]\n'
IMAGE = '[[features]]\nmodality = "image"\nencoder = "efficientnet-lite0"\nfiles = "{id}.jpg"\n'


def test_a_features_only_spec_loads_with_derived_names(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "f.toml", HEAD + TEXT + IMAGE))
    text, image = spec.features
    assert (text.label, text.key, text.properties) == ("Item", "id", ["title", "abstract"])
    assert (image.files, image.vector_property, image.index_name) == ("{id}.jpg", "feat_image", "item_feat_image")
    assert spec.tables == [] and spec.rdf == []


def test_shipped_feature_spec_declares_text_and_posters() -> None:
    spec = load_spec(REPO / "ingest" / "movielens-100k-features.toml")
    assert {(f.modality, f.encoder) for f in spec.features} == {("text", "minilm"), ("image", "efficientnet-lite0")}


@pytest.mark.parametrize(
    ("entry", "key", "problem"),
    [
        ('modality = "video"\nencoder = "minilm"\nproperties = ["t"]', "features.0.modality", "Input should be"),
        ('modality = "text"\nencoder = "clip"\nproperties = ["t"]', "features.0", "unknown encoder 'clip'"),
        ('modality = "image"\nencoder = "minilm"\nfiles = "{id}.jpg"', "features.0", "is a text encoder, not image"),
        ('modality = "text"\nencoder = "minilm"', "features.0", "exactly one of 'properties' or 'files'"),
        (
            'modality = "text"\nencoder = "minilm"\nproperties = ["t"]\nfiles = "{id}.txt"',
            "features.0",
            "exactly one of",
        ),
        ('modality = "image"\nencoder = "efficientnet-lite0"\nproperties = ["t"]', "features.0", "text encoders only"),
        ('modality = "image"\nencoder = "efficientnet-lite0"\nfiles = "{iid}.jpg"', "features.0", "placeholder {id}"),
        ('modality = "image"\nencoder = "efficientnet-lite0"\nfiles = "poster.jpg"', "features.0", "placeholder {id}"),
        (
            'modality = "image"\nencoder = "efficientnet-lite0"\nfiles = "../{id}.jpg"',
            "features.0",
            "inside the dataset",
        ),
        (
            'modality = "image"\nencoder = "efficientnet-lite0"\nfiles = "/x/{id}.jpg"',
            "features.0",
            "inside the dataset",
        ),
        ('modality = "text"\nencoder = "minilm"\nproperties = ["bad-name"]', "features.0.properties", "property key"),
        ('modality = "text"\nencoder = "minilm"\nlabel = "It em"\nproperties = ["t"]', "features.0.label", "label"),
        ('modality = "text"\nencoder = "minilm"\nproperties = ["t"]\nfile = "x"', "features.0.file", "unknown key"),
    ],
)
def test_invalid_entries_name_the_file_and_key(tmp_path: Path, entry: str, key: str, problem: str) -> None:
    path = write(tmp_path / "bad.toml", HEAD + "[[features]]\n" + entry + "\n")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert err.value.key == key and problem in err.value.problem
    assert str(err.value).startswith(f"{path}: {key}: ")


def test_two_entries_for_one_label_and_modality_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="two \\[\\[features\\]\\] entries give Item its text vectors"):
        load_spec(write(tmp_path / "twice.toml", HEAD + TEXT + TEXT))


def test_an_empty_spec_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"\[\[features\]\]"):
        load_spec(write(tmp_path / "empty.toml", HEAD))
