// For each @LABEL node whose key @KEY is in $keys: the @PROP values of its neighbours through
// @TYPE relationships ($direction: 'out', 'in' or 'both'), ranked by the relationship property
// $order (highest first, lowest first when $ascending; relationships without it last; $order
// null: by the value), at most $limit of them (kgrec features, `related` of a [[features]] entry).
// (`IN $keys`, not one lookup per key: a label without an index on @KEY is scanned once per page.)
MATCH (n:@LABEL)
WHERE n.@KEY IN $keys
CALL (n) {
  MATCH (n)-[r:@TYPE]-(m)
  WHERE m.@PROP IS NOT NULL AND ($direction = 'both' OR (startNode(r) = n) = ($direction = 'out'))
  WITH r, m
  ORDER BY r[$order] IS NULL,
    CASE WHEN $ascending THEN r[$order] END ASC,
    CASE WHEN NOT $ascending THEN r[$order] END DESC,
    m.@PROP
  LIMIT $limit
  RETURN collect(m.@PROP) AS values
}
RETURN n.@KEY AS key, values
