"""Where the datasets live, and fetching the ones that have a canonical public source.

kgrec never copies datasets into a repository. It reads them from a folder named
by ``KGREC_DATA_DIR`` (default ``~/.cache/kgrec/data``), laid out as::

    movielens-100k/          u.data u.item u.user u.genre ...   (GroupLens)
    movielens-100k-dbpedia/  films.ttl links.csv
    movielens-100k-freebase/ triples.tsv links.tsv
    movielens-100k-imdb/     details.json
    movielens-100k-posters/  <item_id>.jpg
    lastfm-hetrec/           artists.dat user_artists.dat ... satori/   (HetRec 2011 Last.fm)

and any folder a spec file names in its ``dataset``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kgrec.errors import DataNotFoundError, KgrecError
from kgrec.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Download:
    """A dataset with a canonical public archive."""

    name: str
    url: str
    member: str
    """Folder inside the archive that becomes ``<data_dir>/<name>``."""
    check_file: str
    check_md5: str


MOVIELENS_100K = Download(
    name="movielens-100k",
    url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
    member="ml-100k",
    check_file="u.data",
    check_md5="6e47046882bad158b0efbb84cd5cb987",
)

MANUAL = {
    "movielens-100k-dbpedia": "films.ttl and links.csv from the FranKGraphBench MovieLens-100k DBpedia enrichment",
    "movielens-100k-freebase": "RecBole's ml-100k KG files: ml-100k.kg saved as triples.tsv, ml-100k.link as links.tsv",
    "movielens-100k-imdb": "details.json from the movielens-details IMDb scrape (one object per movie_id)",
    "lastfm-hetrec": "the HetRec 2011 Last.fm files (hetrec2011-lastfm-2k.zip), links.tsv and dbpedia-artists.nt "
    "(see ingest/lastfm-dbpedia.toml), satori/ (KGCN's data/music)",
}


def resolve_data_dir(settings: Settings) -> Path:
    """The dataset folder: ``KGREC_DATA_DIR`` or ``<home>/data``."""
    return (settings.data_dir or settings.home / "data").expanduser().resolve()


def status(data_dir: Path, specs: Iterable[Path] = ()) -> dict[str, bool]:
    """Which datasets are present in ``data_dir``: the ones kgrec knows and those ``specs`` name.

    A spec names its folder in ``dataset``; a spec that cannot be read is skipped here
    (``kgrec ingest --dry-run`` says what is wrong with it).
    """
    names = dict.fromkeys([MOVIELENS_100K.name, *MANUAL, *_spec_datasets(specs)])
    return {n: (data_dir / n).is_dir() and any((data_dir / n).iterdir()) for n in names}


def _spec_datasets(specs: Iterable[Path]) -> list[str]:
    from kgrec.ingest.spec import load_spec

    found = []
    for path in specs:
        try:
            spec = load_spec(path)
        except KgrecError:
            continue
        if spec.dataset:
            found.append(spec.dataset)
    return found


Reporter = Callable[[int, int | None], None]


def fetch(download: Download, data_dir: Path, report: Reporter | None = None) -> Path:
    """Download, verify and unpack ``download`` into ``data_dir / download.name``.

    Nothing is left behind on failure; an existing, verified copy is kept.

    Raises:
        KgrecError: The download failed or its checksum does not match.
    """
    target = data_dir / download.name
    if _verified(target, download):
        return target
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".fetch-") as tmp:
        archive = Path(tmp) / "archive.zip"
        _download(download.url, archive, report)
        with zipfile.ZipFile(archive) as z:
            z.extractall(tmp)
        unpacked = Path(tmp) / download.member
        if not _verified(unpacked, download):
            raise KgrecError(f"{download.url}: checksum of {download.check_file} does not match; nothing was kept")
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)
    return target


def _verified(folder: Path, download: Download) -> bool:
    path = folder / download.check_file
    return path.is_file() and hashlib.md5(path.read_bytes()).hexdigest() == download.check_md5


def _download(url: str, dest: Path, report: Reporter | None) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as r, dest.open("wb") as f:
            total = int(r.headers.get("Content-Length") or 0) or None
            while block := r.read(1 << 16):
                f.write(block)
                if report:
                    report(len(block), total)
    except OSError as e:
        raise KgrecError(f"could not download {url}: {e}") from e


def missing_help(name: str, data_dir: Path) -> str:
    """What the user should put where for a dataset kgrec cannot download."""
    what = MANUAL.get(name)
    if what is None:
        raise DataNotFoundError(f"unknown dataset {name!r}")
    return f"put {what} into {data_dir / name}/"
