"""Platform connectors: each fetches a page and returns a normalized PageSnapshot."""
