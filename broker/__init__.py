"""The embedded broker: a wire-compatible implementation of the Descope API the dashboard uses."""
