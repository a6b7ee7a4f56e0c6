// My recommendations and why: a user's stored recommendations (`kgrec recommend USER --write`)
// with, for each, the two most specific knowledge-graph paths from films the user rated
// (a shared director, actor, writer, category or genre; fewer films behind it = more specific).
// Click a RECOMMENDED relationship to read its rank, score and explanation sentence.
// In Neo4j Browser first set the user, e.g.
//   :param user => 1
MATCH (u:User {id: $user})-[rec:RECOMMENDED]->(i:Item)
CALL (u, i) {
  MATCH p = (u)-[:RATED]->(seen:Item)-[r1]->(mid)<-[r2]-(i)
  WHERE type(r1) = type(r2) AND NOT type(r1) STARTS WITH 'FB_' AND seen <> i
  WITH p, COUNT { (mid)<--() } AS films
  ORDER BY films
  LIMIT 2
  RETURN collect(p) AS why
}
RETURN u, rec, i, why
ORDER BY rec.rank
