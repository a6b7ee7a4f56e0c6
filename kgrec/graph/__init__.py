"""Graph access: the Neo4j gateway and the local Neo4j server."""
