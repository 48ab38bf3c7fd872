"""Storage: the schema, its migrations, the engine and the unit of work. Nothing here decides."""
