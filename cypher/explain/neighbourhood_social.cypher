// Every social relationship between users (types in $types, declared role = "social"): one row
// holding a list [start key, end key, type, start name, end name] per relationship ($name: the
// users' name property; null when they have none).
MATCH (a:@USERS)-[r]->(b:@USERS)
WHERE type(r) IN $types AND a <> b
RETURN collect([a.@USER_KEY, b.@USER_KEY, type(r), a[$name], b[$name]]) AS rows
