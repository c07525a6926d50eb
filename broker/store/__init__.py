"""Storage: SQLAlchemy 2 models by area, one engine per process, Alembic migrations.

The bottom layer: imports nothing else of the broker. Queries live in the services that own
them (``identity``, ``outbound``, ``lifecycle``…), not here and not in route handlers.
"""
