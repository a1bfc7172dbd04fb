#!/usr/bin/python3
# bus_flood.py ADDRESS COUNTFILE: emit signals org.ipcbox.Soak.Tick(i) on
# /soak as fast as the bus takes them until the connection fails (the bus
# daemon is killed); the number sent goes to COUNTFILE.  dbus-python.
import sys
import dbus
import dbus.lowlevel

addr, countfile = sys.argv[1], sys.argv[2]
n = 0
try:
    conn = dbus.bus.BusConnection(addr)
    while True:
        m = dbus.lowlevel.SignalMessage("/soak", "org.ipcbox.Soak", "Tick")
        m.append(dbus.UInt32(n & 0xFFFFFFFF))
        conn.send_message(m)
        n += 1
        if n % 64 == 0:
            conn.flush()
            if not conn.get_is_connected():
                break
except dbus.exceptions.DBusException:
    pass
finally:
    with open(countfile, "w") as f:
        f.write("%d\n" % n)
