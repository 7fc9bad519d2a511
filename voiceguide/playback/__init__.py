"""Playback: the control vocabulary (:mod:`.control`) shared by the player, the play loop and everything that
steers them (keys, voice commands, the daemon's triggers). Importing this package imports nothing else."""
