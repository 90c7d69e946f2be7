"""The four API implementations: state and the rulings' semantics, one module per API."""
