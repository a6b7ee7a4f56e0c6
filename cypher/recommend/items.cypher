// Title and year of the given items that pass the filters (a null filter is off).
// $label: an extra label the item must carry; $where: a list of {types, nodes}, each met when the
// item is linked (one hop, either direction, over one of `types` when not null) to one of `nodes`
// (element ids); $prop with $values: a property whose value must be one of $values;
// $year_min/$year_max: a year range; order follows $keys.
UNWIND range(0, size($keys) - 1) AS pos
MATCH (i:@ITEMS {@ITEM_KEY: $keys[pos]})
WHERE ($label IS NULL OR $label IN labels(i))
  AND all(w IN $where WHERE EXISTS { MATCH (i)-[r]-(n) WHERE elementId(n) IN w.nodes AND (w.types IS NULL OR type(r) IN w.types) })
  AND ($prop IS NULL OR i[$prop] IN $values)
  AND ($year_min IS NULL OR i.year >= $year_min)
  AND ($year_max IS NULL OR i.year <= $year_max)
RETURN i.@ITEM_KEY AS key, coalesce(i.@ITEM_NAME, i.name, i.title, toString(i.@ITEM_KEY)) AS title, i.year AS year
ORDER BY pos
