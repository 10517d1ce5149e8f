"""Sync: bring the registry in line with Ollama, GitHub Models, endpoints and MLflow.

ollama.py (local models), remote.py (GitHub Models, endpoints), mlflow.py (tracked experiments), all_sources.py (all at once), job.py (the sync job). Never talks Qt.
"""
