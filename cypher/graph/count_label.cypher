MATCH (n:@LABEL) RETURN count(n) AS count
