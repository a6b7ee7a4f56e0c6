// Materialise recommendations: (:users)-[:RECOMMENDED {rank, score, model, explanation, path, path_types}]->(:items).
// explanation: the first reason's sentence; path: the element ids of its nodes, user to item;
// path_types: the relationship type between each node and the next (cypher/browser/my_recommendations draws them).
UNWIND $rows AS row
MATCH (u:@USERS {@USER_KEY: row.user})
MATCH (i:@ITEMS {@ITEM_KEY: row.item})
MERGE (u)-[r:RECOMMENDED]->(i)
SET r.rank = row.rank, r.score = row.score, r.model = $model, r.explanation = row.explanation,
    r.path = row.path, r.path_types = row.path_types
RETURN count(r) AS written
