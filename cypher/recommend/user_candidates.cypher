// One round trip for a recommendation: whether the user exists, [item key, weight] of every item
// they interacted with ($weight: the declared weight property, null for binary interactions), and
// those of the candidate $keys (best first) that they have not and that pass the filters (see
// items.cypher for $label, $where, $prop/$values, $year_min/$year_max), in order.
OPTIONAL MATCH (u:@USERS {@USER_KEY: $user})
OPTIONAL MATCH (u)-[r:@INTERACTION]->(s:@ITEMS)
WITH u, collect([s.@ITEM_KEY, CASE WHEN $weight IS NULL THEN null ELSE r[$weight] END]) AS rated,
     collect(s.@ITEM_KEY) AS seen
CALL {
  WITH seen
  UNWIND range(0, size($keys) - 1) AS pos
  MATCH (i:@ITEMS {@ITEM_KEY: $keys[pos]})
  WHERE NOT i.@ITEM_KEY IN seen
    AND ($label IS NULL OR $label IN labels(i))
    AND all(w IN $where WHERE EXISTS { MATCH (i)-[r]-(n) WHERE elementId(n) IN w.nodes AND (w.types IS NULL OR type(r) IN w.types) })
    AND ($prop IS NULL OR i[$prop] IN $values)
    AND ($year_min IS NULL OR i.year >= $year_min)
    AND ($year_max IS NULL OR i.year <= $year_max)
  WITH pos, i ORDER BY pos
  RETURN collect([i.@ITEM_KEY, coalesce(i.@ITEM_NAME, i.name, i.title, toString(i.@ITEM_KEY)), i.year]) AS items
}
RETURN u IS NOT NULL AS found, rated, items
