"""The reference server: a stateful implementation of the four APIs, driven by the bundled specs."""
