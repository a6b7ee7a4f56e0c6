// Whether one stored relationship of @TYPE joins two nodes given by label and key (path checks).
MATCH (a:@A_LABEL {@A_KEY: $a})-[r:@TYPE]->(b:@B_LABEL {@B_KEY: $b})
RETURN count(r) AS n
