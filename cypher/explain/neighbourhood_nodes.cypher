// Every node explanation paths may pass through (all but users), with what identifies and names it:
// one row holding a list per node [elementId, labels, [values of $props]] ($props: the declared key
// and name properties, then name, title and year). Far faster to stream than one record per node; a
// list keeps its nulls where collect() would drop them.
MATCH (n)
WHERE NOT n:@USERS AND any(l IN labels(n) WHERE l IN $labels)
RETURN collect([elementId(n), labels(n), [p IN $props | n[p]]]) AS rows
