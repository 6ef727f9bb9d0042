"""The entity and the rules of authentication, free of any framework or store."""
