// Whether the user exists, and [item key, weight] of every item they interacted with ($weight: the
// declared weight property; the weight is null for binary interactions or where one has none).
OPTIONAL MATCH (u:@USERS {@USER_KEY: $user})
OPTIONAL MATCH (u)-[r:@INTERACTION]->(i:@ITEMS)
RETURN u IS NOT NULL AS found, collect([i.@ITEM_KEY, CASE WHEN $weight IS NULL THEN null ELSE r[$weight] END]) AS rated
