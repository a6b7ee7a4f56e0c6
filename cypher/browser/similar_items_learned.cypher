// Films whose learned (trained-model) embedding is closest to this one's.
// Needs `kgrec train --write` (or `kgrec write-embeddings RUN`). Set the film first:
//   :param itemId => 1
MATCH (film:Item {id: $itemId})
CALL db.index.vector.queryNodes('item_embedding', 11, film.embedding) YIELD node, score
WHERE node <> film
RETURN node.id AS id, node.title AS title, round(score, 4) AS similarity
ORDER BY similarity DESC
LIMIT 10
