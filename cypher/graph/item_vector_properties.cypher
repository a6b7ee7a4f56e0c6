// Which feat_* vector properties nodes of $label carry (schema lookup, no scan of values).
CALL db.schema.nodeTypeProperties() YIELD nodeLabels, propertyName
WHERE $label IN nodeLabels AND propertyName STARTS WITH 'feat_'
RETURN DISTINCT propertyName AS property
