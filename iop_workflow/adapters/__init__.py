"""Adapters from the pure domain to the outside world: the database (orm, tables, db)."""
