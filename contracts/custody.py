"""The chain of custody of evidence objects: what happened to each, by whom."""

from enum import StrEnum


class CustodyAction(StrEnum):
    """A step in an evidence object's custody."""

    # Stored from an upload, with the hash taken while it arrived.
    UPLOADED = "uploaded"
    # Read back in full and hashed again by the evidence checks.
    HASHED = "hashed"
    # Made from another object (a thumbnail from the video) and stored.
    DERIVED = "derived"
    # Handed to someone: a link issued to an officer, or a copy read by a service.
    READ = "read"
