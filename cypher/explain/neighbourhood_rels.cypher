// Every stored relationship of the types in $types between two non-user nodes (knowledge-graph
// hops of explanation paths): one row holding a list [start elementId, end elementId, type] per hop.
// Weak evidence is left out: a type in $min_counts (type -> least count, declared `min_count`) keeps
// only relationships whose count property ($count_props: type -> property) is at least that.
MATCH (a)-[r]->(b)
WHERE type(r) IN $types AND NOT a:@USERS AND NOT b:@USERS
  AND (NOT type(r) IN keys($min_counts) OR coalesce(r[$count_props[type(r)]], 0) >= $min_counts[type(r)])
RETURN collect([elementId(a), elementId(b), type(r)]) AS rows
