// Upsert nodes of one label by key. @LABEL/@KEY are checked, quoted names;
// @SET_PROPS sets each of the group's properties by name (a map `+=` would make
// the planner add an Eager step, as it cannot rule out writing the key).
UNWIND $rows AS row
MERGE (n:@LABEL {@KEY: row.key})
@SET_PROPS
@SET_LABELS
