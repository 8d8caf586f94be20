"""The ruling document: rendering, signing with the platform key, storage and checks."""
