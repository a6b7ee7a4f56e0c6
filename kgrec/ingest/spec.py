"""Pipeline specs: one TOML file per knowledge source, validated before any write.

A spec names files under a dataset folder and says how their records become
nodes and relationships. See ``ingest/*.toml`` for complete examples and the
README section "Bring your own data" for a walk-through.
"""

from __future__ import annotations

import re
import string
from pathlib import Path, PurePosixPath
from typing import Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kgrec.errors import SpecError
from kgrec.features.encoder import Modality, encoder_info
from kgrec.graph.names import check_label, check_property, check_rel_type

ValueType = Literal["str", "int", "float", "bool", "date", "datetime"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Field_(_Strict):
    """How one property is read from a record."""

    column: str
    """Source column (CSV) or field (JSON) name."""
    type: ValueType = "str"
    """Target type; empty values become ``null`` (the property is not set)."""
    format: str | None = None
    """``strptime`` format for ``date``/``datetime`` (ISO 8601 when omitted)."""
    pattern: str | None = None
    """Regular expression applied first; its first group (or whole match) is kept."""
    required: bool = False
    """Reject the record when the value is empty."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            re.compile(v)
        return v


def _one_char(v: str) -> str:
    if len(v) != 1:
        raise ValueError(f"must be exactly one character, got {v!r}")
    return v


def _as_field(v: object) -> object:
    return {"column": v} if isinstance(v, str) else v


class _HasProperties(_Strict):
    properties: dict[str, Field_] = {}
    """Property name -> field (a bare string is a column name read as ``str``)."""

    @field_validator("properties", mode="before")
    @classmethod
    def _expand(cls, v: object) -> object:
        return {k: _as_field(x) for k, x in v.items()} if isinstance(v, dict) else v

    @field_validator("properties")
    @classmethod
    def _names(cls, v: dict[str, Field_]) -> dict[str, Field_]:
        for name in v:
            check_property(name)
        return v


class Key(_Strict):
    """The key that identifies a node."""

    column: str | None = None
    """Column holding the key (omit for flag-column endpoints)."""
    property: str = "id"
    """Node property the key is stored in (unique per label)."""
    type: Literal["str", "int"] = "str"
    prefix: str = ""
    """Prepended to the raw value (e.g. a namespace turning ids into IRIs)."""

    @field_validator("property")
    @classmethod
    def _prop(cls, v: str) -> str:
        return check_property(v)


class NodeMap(_HasProperties):
    """Records -> nodes of one label."""

    label: str
    key: Key
    labels: list[str] = []
    """Extra labels set on every node."""

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        return check_label(v)

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: list[str]) -> list[str]:
        return [check_label(x) for x in v]


class Endpoint(Key):
    """One end of a relationship: a node found by label and key."""

    label: str
    create: bool = False
    """Create the node when missing (otherwise the relationship is skipped and counted)."""
    linked: bool = False
    """Resolve the key through the spec's ``[link]`` first (entity -> catalogue item)."""

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        return check_label(v)


class TypeRule(_Strict):
    """Renaming of one value of a relationship-type column."""

    type: str
    reverse: bool = False
    """Swap start and end (for predicates stated from the other side)."""

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        return check_rel_type(v)


class RelMap(_HasProperties):
    """Records -> relationships."""

    type: str | None = None
    """Fixed relationship type."""
    type_column: str | None = None
    """Column whose value names the type (see ``types`` and ``exclude_types``)."""
    types: dict[str, TypeRule] = {}
    """Value of ``type_column`` -> type (default: the value in UPPER_SNAKE case)."""
    exclude_types: list[str] = []
    """Values of ``type_column`` to skip (e.g. inverse duplicates)."""
    start: Endpoint
    end: Endpoint
    end_flag_columns: list[str] = []
    """One relationship per column whose value is ``1``; the end key is the column name."""

    @field_validator("type")
    @classmethod
    def _type(cls, v: str | None) -> str | None:
        return None if v is None else check_rel_type(v)

    @field_validator("types", mode="before")
    @classmethod
    def _rules(cls, v: object) -> object:
        return {k: {"type": x} if isinstance(x, str) else x for k, x in v.items()} if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _one_type(self) -> RelMap:
        if (self.type is None) == (self.type_column is None):
            raise ValueError("give exactly one of 'type' or 'type_column'")
        if self.end.column is None and not self.end_flag_columns:
            raise ValueError("'end.column' is required unless 'end_flag_columns' is given")
        if self.start.column is None:
            raise ValueError("'start.column' is required")
        return self


class Table(_Strict):
    """A delimited text (CSV/TSV/...) or JSON file and what its records become."""

    file: str
    format: Literal["csv", "json", "jsonl"] = "csv"
    delimiter: str = ","
    header: bool = True
    """The first line names the columns."""
    columns: list[str] | None = None
    """Column names (required without a header; renames the header's columns otherwise)."""
    encoding: str = "utf-8"
    quotechar: str = '"'
    comment: str | None = None
    nodes: list[NodeMap] = []
    relationships: list[RelMap] = []

    @field_validator("delimiter", "quotechar")
    @classmethod
    def _one_char(cls, v: str) -> str:
        return _one_char(v)

    @model_validator(mode="after")
    def _columns(self) -> Table:
        if self.format == "csv" and not self.header and not self.columns:
            raise ValueError("'columns' is required when 'header' is false")
        if not self.nodes and not self.relationships:
            raise ValueError("a table needs at least one of 'nodes' or 'relationships'")
        return self


class Link(_Strict):
    """Links source entities to catalogue items (entity key -> item key)."""

    file: str | None = None
    """A CSV file with one row per (item, entity) pair."""
    delimiter: str = ","
    item_column: str | None = None
    entity_column: str | None = None
    entity_prefix: str = ""
    """Prepended to the file's entity values (to form the entity key)."""
    predicate: str | None = None
    """RDF only: a predicate (e.g. ``owl:sameAs``) whose object IRI names the item."""
    item_pattern: str = r"(\d+)$"
    """With ``predicate``: regular expression extracting the item key from the object IRI."""
    item: Endpoint = Endpoint(label="Item", property="id", type="int")
    """The catalogue node linked entities resolve to."""
    store_as: str | None = None
    """Item property that receives the entity key (e.g. ``dbpedia_iri``)."""

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        return _one_char(v)

    @model_validator(mode="after")
    def _source(self) -> Link:
        if (self.file is None) == (self.predicate is None):
            raise ValueError("give exactly one of 'file' or 'predicate'")
        if self.file is not None and (self.item_column is None or self.entity_column is None):
            raise ValueError("'item_column' and 'entity_column' are required with 'file'")
        return self


class Rdf(_Strict):
    """An RDF file: IRIs become entity nodes, predicates relationships, literals properties."""

    file: str
    format: Literal["turtle", "nt", "nquads", "xml", "json-ld", "trig", "n3"] | None = None
    """rdflib format (default: from the file suffix)."""
    entity_label: str = "Entity"
    """Label of every IRI node (key property ``iri``)."""
    type_labels: dict[str, str] = {}
    """``rdf:type`` IRI -> extra label; other types are kept in the ``rdf_types`` property."""
    predicates: dict[str, str] = {}
    """Predicate IRI -> relationship type (default: its local name in UPPER_SNAKE case)."""
    literals: dict[str, str] = {}
    """Predicate IRI -> property name (default: its local name in snake_case)."""
    exclude_predicates: list[str] = []
    languages: list[str] = ["en"]
    """Language tags kept for tagged literals (untagged literals are always kept)."""

    @field_validator("entity_label")
    @classmethod
    def _label(cls, v: str) -> str:
        return check_label(v)

    @field_validator("type_labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: check_label(x) for k, x in v.items()}

    @field_validator("predicates")
    @classmethod
    def _types(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: check_rel_type(x) for k, x in v.items()}

    @field_validator("literals")
    @classmethod
    def _props(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: check_property(x) for k, x in v.items()}


class Feature(_Strict):
    """One modality of one node label, computed by a registered encoder (``kgrec features``).

    Ingestion ignores these entries; ``kgrec features`` reads them.
    """

    modality: Modality
    """``text``, ``image`` or ``audio``; the vector goes to ``feat_<modality>`` on each node."""
    encoder: str
    """A registered encoder of that modality (``minilm``, ``efficientnet-lite0``, ``librosa-music``)."""
    label: str = "Item"
    """Nodes that receive the vectors."""
    key: str = "id"
    """Their key property (files are named after it)."""
    properties: list[str] = []
    """Text only: node properties whose non-empty values are joined (in this order) into the input."""
    separator: str = "\n"
    """Joins ``properties``."""
    files: str | None = None
    """A path pattern under the spec's dataset folder with the key as ``{<key>}``, e.g. ``"{id}.jpg"``.
    A missing file means that node lacks the modality; it is counted, never an error."""

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        return check_label(v)

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        return check_property(v)

    @field_validator("properties")
    @classmethod
    def _props(cls, v: list[str]) -> list[str]:
        return [check_property(x) for x in v]

    @model_validator(mode="after")
    def _inputs(self) -> Feature:
        try:
            info = encoder_info(self.encoder)
        except KeyError as e:
            raise ValueError(str(e.args[0])) from e
        if info.modality != self.modality:
            raise ValueError(f"encoder {self.encoder!r} is a {info.modality} encoder, not {self.modality}")
        if bool(self.properties) == (self.files is not None):
            raise ValueError("give exactly one of 'properties' or 'files'")
        if self.properties and self.modality != "text":
            raise ValueError("'properties' feed text encoders only; use 'files' for images and audio")
        if self.files is not None:
            _check_pattern(self.files, self.key)
        return self

    @property
    def vector_property(self) -> str:
        """The node property holding the vectors (``feat_<modality>``)."""
        return check_property(f"feat_{self.modality}")

    @property
    def index_name(self) -> str:
        """The vector index over :attr:`vector_property` (``<label>_feat_<modality>``, lower case)."""
        return f"{self.label.lower()}_feat_{self.modality}"


def _check_pattern(pattern: str, key: str) -> None:
    try:
        fields = {f for _, f, spec, conv in string.Formatter().parse(pattern) if f is not None}
    except ValueError as e:
        raise ValueError(f"bad file pattern {pattern!r}: {e}") from e
    if fields != {key}:
        raise ValueError(f"file pattern {pattern!r} must use exactly the placeholder {{{key}}}")
    path = PurePosixPath(pattern.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or pattern.startswith("~"):
        raise ValueError(f"file pattern {pattern!r} must stay inside the dataset folder")


class Spec(_Strict):
    """One knowledge source."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    dataset: str = ""
    """Folder (under the data directory) that the files are relative to."""
    tables: list[Table] = []
    rdf: list[Rdf] = []
    link: Link | None = None
    features: list[Feature] = []
    """Modality features computed from nodes or files (``kgrec features``; ingestion skips them)."""

    @model_validator(mode="after")
    def _something(self) -> Spec:
        if not self.tables and not self.rdf and not self.features:
            raise ValueError("a spec needs at least one [[tables]], [[rdf]] or [[features]] entry")
        seen: set[tuple[str, str]] = set()
        for f in self.features:
            if (f.label, f.modality) in seen:
                raise ValueError(f"two [[features]] entries give {f.label} its {f.modality} vectors")
            seen.add((f.label, f.modality))
        return self


def load_spec(path: Path | str) -> Spec:
    """Read and validate a spec file.

    Raises:
        SpecError: Naming the file and the dotted key at fault.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SpecError(path, "", "no such spec file") from e
    except tomllib.TOMLDecodeError as e:
        raise SpecError(path, "", f"not valid TOML: {e}") from e
    try:
        return Spec.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise SpecError(path, key, _problem(err)) from e


def _problem(err: dict) -> str:  # type: ignore[type-arg]
    if err["type"] == "extra_forbidden":
        return "unknown key"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")
