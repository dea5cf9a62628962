"""The pure domain: rules, state machines and deadlines.

Nothing here imports Prefect, SQLAlchemy or apprise, and no function reads the clock:
time always comes in as a value.
"""
