"""config.json: schema, validation and the typed view of a container configuration."""
