"""OWNER: helper "jobs-desk"."""
