// Upsert nodes of one label by key, recording provenance (see docs/ingestion.md, "Sources that
// change: --sync"): $src (the spec) joins kgrec_sources, each property the row states is listed
// as "<src>:<property>" in kgrec_props. In a sync run ($run, "<src>@<id>"), the first write of a
// node in that run also removes the properties $src stated before and no longer states (unless
// another source states them too) and stamps kgrec_seen. $src null: no provenance.
// @LABEL/@KEY are checked, quoted names; @SET_PROPS sets each of the group's properties by name.
UNWIND $rows AS row
MERGE (n:@LABEL {@KEY: row.key})
@SET_PROPS
@SET_LABELS
WITH n, [k IN keys(row.props) WHERE row.props[k] IS NOT NULL | $src + ':' + k] AS stated,
     $run IS NOT NULL AND NOT $run IN coalesce(n.kgrec_seen, []) AS fresh, coalesce(n.kgrec_props, []) AS had
WITH n, stated, fresh, had,
     CASE WHEN fresh THEN [x IN had WHERE x STARTS WITH $src + ':' AND NOT x IN stated] ELSE [] END AS dropped
FOREACH (x IN [x IN dropped WHERE none(y IN had WHERE y ENDS WITH substring(x, size($src)) AND NOT y STARTS WITH $src + ':')] |
  REMOVE n[substring(x, size($src) + 1)])
FOREACH (_ IN CASE WHEN $src IS NULL OR $src IN coalesce(n.kgrec_sources, []) THEN [] ELSE [1] END |
  SET n.kgrec_sources = coalesce(n.kgrec_sources, []) + $src)
FOREACH (_ IN CASE WHEN fresh THEN [1] ELSE [] END |
  SET n.kgrec_seen = [x IN coalesce(n.kgrec_seen, []) WHERE NOT x STARTS WITH $src + '@'] + $run)
FOREACH (_ IN CASE WHEN $src IS NULL OR (size(dropped) = 0 AND all(x IN stated WHERE x IN had)) THEN [] ELSE [1] END |
  SET n.kgrec_props = [x IN had WHERE NOT x IN dropped] + [x IN stated WHERE NOT x IN had])
