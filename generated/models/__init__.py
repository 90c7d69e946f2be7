"""Pydantic v2 models generated from spec/ by `apicontract build`. Do not edit."""

# cpaas: models of spec/cpaas/openapi.yaml
# sim_v1: models of spec/sim-v1/openapi.yaml
# sim_v2: models of spec/sim-v2/openapi.yaml
# sim_v3: models of spec/sim-v3/openapi.yaml
