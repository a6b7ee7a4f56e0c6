// Free-text search over titles and names, e.g. in Neo4j Browser:
// CALL db.index.fulltext.queryNodes('kgrec_names', 'lasseter') YIELD node, score RETURN node, score
CREATE FULLTEXT INDEX kgrec_names IF NOT EXISTS FOR (n:Item|Entity|Genre) ON EACH [n.title, n.name]
