// Whether the item exists and has the given vector property.
OPTIONAL MATCH (i:@ITEMS {@ITEM_KEY: $item})
RETURN i IS NOT NULL AS found, i[$property] IS NOT NULL AS has_vector
