"""Versions: slots (roles), their versions, switching the active one and rolling back.

Never edits history: every switch appends to it.
"""
