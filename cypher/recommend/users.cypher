// Every user key (for writing recommendations of all users).
MATCH (u:User)
RETURN u.id AS key
ORDER BY key
