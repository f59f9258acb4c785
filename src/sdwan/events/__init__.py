"""Events: a stored, bounded history of changes plus an in-process wake-up for streams."""
