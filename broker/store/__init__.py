"""Storage: SQLAlchemy 2 models by area, one engine per process, Alembic migrations."""
