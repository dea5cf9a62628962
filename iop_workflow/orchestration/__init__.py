"""What the Prefect flows share: the database, the day, events and artifacts.

Nothing here decides anything: the service layer does; this only connects it to
Prefect (tasks, events, artifacts).
"""
