// Whether the user exists, the keys of every item they rated, and of those rated at least $min_rating
// (or without a rating): explanation paths start from the latter.
OPTIONAL MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[r:RATED]->(i:Item)
RETURN u IS NOT NULL AS found, collect(i.id) AS seen,
       collect(CASE WHEN coalesce(r.rating, $min_rating) >= $min_rating THEN i.id END) AS liked
