"""Channel adapters: each verifies, parses, calls the dialogue and renders, and nothing more."""
