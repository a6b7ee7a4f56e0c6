// The item side of explanation paths: each target's neighbours `mid` over relationship types in
// $types that are knowledge-graph nodes (entity, genre, item) or one of $neighbours (users by key).
UNWIND $items AS key
MATCH (t:Item {id: key})-[r2]-(mid)
WHERE type(r2) IN $types AND (NOT mid:User OR mid.id IN $neighbours)
RETURN key, coalesce(t.title, toString(t.id)) AS title, elementId(mid) AS mid, labels(mid) AS mid_labels,
       mid.id AS mid_id, mid.name AS mid_name, mid.iri AS mid_iri, mid.title AS mid_title,
       type(r2) AS type2, startNode(r2) = mid AS out2
