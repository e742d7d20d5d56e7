"""Commerce Plaza: the purchase orders resellers send to distributors from their plaza carts."""
