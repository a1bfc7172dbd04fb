#!/usr/bin/python3
"""Records the signals of one interface, the peer of tests/bus*.bats.

usage: bus-subscriber.py INTERFACE RECORD_FILE READY_FILE

Subscribes (AddMatch, synchronous) to every signal of INTERFACE, then writes
its unique name to READY_FILE.  Each signal received is appended to
RECORD_FILE as one JSON line: [MEMBER, PATH, DESTINATION, [ARG...]], the
arguments in bus-service.py's canonical typed form.
"""
import json
import os
import sys

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bus_canon import canon  # noqa: E402


def main():
    iface, record, ready = sys.argv[1:4]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    conn = dbus.SessionBus()

    def handler(*args, member=None, path=None, destination=None):
        with open(record, 'a') as f:
            f.write(json.dumps([member, path, destination, [canon(a) for a in args]]) + '\n')

    conn.add_signal_receiver(handler, dbus_interface=iface, member_keyword='member',
                             path_keyword='path', destination_keyword='destination')
    with open(ready, 'w') as f:
        f.write(conn.get_unique_name() + '\n')
    GLib.MainLoop().run()


main()
