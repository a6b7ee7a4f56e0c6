// Every stored relationship of the types in $types between two non-user nodes (knowledge-graph
// hops of explanation paths): one row holding a list [start elementId, end elementId, type] per hop.
MATCH (a)-[r]->(b)
WHERE type(r) IN $types AND NOT a:@USERS AND NOT b:@USERS
RETURN collect([elementId(a), elementId(b), type(r)]) AS rows
