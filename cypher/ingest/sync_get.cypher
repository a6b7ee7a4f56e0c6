// The sync state of one source: its current run id and phase (load, sweep, done).
MATCH (s:KgrecSync {source: $source})
RETURN s.run AS run, s.phase AS phase
