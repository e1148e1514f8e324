"""Typer commands: thin adapters over the library (layer 5; nothing imports it)."""
