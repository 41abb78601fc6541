"""Test runs: fast password hashing, no debug."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Every lock the suite takes is checked against core.locks' order.
LOCK_ORDER_CHECKS = True
