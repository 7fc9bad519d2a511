"""A script compiled into a timeline: what a session is played with (:mod:`.options`), the builder that owns
the speech engine (:mod:`.builder`), the compiler, the mixer, speech rendered ahead, affirmations, recorded
voice and validate's warnings (:mod:`.lint`)."""
