// Upsert nodes of one label by key; $src (the spec) joins kgrec_sources.
// row.stated: "<src>:<property>" for each property the row sets (not null).
// Provenance (docs/ingestion.md, "Sources that change: --sync"): kgrec_props lists each
// property the row states as "<src>:<property>". In a sync run, $run ("<src>@<id>") joins
// kgrec_props too; the first write of a node in that run marks $src's earlier entries stale
// ("~<src>:<property>"; stating the property again clears the mark), and the sweep removes the
// properties still marked. Each SET item reads only the property it writes: the planner then
// adds no Eager step. $src null: no provenance.
// @LABEL/@KEY are checked, quoted names; @SET_PROPS sets each of the group's properties by name
// (a map `+=` would make the planner add an Eager step, as it cannot rule out writing the key).
UNWIND $rows AS row
MERGE (n:@LABEL {@KEY: row.key})
SET n.kgrec_props = CASE WHEN $src IS NULL THEN n.kgrec_props
      WHEN $run IS NULL OR $run IN coalesce(n.kgrec_props, []) THEN
        [x IN coalesce(n.kgrec_props, []) WHERE NOT x IN row.stated AND NOT (x STARTS WITH '~' AND substring(x, 1) IN row.stated)] + row.stated
      ELSE [x IN coalesce(n.kgrec_props, []) WHERE NOT x IN row.stated AND NOT (x STARTS WITH '~' AND substring(x, 1) IN row.stated) AND NOT x STARTS WITH $src + '@' |
              CASE WHEN x STARTS WITH $src + ':' THEN '~' + x ELSE x END] + row.stated + $run END,
    n.kgrec_sources = CASE WHEN $src IS NULL OR $src IN coalesce(n.kgrec_sources, []) THEN n.kgrec_sources
      ELSE coalesce(n.kgrec_sources, []) + $src END
@SET_PROPS
@SET_LABELS
