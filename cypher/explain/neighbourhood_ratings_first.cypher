// First page of the interactions (the schema's users -@INTERACTION-> items), the hops of collaborative
// and social explanation paths, by user: up to $limit users in key order (keyset pagination on
// @USER_KEY) with one list [user key, item key, weight] per interaction ($weight: the declared weight
// property; null for binary interactions) and the page's last user key.
MATCH (u:@USERS)
WHERE u.@USER_KEY IS NOT NULL
WITH u ORDER BY u.@USER_KEY LIMIT $limit
OPTIONAL MATCH (u)-[r:@INTERACTION]->(i:@ITEMS)
RETURN collect(CASE WHEN i IS NULL THEN null
                    ELSE [u.@USER_KEY, i.@ITEM_KEY, CASE WHEN $weight IS NULL THEN null ELSE r[$weight] END] END) AS rows,
       max(u.@USER_KEY) AS last
