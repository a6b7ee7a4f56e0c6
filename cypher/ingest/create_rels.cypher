// Create relationships of one type that are known not to exist yet (a unit's first load,
// no (start, type, end) twice in it: see kgrec/ingest/load.py); endpoints are matched
// (or merged) by key. Each row is [start key, end key, property values...].
UNWIND $rows AS row
@START_VERB (a:@START_LABEL {@START_KEY: row[0]})
WITH row, a
@END_VERB (b:@END_LABEL {@END_KEY: row[1]})
WITH row, a, b
CREATE (a)-[r:@TYPE]->(b)
@SET_PROPS
RETURN count(r) AS written
