// One cosine vector index per modality, e.g. item_feat_image on Item.feat_image.
// The index name ($name) and dimension ($dim) are parameters; label and property are checked names.
CREATE VECTOR INDEX $name IF NOT EXISTS
FOR (n:@LABEL) ON n.@PROP
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine'}}
