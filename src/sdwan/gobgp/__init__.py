"""gobgpd gRPC client facade and protobuf conversions (the in-memory fake for unit
tests lives in tests/support/)."""
