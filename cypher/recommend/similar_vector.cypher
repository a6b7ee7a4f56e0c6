// Items whose modality vector ($property, indexed by $index) is nearest to the given item's.
MATCH (film:Item {id: $item})
WITH film, film[$property] AS v
WHERE v IS NOT NULL
CALL db.index.vector.queryNodes($index, $k + 1, v) YIELD node, score
WITH film, node, score
WHERE node <> film
RETURN node.id AS key, coalesce(node.title, toString(node.id)) AS title, score
ORDER BY score DESC, key
LIMIT $k
