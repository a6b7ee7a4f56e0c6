CREATE INDEX item_title IF NOT EXISTS FOR (n:Item) ON (n.title)
