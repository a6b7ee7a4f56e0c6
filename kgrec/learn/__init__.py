"""The learning side: snapshot -> HeteroData -> model -> trainer -> metrics.

Nothing here imports neo4j: the graph arrives as a :class:`kgrec.snapshot.GraphSnapshot`.
"""
