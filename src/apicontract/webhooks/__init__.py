"""Webhooks and callbacks as the spec describes them, and a sender that tests a consumer's receiver."""
