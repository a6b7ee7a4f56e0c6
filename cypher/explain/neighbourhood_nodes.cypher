// Every node explanation paths may pass through (all but users), with what identifies and names it:
// one row holding a list per node [elementId, labels, id, name, iri, title, year] (far faster to
// stream than one record per node; a list keeps its nulls where collect() would drop them).
MATCH (n)
WHERE NOT n:User AND (n:Item OR n:Genre OR n:Entity)
RETURN collect([elementId(n), labels(n), n.id, n.name, n.iri, n.title, n.year]) AS rows
