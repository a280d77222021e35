"""Read path: retrieve -> compose/generate -> cite/verify -> respond."""
