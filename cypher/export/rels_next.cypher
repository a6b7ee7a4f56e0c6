// Next page of @TYPE relationships: start-node keys strictly after $after (see rels_first).
MATCH (a:@LABEL)
WHERE a.@KEY > $after AND none(l IN $shadowing WHERE l IN labels(a) AND a[$keys[l]] IS NOT NULL) AND EXISTS { (a)-[:@TYPE]->() }
WITH a ORDER BY a.@KEY LIMIT $limit
MATCH (a)-[r:@TYPE]->(b)
WITH a, r, b, head([l IN $labels WHERE l IN labels(b) AND b[$keys[l]] IS NOT NULL]) AS dst_label
WITH a, r, dst_label, CASE WHEN dst_label IS NULL THEN null ELSE b[$keys[dst_label]] END AS dst
RETURN a.@KEY AS src,
       collect(CASE WHEN dst IS NULL THEN null ELSE [dst_label, dst, [p IN $props | r[p]]] END) AS out
ORDER BY src
