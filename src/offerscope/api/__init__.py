"""The HTTP API of SPEC.md §4: thin routes over the use cases."""
