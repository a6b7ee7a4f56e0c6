// Every rating: the hops of collaborative explanation paths, one row holding a list
// [user key, item key, rating] per rating.
MATCH (u:User)-[r:RATED]->(i:Item)
RETURN collect([u.id, i.id, r.rating]) AS rows
