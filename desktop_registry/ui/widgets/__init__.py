"""Reusable widgets shared by panels (charts, …)."""
