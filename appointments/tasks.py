"""OWNER: helper "jobs-desk": the Celery tasks (ids only)."""
