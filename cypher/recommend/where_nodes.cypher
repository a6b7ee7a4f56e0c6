// The nodes a `--where KEY=VALUE` filter means: nodes of label @LABEL (or, for a relationship type,
// nodes linked to an item over one of $types; then @LABEL is the items' label and $types not null)
// whose value of one of $props (key and name properties) equals $value, case-insensitive.
// With $value null: up to $limit distinct names of such nodes (for "did you mean").
MATCH (n:@LABEL)
WHERE $types IS NULL
UNWIND [p IN $props | n[p]] AS v
WITH n, v WHERE v IS NOT NULL AND ($value IS NULL OR toLower(toString(v)) = $value)
RETURN DISTINCT elementId(n) AS node, toString(v) AS name
LIMIT $limit
UNION
MATCH (:@LABEL)-[r]-(n)
WHERE $types IS NOT NULL AND type(r) IN $types
WITH DISTINCT n
UNWIND [p IN $props | n[p]] AS v
WITH n, v WHERE v IS NOT NULL AND ($value IS NULL OR toLower(toString(v)) = $value)
RETURN DISTINCT elementId(n) AS node, toString(v) AS name
LIMIT $limit
