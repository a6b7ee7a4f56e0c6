// Which feat_* vector properties items carry (schema lookup, no scan of values).
CALL db.schema.nodeTypeProperties() YIELD nodeLabels, propertyName
WHERE 'Item' IN nodeLabels AND propertyName STARTS WITH 'feat_'
RETURN DISTINCT propertyName AS property
