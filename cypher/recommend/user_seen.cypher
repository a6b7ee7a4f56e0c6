// Whether the user exists, and the keys of every item they interacted with (RATED).
OPTIONAL MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[:RATED]->(i:Item)
RETURN u IS NOT NULL AS found, collect(i.id) AS seen
