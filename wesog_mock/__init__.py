"""A faithful in-memory fake of the Wesog Search image API."""
