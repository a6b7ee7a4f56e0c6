// Every interaction (the schema's users -@INTERACTION-> items): the hops of collaborative and social
// explanation paths, one row holding a list [user key, item key, weight] per interaction ($weight:
// the declared weight property; null for binary interactions).
MATCH (u:@USERS)-[r:@INTERACTION]->(i:@ITEMS)
RETURN collect([u.@USER_KEY, i.@ITEM_KEY, CASE WHEN $weight IS NULL THEN null ELSE r[$weight] END]) AS rows
