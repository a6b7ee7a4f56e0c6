// Upsert relationships of one type; endpoints are matched (or merged) by key.
// Each row is [start key, end key, property values...] (@SET_PROPS names them by position).
UNWIND $rows AS row
@START_VERB (a:@START_LABEL {@START_KEY: row[0]})
WITH row, a
@END_VERB (b:@END_LABEL {@END_KEY: row[1]})
WITH row, a, b
MERGE (a)-[r:@TYPE]->(b)
@SET_PROPS
RETURN count(r) AS written
