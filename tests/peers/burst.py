#!/usr/bin/python3
# burst.py ADDRESS INTERFACE N: send N signals /burst INTERFACE.Tick(u i)
# from one connection as fast as python3-dbus goes, then call the bus's
# GetId and wait for the answer.  The bus handles one connection's messages
# in order, so once GetId is answered it has passed every signal on to its
# subscribers: a listener that was stopped meanwhile finds all N waiting.
import sys

import dbus
import dbus.lowlevel

address, interface, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
bus = dbus.bus.BusConnection(address)
for i in range(count):
    msg = dbus.lowlevel.SignalMessage("/burst", interface, "Tick")
    msg.append(dbus.UInt32(i))
    bus.send_message(msg)
bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId", "", ())
