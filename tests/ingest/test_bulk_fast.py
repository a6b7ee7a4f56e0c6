"""Bulk's block path (kgrec.ingest.bulk_fast) spills what the record-by-record path spills, rejects alike."""

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kgrec.ingest import bulk_fast, fast_table
from kgrec.ingest.bulk import _batches
from kgrec.ingest.bulk_spill import GraphSpill
from kgrec.ingest.load import IngestOptions, Ingestor, Plan
from kgrec.ingest.spec import load_spec
from tests.conftest import write

SPEC = """
name = "shop"
dataset = "shop"

[[tables]]
file = "users.csv"
  [[tables.nodes]]
  label = "User"
  key = { column = "uid", type = "int" }
  properties = { age = { column = "age", type = "int" }, name = "name", score = { column = "score", type = "float" } }

[[tables]]
file = "ratings.tsv"
delimiter = "\\t"
header = false
columns = ["user", "item", "rating", "ts", "tag"]
  [[tables.relationships]]
  type = "RATED"
  start = { label = "User", column = "user", type = "int" }
  end = { label = "Item", column = "item", type = "int", create = true }
  properties = { rating = { column = "rating", type = "int", required = true }, ts = { column = "ts", type = "int" } }
  [[tables.relationships]]
  type = "TAGGED"
  start = { label = "User", column = "user", type = "int" }
  end = { label = "Tag", column = "tag", property = "name", create = true, null_values = ["none"] }
"""

USERS = "uid,age,name,score\n" + "".join(f"{u},{20 + u},user {u},{u / 3}\n" for u in range(1, 50))
RATINGS = "".join(f"{u}\t{u % 9}\t{u % 5 + 1}\t{1000 + u}\t{'none' if u % 4 else 't' + str(u % 3)}\n"
                  for u in range(1, 400))  # fmt: skip


def _spill(root: Path, fast: bool) -> tuple[Any, ...]:
    spec = load_spec(root / "shop.toml")
    opt = IngestOptions(batch_size=7)
    ing = Ingestor(None, root, opt)  # type: ignore[arg-type]  # planning and mapping need no store
    plans, _ = ing.plan(spec)
    spill = GraphSpill(root / "spill")
    (root / "spill").mkdir(exist_ok=True)
    bad, records = [], 0
    for plan in plans:
        assert bulk_fast.fast_unit(plan)
        for unit_bad, n in _read(ing, plan, spill, opt, fast):
            bad += [(b.file, b.line, b.reason) for b in unit_bad]
            records += n
    rels = sorted((c.file, s, e, tuple(p[i] for p in c.props), c.names)
                  for c in spill.rels._chunks() for i, (s, e) in enumerate(zip(c.starts, c.ends)))  # fmt: skip
    nodes = sorted((s, k, sorted(lb), sorted(p.items())) for part, _ in spill.nodes() for s, k, lb, p in part)
    return rels, nodes, sorted(bad), records, spill.kinds.props, spill.integer_ids()


def _read(ing: Ingestor, plan: Plan, spill: GraphSpill, opt: IngestOptions, fast: bool) -> Any:
    if fast:
        yield from bulk_fast.read_unit(plan, spill, opt.batch_size)
        return
    for batch, bad, n in _batches(ing, plan, opt):
        spill.add(batch)
        yield bad, n


@pytest.mark.parametrize(
    "ratings",
    [
        RATINGS,
        RATINGS + "3\t4\t\t5\tt1\n",  # a missing required rating
        RATINGS[:300] + "x\t4\t3\t5\tt1\n" + RATINGS[300:] + "\t4\t3\t5\tt1\n",  # a bad key, a missing key
        RATINGS.replace("\n", "\r\n", 50)[:500] + "1\t2\n" + RATINGS[500:],  # a short record, CRLF
    ],
)
def test_block_path_spills_and_rejects_as_the_record_path(
    tmp_path: Path, ratings: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = []
    add_block = bulk_fast._add_block
    monkeypatch.setattr(bulk_fast, "read_blocks", partial(fast_table.read_blocks, block_bytes=300))  # many blocks
    monkeypatch.setattr(bulk_fast, "_add_block", lambda *a: taken.append(add_block(*a)) or taken[-1])
    write(tmp_path / "shop.toml", SPEC)
    write(tmp_path / "shop" / "users.csv", USERS)
    write(tmp_path / "shop" / "ratings.tsv", ratings)
    exact = _spill(tmp_path, fast=False)
    fast = _spill(tmp_path, fast=True)
    assert fast == exact
    assert any(taken), "blocks were converted whole"
    assert exact[0] and exact[1], "the case has relationships and nodes"
    if ratings is not RATINGS:
        assert exact[2], "the case has a bad record"
