// Whether the names of a feature's `related` entry fit the graph: some @LABEL node has a @TYPE
// neighbour with the property @PROP, and (when $order is given) some such relationship has $order.
RETURN EXISTS { MATCH (:@LABEL)-[:@TYPE]-(m) WHERE m.@PROP IS NOT NULL } AS valued,
       $order IS NULL OR EXISTS { MATCH (:@LABEL)-[r:@TYPE]-() WHERE r[$order] IS NOT NULL } AS ordered
