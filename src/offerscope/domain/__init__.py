"""The rules of SPEC.md §3, pure: no web framework, no database, no I/O."""
