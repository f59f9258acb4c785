"""gobgpd gRPC client facade, protobuf conversions and an in-memory fake."""
