// The liked-items side of explanation paths for a user known only by $liked items: liked items
// that touch one of the $mids (element ids from item_links) over types in $types.
UNWIND $liked AS key
MATCH (seen:Item {id: key})-[r1]-(mid)
WHERE NOT mid:User AND type(r1) IN $types AND elementId(mid) IN $mids
RETURN elementId(mid) AS mid, seen.id AS key, coalesce(seen.title, toString(seen.id)) AS name,
       null AS rating, type(r1) AS type, startNode(r1) = seen AS out
