// One uniqueness constraint per node key (idempotent).
CREATE CONSTRAINT @NAME IF NOT EXISTS FOR (n:@LABEL) REQUIRE n.@KEY IS UNIQUE
