"""Staff identity: who signs in, which roles they hold, and how tokens are checked."""
