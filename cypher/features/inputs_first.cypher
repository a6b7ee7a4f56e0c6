// First page of @LABEL nodes in key order (keyset pagination on the unique key @KEY),
// with the values of the properties $props that feed a feature encoder.
MATCH (n:@LABEL)
WHERE n.@KEY IS NOT NULL
RETURN n.@KEY AS key, [p IN $props | n[p]] AS values
ORDER BY key
LIMIT $limit
