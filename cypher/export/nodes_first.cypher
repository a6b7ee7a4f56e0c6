// First page of @LABEL nodes in key order (keyset pagination on the unique key @KEY).
// Nodes that carry an earlier label of $shadowing with its key ($keys) set belong to that type.
MATCH (n:@LABEL)
WHERE n.@KEY IS NOT NULL AND none(l IN $shadowing WHERE l IN labels(n) AND n[$keys[l]] IS NOT NULL)
RETURN n.@KEY AS key, [p IN $props | n[p]] AS props
ORDER BY key
LIMIT $limit
