// My recommendations and why: a user's stored recommendations (`kgrec recommend USER --write`), each
// with the path of its first reason, the one `kgrec recommend` prints first (stored on RECOMMENDED:
// `path`, its nodes' element ids, and `path_types`). Click a RECOMMENDED relationship to read its
// rank, score and that reason's sentence (`explanation`).
// The labels are your graph's: `kgrec recommend USER --write` prints this query with them filled in.
// In Neo4j Browser first set the user, e.g.
//   :param user => 1
MATCH (u:@USERS {@USER_KEY: $user})-[rec:RECOMMENDED]->(i:@ITEMS)
CALL (rec) {
  UNWIND range(0, size(coalesce(rec.path, [])) - 2) AS j
  MATCH hop = (a)-[r]-(b)
  WHERE elementId(a) = rec.path[j] AND elementId(b) = rec.path[j + 1] AND type(r) = rec.path_types[j]
  RETURN collect(hop) AS why
}
RETURN u, rec, i, why
ORDER BY rec.rank
