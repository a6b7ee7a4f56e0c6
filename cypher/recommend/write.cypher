// Materialise recommendations: (:User)-[:RECOMMENDED {rank, score, model, paths}]->(:Item).
UNWIND $rows AS row
MATCH (u:User {id: row.user})
MATCH (i:Item {id: row.item})
MERGE (u)-[r:RECOMMENDED]->(i)
SET r.rank = row.rank, r.score = row.score, r.model = $model, r.explanation = row.explanation
RETURN count(r) AS written
