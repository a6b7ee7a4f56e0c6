// The stored recommendations of the given users, by user and rank.
UNWIND $users AS key
MATCH (u:@USERS {@USER_KEY: key})-[r:RECOMMENDED]->(i:@ITEMS)
RETURN u.@USER_KEY AS user, i.@ITEM_KEY AS item, r.rank AS rank, r.score AS score, r.model AS model,
       r.explanation AS explanation
ORDER BY user, rank
