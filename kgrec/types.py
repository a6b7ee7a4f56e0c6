"""Type aliases shared by the graph side and the learning side."""

from __future__ import annotations

NodeType = str
"""A node type: the node's primary label (``"Item"``)."""

EdgeType = tuple[str, str, str]
"""A relationship type with its endpoint types: ``(src_label, rel_type, dst_label)``."""
