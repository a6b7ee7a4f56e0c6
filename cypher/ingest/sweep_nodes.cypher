// Sync sweep, step 2: nodes $src stated (or gave properties) before and not in run $run lose
// $src and the properties only $src stated. kgrec_sources stays null on nodes that had none
// (loaded before provenance, or only updated by $src). Batched and idempotent.
MATCH (n)
WHERE ($src IN n.kgrec_sources OR any(x IN coalesce(n.kgrec_props, []) WHERE x STARTS WITH $src + ':'))
  AND NOT $run IN coalesce(n.kgrec_seen, [])
CALL (n) {
  WITH n, coalesce(n.kgrec_props, []) AS had
  WITH n, had, [x IN had WHERE x STARTS WITH $src + ':'] AS mine
  FOREACH (x IN [x IN mine WHERE none(y IN had WHERE y ENDS WITH substring(x, size($src)) AND NOT y STARTS WITH $src + ':')] |
    REMOVE n[substring(x, size($src) + 1)])
  SET n.kgrec_props = [x IN had WHERE NOT x IN mine],
      n.kgrec_sources = CASE WHEN n.kgrec_sources IS NULL THEN null ELSE [x IN n.kgrec_sources WHERE x <> $src] END,
      n.kgrec_seen = [x IN coalesce(n.kgrec_seen, []) WHERE NOT x STARTS WITH $src + '@']
} IN TRANSACTIONS OF $size ROWS
