"""GoBGP fleet orchestrator: desired BGP state in a store, reconciled to every gobgpd over gRPC."""

__version__ = "0.1.0"
