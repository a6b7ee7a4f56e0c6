// Upsert relationships of one type; endpoints are matched (or merged) by key.
// Each row is [start key, end key, property values...] (@SET_PROPS names them by position).
// Provenance (docs/ingestion.md, "Sources that change: --sync"): $src joins the relationship's
// kgrec_sources and, in a sync run, $run ("<src>@<id>") replaces $src's stamp in kgrec_seen;
// endpoints this statement merges ($stamp_a, $stamp_b) are stamped as nodes $src states.
UNWIND $rows AS row
@START_VERB (a:@START_LABEL {@START_KEY: row[0]})
WITH row, a
@END_VERB (b:@END_LABEL {@END_KEY: row[1]})
WITH row, a, b
MERGE (a)-[r:@TYPE]->(b)
@SET_PROPS
FOREACH (_ IN CASE WHEN $src IS NULL OR $src IN coalesce(r.kgrec_sources, []) THEN [] ELSE [1] END |
  SET r.kgrec_sources = coalesce(r.kgrec_sources, []) + $src)
FOREACH (_ IN CASE WHEN $run IS NULL OR $run IN coalesce(r.kgrec_seen, []) THEN [] ELSE [1] END |
  SET r.kgrec_seen = [x IN coalesce(r.kgrec_seen, []) WHERE NOT x STARTS WITH $src + '@'] + $run)
FOREACH (n IN [x IN [a] WHERE $stamp_a] + [x IN [b] WHERE $stamp_b] |
  FOREACH (_ IN CASE WHEN $src IN coalesce(n.kgrec_sources, []) THEN [] ELSE [1] END |
    SET n.kgrec_sources = coalesce(n.kgrec_sources, []) + $src)
  FOREACH (_ IN CASE WHEN $run IS NULL OR $run IN coalesce(n.kgrec_seen, []) THEN [] ELSE [1] END |
    SET n.kgrec_seen = [x IN coalesce(n.kgrec_seen, []) WHERE NOT x STARTS WITH $src + '@'] + $run))
RETURN count(r) AS written
