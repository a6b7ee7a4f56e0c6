// Whether the user exists, and [item key, rating] of every item they rated (rating null when the
// relationship has none).
OPTIONAL MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[r:RATED]->(i:Item)
RETURN u IS NOT NULL AS found, collect([i.id, r.rating]) AS rated
