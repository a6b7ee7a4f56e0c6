// The vector index named $name, if it exists, with its label, property and dimension.
SHOW VECTOR INDEXES YIELD name, labelsOrTypes, properties, options
WHERE name = $name
RETURN name, labelsOrTypes AS labels, properties, options.indexConfig.`vector.dimensions` AS dim
