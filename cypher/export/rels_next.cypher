// Next page of @TYPE relationships: start-node keys strictly after $after (see rels_first).
MATCH (a:@LABEL)
WHERE a.@KEY > $after AND none(l IN $shadowing WHERE l IN labels(a) AND a[$keys[l]] IS NOT NULL) AND EXISTS { (a)-[:@TYPE]->() }
WITH a ORDER BY a.@KEY LIMIT $limit
WITH collect(a) AS page
WITH page, size(page) AS starts, last(page).@KEY AS last_key
UNWIND page AS a
MATCH (a)-[r:@TYPE]->(b)
WITH starts, last_key, a, r, b, head([l IN $labels WHERE l IN labels(b) AND b[$keys[l]] IS NOT NULL]) AS dst_label
RETURN starts, last_key, dst_label,
       collect(a.@KEY) AS src,
       collect(CASE WHEN dst_label IS NULL THEN 0 ELSE b[$keys[dst_label]] END) AS dst,
       collect(CASE WHEN size($props) = 0 THEN null ELSE [p IN $props | r[p]] END) AS props
