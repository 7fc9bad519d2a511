"""The engine: what a session is played with (typed options) and how it becomes a timeline (the builder)."""
