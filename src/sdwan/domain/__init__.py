"""Pure models and validation: no I/O."""
