"""Staged rollouts: a change applied in waves, each gated by a health check, rolled
back as a whole on a failed gate, a timeout or a missing confirmation."""
