// Three-hop explanation paths user -RATED-> seen -[r1]- mid -[r2]- target, for several targets.
// mid is a knowledge-graph node (entity, genre, item) or one of $neighbours (users, matched by key);
// only relationship types in $types are followed. Per (target, mid): up to $per_mid seen items.
MATCH (u:User {id: $user})
UNWIND $items AS key
MATCH (t:Item {id: key})-[r2]-(mid)
WHERE type(r2) IN $types AND mid <> u AND (NOT mid:User OR mid.id IN $neighbours)
MATCH (mid)-[r1]-(seen:Item)<-[rated:RATED]-(u)
WHERE type(r1) IN $types AND seen <> t
WITH key, t, r2, mid, collect({key: seen.id, name: coalesce(seen.title, toString(seen.id)),
     rating: rated.rating, type: type(r1), out: startNode(r1) = seen})[..$per_mid] AS seen
RETURN key, coalesce(t.title, toString(t.id)) AS title, labels(mid) AS mid_labels, mid.id AS mid_id, mid.name AS mid_name, mid.iri AS mid_iri,
       mid.title AS mid_title, type(r2) AS type2, startNode(r2) = mid AS out2, seen
