"""The PySide6 window: the only package that imports Qt.

Shows state and sends intents to services; never talks to a model server or SQLite itself.
"""
