"""OpenAI-compatible endpoints a user added: names, URLs, their keys in the keyring.

Never stores a key anywhere but the secret store.
"""
