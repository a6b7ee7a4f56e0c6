// Drop the index named $name (used when a vector index's dimension or target changed).
DROP INDEX $name IF EXISTS
