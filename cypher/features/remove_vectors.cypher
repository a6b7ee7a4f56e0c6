// Remove the vector property @PROP from @LABEL nodes whose key is not in $keep
// (their input disappeared since the last run).
MATCH (n:@LABEL)
WHERE n.@PROP IS NOT NULL AND NOT n.@KEY IN $keep
REMOVE n.@PROP
RETURN count(n) AS removed
