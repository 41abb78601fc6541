"""OWNER: helper "family-link"."""
