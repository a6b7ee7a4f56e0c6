// Four-hop paths user -RATED-> seen -[a]- m1 -[b]- m2 -[c]- target over knowledge-graph nodes,
// for targets no shorter path reaches. Only types in $types; at most $limit paths.
MATCH (u:User {id: $user}), (t:Item {id: $item})
MATCH p = (u)-[:RATED]->(seen:Item)-[a]-(m1)-[b]-(m2)-[c]-(t)
WHERE NOT m1:User AND NOT m2:User AND seen <> t AND m2 <> seen
  AND type(a) IN $types AND type(b) IN $types AND type(c) IN $types
WITH p LIMIT $limit
RETURN [n IN nodes(p) | {labels: labels(n), id: n.id, name: n.name, iri: n.iri, title: n.title}] AS nodes,
       [i IN range(0, 3) | {type: type(relationships(p)[i]), forward: startNode(relationships(p)[i]) = nodes(p)[i]}] AS rels,
       relationships(p)[0].rating AS rating
