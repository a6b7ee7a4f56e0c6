// First page of @TYPE relationships leaving @LABEL nodes, paged by start-node key @KEY, as columns:
// one row per end-node type, its edges as parallel lists (start keys, end keys, the $props values of
// each edge), every row with the page's number of start nodes and its last start key (the next
// page's cursor). An end node's type is the first label of $labels it carries with that label's
// key $keys[l] set; the row whose dst_label is null gathers the end nodes of no exported type, to skip.
MATCH (a:@LABEL)
WHERE a.@KEY IS NOT NULL AND none(l IN $shadowing WHERE l IN labels(a) AND a[$keys[l]] IS NOT NULL) AND EXISTS { (a)-[:@TYPE]->() }
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
