// The neighbourhood of a film: its genres, director, cast, writers, categories (not its ratings).
// In Neo4j Browser first set the film, e.g.
//   :param title => 'Toy Story (1995)'
MATCH p = (film:Item {title: $title})-[r]->(n)
WHERE NOT type(r) STARTS WITH 'FB_'
RETURN p
LIMIT 60
