// Materialise recommendations: (:users)-[:RECOMMENDED {rank, score, model, explanation}]->(:items).
UNWIND $rows AS row
MATCH (u:@USERS {@USER_KEY: row.user})
MATCH (i:@ITEMS {@ITEM_KEY: row.item})
MERGE (u)-[r:RECOMMENDED]->(i)
SET r.rank = row.rank, r.score = row.score, r.model = $model, r.explanation = row.explanation
RETURN count(r) AS written
