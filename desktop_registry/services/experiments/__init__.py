"""Experiments: parameter, prompt, ensemble and fine-tune variants of a base model.

recipes.py validates what a user asks for; service.py creates and tracks the variant. Never talks Qt.
"""
