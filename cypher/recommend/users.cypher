// Every user key (for writing recommendations of all users).
MATCH (u:@USERS)
RETURN u.@USER_KEY AS key
ORDER BY key
