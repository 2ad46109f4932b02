"""The collaboration server (issue 10): versioned designs shared between organisations.

Layers, each one module:

* :mod:`.db` — SQLAlchemy 2 models and the engine/session factory (SQLite or PostgreSQL);
* :mod:`.migrations` — Alembic schema migrations, applied on start (:func:`.db.upgrade`);
* :mod:`.security` — password hashing (scrypt), API tokens (stored hashed), roles;
* :mod:`.services` — the domain operations over a ``Session``; they enforce visibility
  (what an organisation may not see is :class:`~.services.NotFound`) and permissions.
  Both the JSON API (:mod:`.api`) and the HTML pages call them;
* :mod:`.checker` — parses, validates and evaluates a new revision in a worker process;
* :mod:`.api` — thin FastAPI routers; :mod:`.app` — ``create_app(db_url)``;
* :mod:`.seed` — the ``--demo`` data; :mod:`.client` — the ``push``/``pull`` HTTP client.
"""
