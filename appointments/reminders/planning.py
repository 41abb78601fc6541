"""Which reminders are due: rows written for each active rule and each booking it covers.

OWNER: helper "reminder-engine".
"""
