"""A timeline played live: the control vocabulary (:mod:`.control`: commands, states, snapshots, the timeline
source), the player that feeds the audio callback (:mod:`.player`), the loop that waits on the clock
(:mod:`.loop`), catching up after an underrun (:mod:`.catchup`) and "slower" (:mod:`.slowing`: the rest
compiled again and swapped in). Importing this package imports nothing else."""
