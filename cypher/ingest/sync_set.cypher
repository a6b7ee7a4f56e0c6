// Record a source's sync run and phase.
MERGE (s:KgrecSync {source: $source})
SET s.run = $run, s.phase = $phase, s.updated = datetime()
