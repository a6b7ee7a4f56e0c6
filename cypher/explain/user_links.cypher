// The user side of explanation paths: the user's rated items among $seen (candidates chosen by
// embedding) that touch one of the $mids (element ids from item_links) over types in $types;
// co-raters only among $neighbours.
MATCH (u:User {id: $user})-[rated:RATED]->(seen:Item)
WHERE seen.id IN $seen
MATCH (seen)-[r1]-(mid)
WHERE NOT mid:User AND type(r1) IN $types AND elementId(mid) IN $mids
RETURN elementId(mid) AS mid, seen.id AS key, coalesce(seen.title, toString(seen.id)) AS name,
       rated.rating AS rating, type(r1) AS type, startNode(r1) = seen AS out
UNION ALL
MATCH (u:User {id: $user}), (mid:User)
WHERE mid.id IN $neighbours AND mid <> u
MATCH (mid)-[r1:RATED]->(seen:Item)<-[rated:RATED]-(u)
WHERE seen.id IN $seen
RETURN elementId(mid) AS mid, seen.id AS key, coalesce(seen.title, toString(seen.id)) AS name,
       rated.rating AS rating, type(r1) AS type, false AS out
