// One round trip for a recommendation: whether the user exists, [item key, rating] of every item
// they rated, and those of the candidate $keys (best first) that they have not rated and that pass
// the filters (see items.cypher for $label, $genre, $prop/$values, $year_min/$year_max), in order.
OPTIONAL MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[r:RATED]->(s:Item)
WITH u, collect([s.id, r.rating]) AS rated, collect(s.id) AS seen
CALL {
  WITH seen
  UNWIND range(0, size($keys) - 1) AS pos
  MATCH (i:Item {id: $keys[pos]})
  WHERE NOT i.id IN seen
    AND ($label IS NULL OR $label IN labels(i))
    AND ($genre IS NULL OR EXISTS { (i)-[:IN_GENRE]->(:Genre {name: $genre}) })
    AND ($prop IS NULL OR i[$prop] IN $values)
    AND ($year_min IS NULL OR i.year >= $year_min)
    AND ($year_max IS NULL OR i.year <= $year_max)
  WITH pos, i ORDER BY pos
  RETURN collect([i.id, coalesce(i.title, i.name, toString(i.id)), i.year, COUNT { (i)<-[:RATED]-() }]) AS items
}
RETURN u IS NOT NULL AS found, rated, items
