// Attach one vector per node: $rows = [{key, vector}], stored as a float32 vector
// property named $property (a checked name; the procedure takes it as a value).
UNWIND $rows AS row
MATCH (n:@LABEL {@KEY: row.key})
CALL db.create.setNodeVectorProperty(n, $property, row.vector)
RETURN count(n) AS written
