// Next page of @LABEL nodes: keys strictly after $after (see nodes_first).
MATCH (n:@LABEL)
WHERE n.@KEY > $after AND none(l IN $shadowing WHERE l IN labels(n) AND n[$keys[l]] IS NOT NULL)
RETURN n.@KEY AS key, [p IN $props | n[p]] AS props
ORDER BY key
LIMIT $limit
