"""The observatory's read-only data API (see api/app.py)."""
