"""Who is calling (`caller`) and what they may do (`policy`). Every route goes through both."""
