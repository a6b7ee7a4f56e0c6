// Add properties and labels to existing nodes of one label, found by key; never create one
// (a [[tables.nodes]] entry with create = false). Rows naming no existing node match nothing
// and are counted by the caller from `updated`. @LABEL/@KEY are checked, quoted names.
UNWIND $rows AS row
MATCH (n:@LABEL {@KEY: row.key})
@SET_PROPS
@SET_LABELS
RETURN count(n) AS updated
