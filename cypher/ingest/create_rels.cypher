// Create relationships of one type that are known not to exist yet (a unit's first load,
// no (start, type, end) twice in it: see kgrec/ingest/load.py); endpoints are matched
// (or merged) by key. Each row is [start key, end key, property values...].
// Provenance as in ingest/merge_rels ($src null: none).
UNWIND $rows AS row
@START_VERB (a:@START_LABEL {@START_KEY: row[0]})
WITH row, a
@END_VERB (b:@END_LABEL {@END_KEY: row[1]})
WITH row, a, b
CREATE (a)-[r:@TYPE {kgrec_sources: CASE WHEN $src IS NULL THEN null ELSE [$src] END,
                     kgrec_seen: CASE WHEN $run IS NULL THEN null ELSE [$run] END}]->(b)
@SET_PROPS
FOREACH (n IN [x IN [a] WHERE $stamp_a] + [x IN [b] WHERE $stamp_b] |
  FOREACH (_ IN CASE WHEN $src IN coalesce(n.kgrec_sources, []) THEN [] ELSE [1] END |
    SET n.kgrec_sources = coalesce(n.kgrec_sources, []) + $src)
  FOREACH (_ IN CASE WHEN $run IS NULL OR $run IN coalesce(n.kgrec_seen, []) THEN [] ELSE [1] END |
    SET n.kgrec_seen = [x IN coalesce(n.kgrec_seen, []) WHERE NOT x STARTS WITH $src + '@'] + $run))
RETURN count(r) AS written
