"""Stand-ins for outside parties, for the demo and the tests."""
