// Every source's recorded part of the declared schema.
MATCH (s:KgrecSchema) RETURN s.source AS source, s.part AS part ORDER BY source
