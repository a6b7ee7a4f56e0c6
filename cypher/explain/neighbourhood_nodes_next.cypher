// Next page of the nodes explanation paths may pass through: keys of @LABEL strictly after $after
// (see neighbourhood_nodes_first).
MATCH (n:@LABEL)
WHERE n.@KEY > $after AND NOT n:@USERS AND any(l IN labels(n) WHERE l IN $labels)
  AND none(l IN $shadowing WHERE l IN labels(n) AND n[$keys[l]] IS NOT NULL)
WITH n ORDER BY n.@KEY LIMIT $limit
RETURN collect([elementId(n), labels(n), [p IN $props | n[p]]]) AS rows, max(n.@KEY) AS last
