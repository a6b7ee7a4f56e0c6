// Title, year and rating count of the given items that pass the filters (a null filter is off).
// $label: an extra label the item must carry; $genre: a genre name; $prop with $values: a property
// whose value must be one of $values; $year_min/$year_max: a year range; order follows $keys.
UNWIND range(0, size($keys) - 1) AS pos
MATCH (i:Item {id: $keys[pos]})
WHERE ($label IS NULL OR $label IN labels(i))
  AND ($genre IS NULL OR EXISTS { (i)-[:IN_GENRE]->(:Genre {name: $genre}) })
  AND ($prop IS NULL OR i[$prop] IN $values)
  AND ($year_min IS NULL OR i.year >= $year_min)
  AND ($year_max IS NULL OR i.year <= $year_max)
RETURN i.id AS key, coalesce(i.title, i.name, toString(i.id)) AS title, i.year AS year,
       COUNT { (i)<-[:RATED]-() } AS ratings
ORDER BY pos
