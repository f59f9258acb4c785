"""Test doubles, each type-checked against the protocol it stands for."""
