// Record one source's part of the declared schema (JSON text; see kgrec/schema.py).
MERGE (s:KgrecSchema {source: $source})
SET s.part = $part, s.updated = datetime()
