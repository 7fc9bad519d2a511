"""Home Assistant through an MQTT broker: the device announces itself by MQTT discovery and takes commands.

The folder keeps the pure parts apart from the client: :mod:`.settings` reads the ``[mqtt]`` table,
:mod:`.device` keeps the device's id, :mod:`.discovery` writes the entity configs, :mod:`.commands` reads
what Home Assistant sends, :mod:`.states` turns a ``ctl status`` reply into state messages, and
:mod:`.bridge` is the paho-mqtt client on its own thread (the only module that imports paho, inside its
factory). The bridge talks to the daemon through the control socket, exactly as ``voiceguide ctl`` and the
phone remote do, so every command meets the same rules.
"""
