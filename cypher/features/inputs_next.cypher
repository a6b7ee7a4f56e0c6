// Next page of @LABEL nodes: keys strictly after $after (see inputs_first).
MATCH (n:@LABEL)
WHERE n.@KEY > $after
RETURN n.@KEY AS key, [p IN $props | n[p]] AS values
ORDER BY key
LIMIT $limit
