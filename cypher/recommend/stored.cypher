// The stored recommendations of the given users, by user and rank.
UNWIND $users AS key
MATCH (u:User {id: key})-[r:RECOMMENDED]->(i:Item)
RETURN u.id AS user, i.id AS item, r.rank AS rank, r.score AS score, r.model AS model, r.explanation AS explanation
ORDER BY user, rank
