"""Kernel FIB programming from gobgpd best paths."""
