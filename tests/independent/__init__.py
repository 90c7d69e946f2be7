"""Independent implementation of the four APIs (test target for apicontract).

Run: python tests/independent/server.py --port PORT [options]; see server.py.
"""
