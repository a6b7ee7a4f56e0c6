// Next page of knowledge-graph hops: start nodes of @LABEL with keys strictly after $after
// (see neighbourhood_rels_first).
MATCH (a:@LABEL)
WHERE a.@KEY > $after AND NOT a:@USERS AND none(l IN $shadowing WHERE l IN labels(a) AND a[$keys[l]] IS NOT NULL)
WITH a ORDER BY a.@KEY LIMIT $limit
OPTIONAL MATCH (a)-[r]->(b)
WHERE type(r) IN $types AND NOT b:@USERS
  AND (NOT type(r) IN keys($min_counts) OR coalesce(r[$count_props[type(r)]], 0) >= $min_counts[type(r)])
RETURN collect(CASE WHEN b IS NULL THEN null ELSE [elementId(a), elementId(b), type(r)] END) AS rows,
       max(a.@KEY) AS last
