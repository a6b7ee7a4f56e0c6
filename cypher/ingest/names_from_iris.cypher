// Readable names for @LABEL nodes without @PROP, from their IRI's last path segment or fragment,
// underscores as spaces (".../resource/Alternative_rock" -> "Alternative rock").
MATCH (n:@LABEL) WHERE n.@PROP IS NULL AND n.iri IS NOT NULL
CALL (n) {
  WITH n, last(split(last(split(n.iri, '/')), '#')) AS tail
  SET n.@PROP = CASE WHEN trim(tail) = '' THEN n.iri ELSE replace(tail, '_', ' ') END
} IN TRANSACTIONS OF 10000 ROWS
