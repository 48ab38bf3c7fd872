"""The decision index: every R12 decision answered from memory, fresh on every process."""
