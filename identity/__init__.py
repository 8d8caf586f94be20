"""Who may act on a case: staff sign-in, and parties reaching their case by SMS link."""
