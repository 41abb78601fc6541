"""OWNER: helper "messages-channels"."""
