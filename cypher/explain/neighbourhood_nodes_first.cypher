// First page of the nodes explanation paths may pass through whose type is @LABEL (keyset pagination
// on the unique key @KEY; users are never among them): one row holding a list per node
// [elementId, labels, [values of $props]] ($props: the declared key and name properties, then name,
// title and year) and the page's last key. A node that carries an earlier label of $shadowing with
// its key ($keys) set is of that type (read on its pages); only nodes with a label in $labels count.
MATCH (n:@LABEL)
WHERE n.@KEY IS NOT NULL AND NOT n:@USERS AND any(l IN labels(n) WHERE l IN $labels)
  AND none(l IN $shadowing WHERE l IN labels(n) AND n[$keys[l]] IS NOT NULL)
WITH n ORDER BY n.@KEY LIMIT $limit
RETURN collect([elementId(n), labels(n), [p IN $props | n[p]]]) AS rows, max(n.@KEY) AS last
