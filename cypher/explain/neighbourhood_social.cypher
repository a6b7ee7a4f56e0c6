// Every social relationship between users (types in $types, declared role = "social"): one row
// holding a list [start key, end key, type, start name, end name] per relationship ($user_name: the
// users' name property; null when they have none).
MATCH (a:@USERS)-[r]->(b:@USERS)
WHERE type(r) IN $types AND a <> b
RETURN collect([a.@USER_KEY, b.@USER_KEY, type(r), a[$user_name], b[$user_name]]) AS rows
