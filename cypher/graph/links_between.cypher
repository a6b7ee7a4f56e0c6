// Whether any @TYPE relationship joins a @A node and a @B node, in either direction.
RETURN EXISTS { MATCH (:@A)-[:@TYPE]-(:@B) } AS found
