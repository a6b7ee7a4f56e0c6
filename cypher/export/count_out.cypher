// Relationships of type @TYPE leaving @LABEL nodes (answered from the count store).
MATCH (:@LABEL)-[r:@TYPE]->() RETURN count(r) AS count
