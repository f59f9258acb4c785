"""Declarative fleet files: parse, plan (field by field, with the sessions a change
would reset), apply in one transaction, and export."""
