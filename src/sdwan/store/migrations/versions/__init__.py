"""The schema's migrations: one linear chain. A file ``NNNN_name.py`` holds revision
``NNNN_name``, whose ``down_revision`` is the file numbered one less; a new migration
takes the next number on top of the last (tests/unit/test_migrations.py checks it)."""
