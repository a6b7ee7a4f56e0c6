// Films with posters like this one (EfficientNet-Lite0 features, cosine similarity).
// In Neo4j Browser first set the parameters, e.g.
//   :param title => 'Toy Story (1995)'
//   :param k => 10
// then run this statement. Needs `kgrec features` to have written Item.feat_image.
MATCH (film:Item {title: $title})
WHERE film.feat_image IS NOT NULL
CALL db.index.vector.queryNodes('item_feat_image', $k + 1, film.feat_image) YIELD node, score
WITH film, node, score
WHERE node <> film
RETURN node.id AS id, node.title AS title, round(score, 4) AS score
ORDER BY score DESC, id
LIMIT $k
