"""Typed API clients generated from spec/ by `apicontract build`. Do not edit."""

# cpaas: client of spec/cpaas/openapi.yaml
# sim_v1: client of spec/sim-v1/openapi.yaml
# sim_v2: client of spec/sim-v2/openapi.yaml
# sim_v3: client of spec/sim-v3/openapi.yaml
