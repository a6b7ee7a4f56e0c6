// Remove the RECOMMENDED relationships of the given users (before writing new ones).
UNWIND $users AS key
MATCH (:@USERS {@USER_KEY: key})-[r:RECOMMENDED]->(:@ITEMS)
DELETE r
RETURN count(r) AS removed
