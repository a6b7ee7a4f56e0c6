// Wait (up to 300 s) until every index is online, so a new vector index answers queries.
CALL db.awaitIndexes(300)
