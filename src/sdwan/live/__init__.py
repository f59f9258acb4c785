"""Live state: one WatchEvent stream per router feeding one coalescing store writer."""
