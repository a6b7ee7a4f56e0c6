// Upsert relationships of one type; endpoints are matched (or merged) by key.
UNWIND $rows AS row
@START_VERB (a:@START_LABEL {@START_KEY: row.start})
WITH row, a
@END_VERB (b:@END_LABEL {@END_KEY: row.end})
WITH row, a, b
MERGE (a)-[r:@TYPE]->(b)
@SET_PROPS
RETURN count(r) AS written
