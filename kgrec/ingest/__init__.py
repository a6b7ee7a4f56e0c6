"""Declarative ingestion: pipeline specs -> record batches -> batched Neo4j writes."""
