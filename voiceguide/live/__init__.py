"""One session played live, for both ``voiceguide run`` and the daemon: the builder, the output
and clock, the speaking gate, the held microphone, the answer listener and "slower", wired once."""
