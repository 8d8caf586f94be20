"""Event contracts and the case workflow's public interface, shared by every service."""
