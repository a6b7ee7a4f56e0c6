// Sync sweep, step 2: properties $src no longer states are removed (its entries marked stale,
// "~<src>:<property>", on nodes it wrote in run $run; all its entries on nodes it did not write
// in this run), unless another source states them too; nodes $src did not write in this run lose
// $src from kgrec_sources. kgrec_sources stays null on nodes that had none (loaded before
// provenance, or only updated by $src). Batched and idempotent: a rerun finds only what is left.
MATCH (n)
WHERE any(x IN coalesce(n.kgrec_props, []) WHERE x STARTS WITH '~' + $src + ':')
   OR (($src IN n.kgrec_sources OR any(x IN coalesce(n.kgrec_props, []) WHERE x STARTS WITH $src + ':'))
       AND NOT $run IN coalesce(n.kgrec_props, []))
CALL (n) {
  WITH n, coalesce(n.kgrec_props, []) AS had, $run IN coalesce(n.kgrec_props, []) AS seen
  WITH n, had, seen,
       [x IN had WHERE x STARTS WITH '~' + $src + ':' OR (NOT seen AND (x STARTS WITH $src + ':' OR x STARTS WITH $src + '@'))] AS gone
  WITH n, had, gone, seen,
       [x IN gone WHERE NOT x STARTS WITH $src + '@' | substring(x, size($src) + CASE WHEN x STARTS WITH '~' THEN 2 ELSE 1 END)] AS props
  FOREACH (p IN [p IN props WHERE none(y IN had WHERE NOT y STARTS WITH '~' AND NOT y IN gone AND y ENDS WITH ':' + p)] |
    REMOVE n[p])
  SET n.kgrec_props = [x IN had WHERE NOT x IN gone],
      n.kgrec_sources = CASE WHEN n.kgrec_sources IS NULL OR seen THEN n.kgrec_sources
                             ELSE [x IN n.kgrec_sources WHERE x <> $src] END
} IN TRANSACTIONS OF $size ROWS
