// Progress of one ingestion unit (a table or RDF file of a spec).
MATCH (c:KgrecCheckpoint {unit: $unit})
RETURN c.fingerprint AS fingerprint, c.records_done AS records_done, c.complete AS complete,
       coalesce(c.rels_written, 0) AS rels_written, coalesce(c.create_rels, false) AS create_rels,
       c.sync AS sync
