// First page of the knowledge-graph hops of explanation paths, by start node: up to $limit nodes of
// type @LABEL in key order (keyset pagination on @KEY; $shadowing and $keys as in
// neighbourhood_nodes_first) with every stored relationship of the types in $types they start
// towards a non-user node: one row holding a list [start elementId, end elementId, type] per hop and
// the page's last key. Weak evidence is left out: a type in $min_counts (type -> least count,
// declared `min_count`) keeps only relationships whose count property ($count_props) is at least that.
MATCH (a:@LABEL)
WHERE a.@KEY IS NOT NULL AND NOT a:@USERS AND none(l IN $shadowing WHERE l IN labels(a) AND a[$keys[l]] IS NOT NULL)
WITH a ORDER BY a.@KEY LIMIT $limit
OPTIONAL MATCH (a)-[r]->(b)
WHERE type(r) IN $types AND NOT b:@USERS
  AND (NOT type(r) IN keys($min_counts) OR coalesce(r[$count_props[type(r)]], 0) >= $min_counts[type(r)])
RETURN collect(CASE WHEN b IS NULL THEN null ELSE [elementId(a), elementId(b), type(r)] END) AS rows,
       max(a.@KEY) AS last
