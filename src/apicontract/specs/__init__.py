"""Loading, bundling, linting and building the hand-written specs."""
