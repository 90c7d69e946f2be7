"""`apicontract check`: run the contract suite against a target, report, and exit 0/1/2."""
