"""A scripted case through the running platform, as the README's first command."""
