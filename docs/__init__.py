"""The documentation's pages are Markdown; docs/tools/ has their checks and the diagram renderer."""
