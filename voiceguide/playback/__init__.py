"""Playback: what plays a compiled session live, and the parts around the play loop (see ``live_session``)."""
