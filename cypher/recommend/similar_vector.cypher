// Items whose modality vector ($property, indexed by $index) is nearest to the given item's.
MATCH (film:@ITEMS {@ITEM_KEY: $item})
WITH film, film[$property] AS v
WHERE v IS NOT NULL
CALL db.index.vector.queryNodes($index, $k + 1, v) YIELD node, score
WITH film, node, score
WHERE node <> film
RETURN node.@ITEM_KEY AS key, coalesce(node.@ITEM_NAME, node.name, node.title, toString(node.@ITEM_KEY)) AS title, score
ORDER BY score DESC, key
LIMIT $k
