MATCH ()-[r:@TYPE]->() RETURN count(r) AS count
