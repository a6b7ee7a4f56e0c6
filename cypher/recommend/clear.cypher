// Remove the RECOMMENDED relationships of the given users (before writing new ones).
UNWIND $users AS key
MATCH (:User {id: key})-[r:RECOMMENDED]->(:Item)
DELETE r
RETURN count(r) AS removed
