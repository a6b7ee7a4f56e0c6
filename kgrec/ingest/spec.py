"""Pipeline specs: one TOML file per knowledge source, validated before any write.

A spec names files under a dataset folder and says how their records become
nodes and relationships. See ``ingest/*.toml`` for complete examples and the
README section "Bring your own data" for a walk-through.
"""

from __future__ import annotations

import re
import string
from pathlib import Path, PurePosixPath
from typing import Any, Literal, get_args

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer, model_validator

from kgrec.errors import SpecError
from kgrec.graph.names import check_label, check_property, check_rel_type
from kgrec.ingest.related import Related
from kgrec.modalities import Modality, encoder_info, feature_index, feature_property
from kgrec.schema import SchemaDecl, SchemaPart

IRI_KEY = "iri"
"""Key property of RDF entity nodes (their IRI)."""

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
    null_values: list[str] = []
    """Placeholders that mean "no value" (``"unknown"``, ``"It looks like we don't have*"``; ``*``
    matches anything, whole value, surrounding spaces ignored): read as empty, the property is not set."""

    @model_serializer(mode="wrap")
    def _without_unused(self, handler: Any) -> Any:
        """Leave ``null_values`` out when none are declared, so the fingerprints of units that declare
        none stay what they were (no reload after an upgrade)."""
        data = handler(self)
        if isinstance(data, dict) and not self.null_values:
            data.pop("null_values", None)
        return data

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
    many: bool = False
    """The column holds a list: a JSON array (a plain value is a list of one), one key per element.
    Elements are trimmed, empty ones skipped, repeats within one record kept once (see :mod:`kgrec.ingest.lists`)."""
    split: str | None = None
    """Separator of a delimited list in a text value (``"|"``, ``";"``): one key per element. Implies ``many``;
    a JSON array is read as a list too."""
    limit: int | None = Field(None, ge=1)
    """List columns: keep only the first ``limit`` elements of each record (e.g. the top-billed cast)."""
    null_values: list[str] = []
    """Placeholders that mean "no value" (``*`` matches anything): a list element matching one is skipped;
    a single key matching one reads as empty (a missing key)."""

    @model_serializer(mode="wrap")
    def _without_unused(self, handler: Any) -> Any:
        """Leave the list options out when unset, so the fingerprints of units that use none stay what they
        were (no reload after an upgrade)."""
        data = handler(self)
        if isinstance(data, dict):
            for name, unset in (("many", False), ("split", None), ("limit", None), ("null_values", [])):
                if data.get(name, unset) == unset:
                    data.pop(name, None)
        return data

    def is_list(self) -> bool:
        """Whether the column holds several keys per record (``many`` or ``split``)."""
        return self.many or self.split is not None

    @field_validator("property")
    @classmethod
    def _prop(cls, v: str) -> str:
        return check_property(v)

    @field_validator("split")
    @classmethod
    def _separator(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must be a non-blank separator such as '|' or ';'")
        return v

    @model_validator(mode="after")
    def _list_options(self) -> Key:
        if self.limit is not None and not self.is_list():
            raise ValueError("'limit' applies to list columns: set 'many = true' or 'split'")
        if self.is_list() and self.column is None:
            raise ValueError("'many' and 'split' need a 'column'")
        return self


class NodeMap(_HasProperties):
    """Records -> nodes of one label."""

    label: str
    key: Key
    labels: list[str] = []
    """Extra labels set on every node."""
    create: bool = True
    """Create nodes that are missing (default). ``false``: only add properties and
    labels to nodes already in the graph (e.g. a tags table for artists loaded by
    another table); records naming a missing node are counted and reported, not errors."""

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
    count: str | None = None
    """Property that receives how many records of this table state each relationship
    (e.g. ``count = "times"`` for repeated listens, or a user tagging an artist with
    several tags). The value is set, not added: re-runs, ``--force`` reloads and
    resumed runs give the same count. Counted per table: two tables counting into the
    same property of the same relationship leave the last one's count."""

    @field_validator("type")
    @classmethod
    def _type(cls, v: str | None) -> str | None:
        return None if v is None else check_rel_type(v)

    @field_validator("count")
    @classmethod
    def _count(cls, v: str | None) -> str | None:
        return None if v is None else check_property(v)

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
        if self.count is not None and self.count in self.properties:
            raise ValueError(f"'count' names {self.count!r}, which is also in 'properties'")
        return self


class Table(_Strict):
    """A delimited text (CSV/TSV/...) or JSON file and what its records become.

    Files as spreadsheet programs export them are read as they are: a UTF-8
    byte-order mark is dropped, CRLF line ends are fine, quoted fields may hold
    the delimiter and line breaks, and header names are stripped of surrounding
    spaces. A ``.gz``, ``.bz2`` or ``.xz`` file is decompressed while reading.
    Every column the maps name must be in the header (or ``columns``): a missing
    one is an error on line 1, listing the columns found, before any record is read.
    """

    file: str
    """Path under the spec's dataset folder, with its compression suffix if any (``ratings.csv.gz``)."""
    format: Literal["csv", "json", "jsonl"] = "csv"
    delimiter: str = ","
    """One character (``"\\t"`` for tab-separated files)."""
    header: bool = True
    """The first line names the columns."""
    columns: list[str] | None = None
    """Column names (required without a header; renames the header's columns otherwise)."""
    encoding: str = "utf-8"
    """Text encoding (``utf-8`` also reads a file starting with a byte-order mark)."""
    quotechar: str = '"'
    """Character that quotes fields holding the delimiter, line breaks or itself (doubled).
    ``""`` turns quoting off: every character is data and a record is one line, which reads
    files with bare quotes in values, such as ``"Weird Al" Yankovic`` in Last.fm's tab-separated
    ``artists.dat``."""
    comment: str | None = None
    nodes: list[NodeMap] = []
    relationships: list[RelMap] = []

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        return _one_char(v)

    @field_validator("quotechar")
    @classmethod
    def _quote(cls, v: str) -> str:
        return v if v == "" else _one_char(v)

    def used_columns(self) -> list[str]:
        """The columns (fields) the node and relationship maps read, in first-use order."""
        used: dict[str, None] = {}
        for m in self.nodes:
            used.update(dict.fromkeys([m.key.column or "", *(f.column for f in m.properties.values())]))
        for r in self.relationships:
            names = [r.start.column or "", r.end.column or "", r.type_column or "", *r.end_flag_columns]
            used.update(dict.fromkeys([*names, *(f.column for f in r.properties.values())]))
        used.pop("", None)
        return list(used)

    def list_keys(self) -> list[tuple[str, Key]]:
        """The keys read from list columns (``many`` or ``split``), each with its dotted place in the table."""
        found = [(f"nodes.{i}.key", m.key) for i, m in enumerate(self.nodes)]
        for i, r in enumerate(self.relationships):
            found += [(f"relationships.{i}.start", r.start), (f"relationships.{i}.end", r.end)]
        return [(where, key) for where, key in found if key.is_list()]

    @model_validator(mode="after")
    def _columns(self) -> Table:
        if self.format == "csv" and not self.header and not self.columns:
            raise ValueError("'columns' is required when 'header' is false")
        if not self.nodes and not self.relationships:
            raise ValueError("a table needs at least one of 'nodes' or 'relationships'")
        if self.format == "csv" and any(k.split is None for _, k in self.list_keys()):
            raise ValueError("a list column of a delimited file needs 'split' (the separator inside the field)")
        return self


class Link(_Strict):
    """Links source entities to catalogue items (entity key -> item key)."""

    file: str | None = None
    """A CSV file with one row per (item, entity) pair (``.gz``/``.bz2``/``.xz``: decompressed while reading)."""
    delimiter: str = ","
    header: bool = True
    """The first line names the columns (as for ``[[tables]]``)."""
    columns: list[str] | None = None
    """Column names (required without a header; renames the header's columns otherwise)."""
    encoding: str = "utf-8"
    """Text encoding (``utf-8`` also reads a file starting with a byte-order mark)."""
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
        if self.file is not None and not self.header and not self.columns:
            raise ValueError("'columns' is required when 'header' is false")
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
    name_from_iri: str | None = None
    """Property that entities without it get, made from their IRI's last segment
    (``.../Alternative_rock`` -> ``Alternative rock``): for sources without labels, so
    people read, and ``--where genre=...`` matches, a name (default: none)."""

    @field_validator("name_from_iri")
    @classmethod
    def _name_prop(cls, v: str | None) -> str | None:
        return None if v is None else check_property(v)

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
    """Joins ``properties`` (and the ``related`` parts after them)."""
    related: list[Related] = []
    """Text only: relationships whose neighbours' values (e.g. the names of an artist's tags) are joined
    after ``properties``, one part per entry (:mod:`kgrec.ingest.related`)."""
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
        if bool(self.properties or self.related) == (self.files is not None):
            also = "; 'related' adds to text, never to files" if self.related else ""
            raise ValueError(f"give exactly one of 'properties' or 'files'{also}")
        if (self.properties or self.related) and self.modality != "text":
            raise ValueError("'properties' and 'related' feed text encoders only; use 'files' for images and audio")
        if self.files is not None:
            _check_pattern(self.files, self.key)
        return self

    @property
    def vector_property(self) -> str:
        """The node property holding the vectors (``feat_<modality>``)."""
        return check_property(feature_property(self.modality))

    @property
    def index_name(self) -> str:
        """The vector index over :attr:`vector_property` (``<label>_feat_<modality>``, lower case)."""
        return feature_index(self.label, self.modality)


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
    applies_to: list[str] = []
    """Names of the ingest specs whose graph the features describe (``["movielens-100k"]``):
    ``kgrec features`` without a SPEC runs this spec only on a graph one of them loaded, so a film
    spec's ``{id}.jpg`` posters never meet a music graph's artists with the same ids."""
    schema_: SchemaDecl = Field(SchemaDecl(), alias="schema")
    """``[schema]``: this source's part of the graph schema (users, items, relationship roles and
    phrases; see :mod:`kgrec.schema`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mapped_keys(self) -> list[tuple[str, str]]:
        """(label, key property) of every node the tables, RDF files and link write, in mapping order."""
        keys: list[tuple[str, str]] = []
        for t in self.tables:
            keys += [(n.label, n.key.property) for n in t.nodes]
            for r in t.relationships:
                keys += [(r.start.label, r.start.property), (r.end.label, r.end.property)]
        keys += [(r.entity_label, IRI_KEY) for r in self.rdf]
        if self.link is not None:
            keys.append((self.link.item.label, self.link.item.property))
        return list(dict.fromkeys(keys))

    def list_columns(self) -> list[str]:
        """Dotted spec keys of every list column (``tables.0.relationships.1.end``), for refusing what
        cannot read them yet (``--bulk``)."""
        return [f"tables.{i}.{where}" for i, t in enumerate(self.tables) for where, _ in t.list_keys()]

    def schema_part(self) -> SchemaPart:
        """The declarations and the node keys this spec's mappings (and features) use, in mapping order."""
        keys = [*self.mapped_keys(), *((f.label, f.key) for f in self.features)]
        return SchemaPart(self.name, self.schema_, tuple(dict.fromkeys(keys)))

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
        model = _model_at(Spec, list(err["loc"])[:-1])
        return f"unknown key (valid: {', '.join(model.model_fields)})" if model else "unknown key"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _model_at(model: type[BaseModel], loc: list[str | int]) -> type[BaseModel] | None:
    """The model class found by following ``loc`` (keys, list indexes, dict keys) from ``model``."""
    annotation: object = model
    for part in loc:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(str(part))
            if info is None:
                return None
            annotation = info.annotation
        else:  # inside a list, dict or optional: the element type
            annotation = _element(annotation)
    annotation = _element(annotation) if not isinstance(annotation, type) else annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _element(annotation: object) -> object:
    """The model inside ``X | None``, ``list[X]`` or ``dict[str, X]`` (else ``annotation``)."""
    for arg in reversed(get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        inner = _element(arg) if get_args(arg) else None
        if inner is not None and isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation
