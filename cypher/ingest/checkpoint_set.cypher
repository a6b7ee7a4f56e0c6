// Record progress in the same transaction as the batch it follows.
MERGE (c:KgrecCheckpoint {unit: $unit})
SET c.fingerprint = $fingerprint, c.records_done = $records_done, c.complete = $complete,
    c.rels_written = $rels_written, c.create_rels = $create_rels, c.sync = $sync, c.updated = datetime()
