// Add properties and labels to existing nodes of one label, found by key; never create one
// (a [[tables.nodes]] entry with create = false). Rows naming no existing node match nothing
// and are counted by the caller from `updated`. @LABEL/@KEY are checked, quoted names.
// $src does not join kgrec_sources: an update-only table states properties of a node, not
// that the node exists.
// row.stated: "<src>:<property>" for each property the row sets (not null).
// Provenance (docs/ingestion.md, "Sources that change: --sync"): kgrec_props lists each
// property the row states as "<src>:<property>". In a sync run, $run ("<src>@<id>") joins
// kgrec_props too; the first write of a node in that run marks $src's earlier entries stale
// ("~<src>:<property>"; stating the property again clears the mark), and the sweep removes the
// properties still marked. Each SET item reads only the property it writes: the planner then
// adds no Eager step. $src null: no provenance.
UNWIND $rows AS row
MATCH (n:@LABEL {@KEY: row.key})
SET n.kgrec_props = CASE WHEN $src IS NULL THEN n.kgrec_props
      WHEN $run IS NULL OR $run IN coalesce(n.kgrec_props, []) THEN
        [x IN coalesce(n.kgrec_props, []) WHERE NOT x IN row.stated AND NOT (x STARTS WITH '~' AND substring(x, 1) IN row.stated)] + row.stated
      ELSE [x IN coalesce(n.kgrec_props, []) WHERE NOT x IN row.stated AND NOT (x STARTS WITH '~' AND substring(x, 1) IN row.stated) AND NOT x STARTS WITH $src + '@' |
              CASE WHEN x STARTS WITH $src + ':' THEN '~' + x ELSE x END] + row.stated + $run END
@SET_PROPS
@SET_LABELS
RETURN count(n) AS updated
