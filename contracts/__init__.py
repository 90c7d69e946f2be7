"""The contract suite: property tests that hold any implementation of the four APIs to the spec.

Run it with `apicontract check` or as plain pytest: `pytest --pyargs apicontract.contracts --api sim-v2
--base-url https://... --api-key ...`. It tests a target it is given and imports nothing from the server.
"""
