// Empty the database in batches (used by tests and `kgrec ingest --reset`).
MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
