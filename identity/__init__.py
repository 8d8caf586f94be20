"""Who may act on a case: staff with roles, and parties who follow an SMS link."""
