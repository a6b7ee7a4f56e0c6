// Two-hop explanation paths liked -[r1]- mid -[r2]- target for a user known only by liked items
// ($liked keys, e.g. a new user at query time). mid is a knowledge-graph node (not a user);
// only types in $types. Per (target, mid): up to $per_mid liked items.
UNWIND $items AS key
MATCH (t:Item {id: key})-[r2]-(mid)
WHERE type(r2) IN $types AND NOT mid:User
MATCH (mid)-[r1]-(seen:Item)
WHERE type(r1) IN $types AND seen.id IN $liked AND seen <> t
WITH key, t, r2, mid, collect({key: seen.id, name: coalesce(seen.title, toString(seen.id)),
     rating: null, type: type(r1), out: startNode(r1) = seen})[..$per_mid] AS seen
RETURN key, coalesce(t.title, toString(t.id)) AS title, labels(mid) AS mid_labels, mid.id AS mid_id, mid.name AS mid_name, mid.iri AS mid_iri,
       mid.title AS mid_title, type(r2) AS type2, startNode(r2) = mid AS out2, seen
