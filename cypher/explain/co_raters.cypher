// How many users other than $but interacted with both items $a and $b, with a weight ($weight: the
// declared weight property; null for binary interactions) of at least $level_a on $a and $level_b
// on $b (null: any): the count a collaborative reason states ("42 people who rated ... also rated ...").
MATCH (x:@ITEMS {@ITEM_KEY: $a})<-[ra:@INTERACTION]-(u:@USERS)-[rb:@INTERACTION]->(y:@ITEMS {@ITEM_KEY: $b})
WHERE u.@USER_KEY <> $but
  AND ($level_a IS NULL OR ra[$weight] >= $level_a)
  AND ($level_b IS NULL OR rb[$weight] >= $level_b)
RETURN count(DISTINCT u) AS n
