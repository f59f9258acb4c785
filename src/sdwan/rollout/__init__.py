"""Staged rollouts: changes applied wave by wave, each wave behind a health gate."""
