// The element ids of @LABEL nodes given by key (the nodes of explanation paths stored with
// RECOMMENDED, so Neo4j Browser draws the path the CLI printed first).
UNWIND $keys AS key
MATCH (n:@LABEL {@KEY: key})
RETURN key, elementId(n) AS id
