"""The W3C RDF 1.1 syntax suites (Turtle, TriG, N-Triples, N-Quads, RDF/XML) through kgrec's RDF readers.

Positive and eval tests must be read; eval tests must yield the triples the
suite expects (what kgrec would write: IRIs, and literals as the values it
stores; triples with blank nodes aside, as kgrec skips them); negative tests
must be rejected with ``file:line: reason``. The expected N-Triples/N-Quads are
read with rdflib, not with kgrec's reader. No Neo4j needed.

The suites live in the shared mirror (``/work/shared/rdf-tests``, or
``KGREC_RDF_TESTS``); without it the tests skip.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from kgrec.errors import InputDataError
from kgrec.ingest import rdf as rdf_io
from kgrec.ingest import rdf_read
from kgrec.ingest.rdf_stream import literal_of
from kgrec.ingest.spec import Rdf
from tests.conftest import REPO

SUITES = ["rdf-turtle", "rdf-trig", "rdf-n-triples", "rdf-n-quads", "rdf-xml"]
BASE = "https://w3c.github.io/rdf-tests/rdf/rdf11/{suite}/"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
RDFT = "http://www.w3.org/ns/rdftest#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
FORMATS = {".ttl": "turtle", ".trig": "trig", ".nt": "nt", ".nq": "nquads", ".rdf": "xml"}


@dataclass(frozen=True, slots=True)
class Case:
    """One manifest entry."""

    name: str
    kind: str
    """``positive``, ``negative`` or ``eval``."""
    action: Path
    result: Path | None
    base: str


def _root() -> Path | None:
    env = os.environ.get("KGREC_RDF_TESTS")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "rdf-tests"]:
        if (candidate / "rdf-turtle" / "manifest.ttl").is_file():
            return candidate
    return None


def _cases(root: Path, suite: str) -> list[Case]:
    folder, base = root / suite, BASE.format(suite=suite)
    kinds: dict[str, str] = {}
    links: dict[tuple[str, str], str] = {}
    for q in ox.parse(path=folder / "manifest.ttl", format=ox.RdfFormat.TURTLE, base_iri=base):
        s, p, o = q.subject.value, q.predicate.value, q.object.value
        if p == RDF_TYPE and o.startswith(RDFT):
            kinds[s] = "negative" if "Negative" in o else "eval" if o.endswith("Eval") else "positive"
        elif p in (MF + "action", MF + "result"):
            links[(s, p[len(MF) :])] = o[len(base) :]
    cases = []
    for s, kind in sorted(kinds.items()):
        action, result = links[(s, "action")], links.get((s, "result"))
        cases.append(
            Case(
                f"{suite}/{s.rsplit('#', 1)[-1]}",
                kind,
                folder / action,
                folder / result if result else None,
                base + action,
            )
        )
    return cases


ROOT = _root()
CASES = [c for suite in SUITES for c in _cases(ROOT, suite)] if ROOT else []


def _kgrec_triples(case: Case) -> set[tuple[str, str, Any]]:
    """What kgrec reads from the test's file, in the form it writes (blank-node triples skipped)."""
    fmt = FORMATS[case.action.suffix]
    if fmt in rdf_read.STREAMED:
        out = set()
        for q in rdf_read.quads(case.action, fmt, case.base):
            s, o = q.subject, q.object
            if isinstance(s, ox.NamedNode) and isinstance(o, ox.NamedNode | ox.Literal):
                obj = (
                    ("lit", literal_of(o), (o.language or "").lower())
                    if isinstance(o, ox.Literal)
                    else ("iri", o.value)
                )
                out.add((s.value, q.predicate.value, obj))
        return out
    graph = rdf_io.parse(case.action, Rdf(file=case.action.name, format=fmt), base_iri=case.base)
    return _from_rdflib(graph.triples((None, None, None)))


def _expected(path: Path) -> set[tuple[str, str, Any]]:
    if path.suffix == ".nq":
        ds = rdflib.Dataset()
        ds.parse(path, format="nquads")
        return _from_rdflib((s, p, o) for s, p, o, _ in ds.quads((None, None, None, None)))
    return _from_rdflib(rdflib.Graph().parse(path, format="nt").triples((None, None, None)))


def _from_rdflib(triples: Any) -> set[tuple[str, str, Any]]:
    out = set()
    for s, p, o in triples:
        if isinstance(s, rdflib.URIRef) and isinstance(o, rdflib.URIRef | rdflib.Literal):
            obj = (
                ("lit", rdf_io.literal_value(o), (o.language or "").lower())
                if isinstance(o, rdflib.Literal)
                else ("iri", str(o))
            )
            out.add((str(s), str(p), obj))
    return out


@pytest.mark.skipif(ROOT is None, reason="W3C RDF test suites not found: set KGREC_RDF_TESTS to shared/rdf-tests")
def test_every_suite_is_present() -> None:
    counts = {s: sum(c.name.startswith(s + "/") for c in CASES) for s in SUITES}
    assert counts == {"rdf-turtle": 313, "rdf-trig": 356, "rdf-n-triples": 70, "rdf-n-quads": 87, "rdf-xml": 166}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_w3c(case: Case) -> None:
    if case.kind == "negative":
        with pytest.raises(InputDataError) as e:
            _kgrec_triples(case)
        assert re.match(rf"{re.escape(str(case.action))}:\d+: invalid \S+ RDF: \S", str(e.value)), str(e.value)
        return
    got = _kgrec_triples(case)
    if case.kind == "eval":
        assert case.result is not None
        assert got == _expected(case.result)
