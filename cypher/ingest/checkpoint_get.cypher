// Progress of one ingestion unit (a table or RDF file of a spec).
MATCH (c:KgrecCheckpoint {unit: $unit})
RETURN c.fingerprint AS fingerprint, c.records_done AS records_done, c.complete AS complete
