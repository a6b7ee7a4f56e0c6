"""The snapshot kgrec trains on, as the graph's declared schema says.

Node types and their keys, the interaction relationship (with its weight and
time properties when declared), the relationships to leave out, and the item
vectors all come from :func:`kgrec.graph.declared.read_schema`. A relationship
joining users and items that is not declared stops the export: used as
knowledge it would hold every test interaction (a leak).
"""

from __future__ import annotations

from kgrec.errors import ConfigError
from kgrec.graph import cypher
from kgrec.graph.declared import read_schema
from kgrec.graph.export import ProgressFactory, export_snapshot
from kgrec.graph.store import GraphStore
from kgrec.modalities import MODALITIES, feature_property
from kgrec.schema import GraphSchema
from kgrec.snapshot import GraphSnapshot


def export_training_snapshot(
    store: GraphStore, *, schema: GraphSchema | None = None, progress: ProgressFactory | None = None
) -> GraphSnapshot:
    """Export what the schema declares: nodes, knowledge and social relationships, interactions, item vectors.

    Args:
        store: The graph.
        schema: Its schema (default: the one recorded by ``kgrec ingest``).
        progress: Makes a progress bar per label and relationship group.

    Raises:
        ConfigError: No interaction type declared or none in the graph, or an undeclared
            relationship joins users and items.
    """
    schema = schema or read_schema(store)
    check_interactions(store, schema)
    items, interaction = schema.items, schema.interaction
    present = {r["property"] for r in store.read(cypher.statement("graph/item_vector_properties"), label=items)}
    vectors = [feature_property(m) for m in MODALITIES if feature_property(m) in present]  # every modality
    weights = [p for p in (interaction.weight, interaction.timestamp) if p]
    snapshot = export_snapshot(
        store,
        schema.node_types(),
        node_props={items: [schema.node(items).name or "title"]},
        edge_props={schema.interaction_type or "": weights},
        vectors={items: vectors} if vectors else None,
        exclude_types=schema.excluded_types(),
        progress=progress,
    )
    return GraphSnapshot(snapshot.node_keys, snapshot.edges, snapshot.node_props, snapshot.edge_props, schema.to_json())


def check_interactions(store: GraphStore, schema: GraphSchema) -> None:
    """Stop, in one line, where training would go wrong: no interactions, or interactions used as knowledge.

    Raises:
        ConfigError: As :func:`export_training_snapshot` says.
    """
    types = [r["type"] for r in store.read(cypher.statement("graph/rel_types"))]
    users, items = schema.users, schema.items
    between = [t for t in types if store.links_between(users, t, items)]
    for t in between:
        if t not in schema.relationships and schema.role(t) == "knowledge":
            raise ConfigError(
                f"relationship {t} joins {users} and {items} but its role is not declared: add "
                f'[schema.relationships.{t}] with role = "interaction" (what users do with items) or '
                f'role = "exclude" to a spec file and run `kgrec ingest` on it again'
            )
    found = schema.interaction_type
    if found is None:
        hint = f" ({', '.join(between)} joins them)" if between else ""
        raise ConfigError(
            f"no interaction type declared: add [schema.relationships.<TYPE>] with role = \"interaction\" "
            f"for the relationship from {users} to {items}{hint}"
        )
    if found not in between:
        raise ConfigError(f"the graph has no {users}-{found}->{items} interactions (declared in the schema)")
