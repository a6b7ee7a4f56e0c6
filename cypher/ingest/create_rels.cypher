// Create relationships of one type that are known not to exist yet (a unit's first load,
// no (start, type, end) twice in it: see kgrec/ingest/load.py); endpoints are matched
// (or merged) by key. Each row is [start key, end key, property values...].
// Provenance (docs/ingestion.md, "Sources that change: --sync"): $src joins the relationship's
// kgrec_sources and, in a sync run, $run ("<src>@<id>") replaces $src's stamp in kgrec_seen.
// Endpoints this statement merges ($stamp_a, $stamp_b) are stamped as nodes $src states (as in
// ingest/merge_nodes, with no properties). $src null: no provenance.
UNWIND $rows AS row
@START_VERB (a:@START_LABEL {@START_KEY: row[0]})
WITH row, a
@END_VERB (b:@END_LABEL {@END_KEY: row[1]})
WITH row, a, b
CREATE (a)-[r:@TYPE {kgrec_sources: CASE WHEN $src IS NULL THEN null ELSE [$src] END,
                     kgrec_seen: CASE WHEN $run IS NULL THEN null ELSE [$run] END}]->(b)
@SET_PROPS
FOREACH (n IN [x IN [a] WHERE $stamp_a] + [x IN [b] WHERE $stamp_b] |
  SET n.kgrec_sources = CASE WHEN $src IN coalesce(n.kgrec_sources, []) THEN n.kgrec_sources
        ELSE coalesce(n.kgrec_sources, []) + $src END
  SET n.kgrec_props = CASE WHEN $run IS NULL OR $run IN coalesce(n.kgrec_props, []) THEN n.kgrec_props
        ELSE [x IN coalesce(n.kgrec_props, []) WHERE NOT x STARTS WITH $src + '@' |
              CASE WHEN x STARTS WITH $src + ':' THEN '~' + x ELSE x END] + $run END)
RETURN count(r) AS written
