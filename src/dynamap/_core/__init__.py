"""Core types, errors, seeding and validation helpers (no heavy imports)."""
