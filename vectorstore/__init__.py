"""Write path, offline: load -> chunk -> embed -> store."""
