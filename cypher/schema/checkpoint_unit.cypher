CREATE CONSTRAINT kgrec_checkpoint_unit IF NOT EXISTS FOR (c:KgrecCheckpoint) REQUIRE c.unit IS UNIQUE
