"""The dashboard (FastAPI + Jinja2) and the REST API. Entry point: :func:`qunyun.web.app.create_app`."""
