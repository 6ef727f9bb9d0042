"""The shipped list of common passwords and the adapter that looks passwords up in it."""
