"""The doors: protocol servers that turn requests into core jobs."""
