// Next page of interactions: users with keys strictly after $after (see neighbourhood_ratings_first).
MATCH (u:@USERS)
WHERE u.@USER_KEY > $after
WITH u ORDER BY u.@USER_KEY LIMIT $limit
OPTIONAL MATCH (u)-[r:@INTERACTION]->(i:@ITEMS)
RETURN collect(CASE WHEN i IS NULL THEN null
                    ELSE [u.@USER_KEY, i.@ITEM_KEY, CASE WHEN $weight IS NULL THEN null ELSE r[$weight] END] END) AS rows,
       max(u.@USER_KEY) AS last
