// Sync sweep, step 1 (after the load of run $run is complete): relationships $src stated before
// and not in this run lose $src; those no source states any more are deleted, except types in
// $protected (interactions $src does not declare). Batched and idempotent: a rerun after a kill
// finds only what is left.
MATCH ()-[r]->()
WHERE $src IN r.kgrec_sources AND NOT $run IN coalesce(r.kgrec_seen, [])
CALL (r) {
  WITH r, [x IN r.kgrec_sources WHERE x <> $src] AS rest
  SET r.kgrec_sources = rest, r.kgrec_seen = [x IN coalesce(r.kgrec_seen, []) WHERE NOT x STARTS WITH $src + '@']
  WITH r, rest
  WHERE size(rest) = 0 AND NOT type(r) IN $protected
  DELETE r
} IN TRANSACTIONS OF $size ROWS
