"""What follows a ruling: its signed document, the parties' answers, reconsideration."""
