"""config.json: schema, validation and the typed view of a container configuration."""

#: The runtime-spec version ocirun implements, and writes in every state it reports.
SPEC_VERSION = "1.3.0"
