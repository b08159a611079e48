"""Checks of the docs (links, Mermaid diagrams) and the SVG renderer: used by tests/docs and make diagrams."""
