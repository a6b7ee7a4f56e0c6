// Add properties and labels to existing nodes of one label, found by key; never create one
// (a [[tables.nodes]] entry with create = false). Rows naming no existing node match nothing
// and are counted by the caller from `updated`. @LABEL/@KEY are checked, quoted names.
// Provenance as in ingest/merge_nodes, except that $src does not join kgrec_sources: an
// update-only table states properties of a node, not that the node exists.
UNWIND $rows AS row
MATCH (n:@LABEL {@KEY: row.key})
@SET_PROPS
@SET_LABELS
WITH n, [k IN keys(row.props) WHERE row.props[k] IS NOT NULL | $src + ':' + k] AS stated,
     $run IS NOT NULL AND NOT $run IN coalesce(n.kgrec_seen, []) AS fresh, coalesce(n.kgrec_props, []) AS had
WITH n, stated, fresh, had,
     CASE WHEN fresh THEN [x IN had WHERE x STARTS WITH $src + ':' AND NOT x IN stated] ELSE [] END AS dropped
FOREACH (x IN [x IN dropped WHERE none(y IN had WHERE y ENDS WITH substring(x, size($src)) AND NOT y STARTS WITH $src + ':')] |
  REMOVE n[substring(x, size($src) + 1)])
FOREACH (_ IN CASE WHEN fresh THEN [1] ELSE [] END |
  SET n.kgrec_seen = [x IN coalesce(n.kgrec_seen, []) WHERE NOT x STARTS WITH $src + '@'] + $run)
FOREACH (_ IN CASE WHEN $src IS NULL OR (size(dropped) = 0 AND all(x IN stated WHERE x IN had)) THEN [] ELSE [1] END |
  SET n.kgrec_props = [x IN had WHERE NOT x IN dropped] + [x IN stated WHERE NOT x IN had])
RETURN count(n) AS updated
