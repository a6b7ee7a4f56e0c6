// Sync sweep, step 3: nodes that every source has stopped stating (kgrec_sources empty, not
// missing) and that nothing refers to any more are deleted. Batched and idempotent.
MATCH (n)
WHERE n.kgrec_sources = [] AND NOT EXISTS { (n)--() }
CALL (n) {
  DELETE n
} IN TRANSACTIONS OF $size ROWS
