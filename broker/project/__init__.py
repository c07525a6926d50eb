"""The local project."""
