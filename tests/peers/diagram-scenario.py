#!/usr/bin/python3
"""The scenario bus-diagram's tests capture, written with dbus-python.

usage: diagram-scenario.py service READY_FILE
       diagram-scenario.py client

service: owns org.ipcbox.Diagram and serves /org/ipcbox/Diagram
(interface org.ipcbox.Diagram):
  Ping() -> s        returns "pong"
  Fail()             the error org.ipcbox.Diagram.Error.Broken "on purpose"
  Slow() -> s        returns "late" after 300 ms
  Notify(s)          emits the broadcast signal Changed(s), then returns
  Never()            never replies
  Quit()             returns; the service leaves the bus once its caller has
Writes READY_FILE once the name is owned.

client: one connection that calls, in this order, Ping, Fail, Slow,
Notify("hi"), Never (given up after 0.3 s), Quit; exits 0 if every answer
was the expected one.
"""
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

NAME = 'org.ipcbox.Diagram'
IFACE = 'org.ipcbox.Diagram'
PATH = '/org/ipcbox/Diagram'


class Service(dbus.service.Object):
    def __init__(self, conn, loop):
        super().__init__(conn, PATH)
        self.loop = loop

    @dbus.service.method(IFACE, in_signature='', out_signature='s')
    def Ping(self):
        return 'pong'

    @dbus.service.method(IFACE, in_signature='', out_signature='')
    def Fail(self):
        raise dbus.exceptions.DBusException('on purpose', name=IFACE + '.Error.Broken')

    @dbus.service.method(IFACE, in_signature='', out_signature='s', async_callbacks=('ok', 'err'))
    def Slow(self, ok, err):
        GLib.timeout_add(300, lambda: ok('late') and False)

    @dbus.service.method(IFACE, in_signature='s', out_signature='')
    def Notify(self, text):
        self.Changed(text)

    @dbus.service.signal(IFACE, signature='s')
    def Changed(self, text):
        pass

    @dbus.service.method(IFACE, in_signature='', out_signature='', async_callbacks=('ok', 'err'))
    def Never(self, ok, err):
        self.pending = (ok, err)

    @dbus.service.method(IFACE, in_signature='', out_signature='', sender_keyword='sender')
    def Quit(self, sender):
        # Leave only once the caller has: were the caller still there, the
        # bus would answer its pending Never call with NoReply for us, and
        # the capture would depend on which of the two went first.
        bus = self.connection
        bus.add_signal_receiver(self.gone, 'NameOwnerChanged', 'org.freedesktop.DBus',
                                'org.freedesktop.DBus', '/org/freedesktop/DBus', arg0=sender)
        driver = dbus.Interface(bus.get_object('org.freedesktop.DBus', '/org/freedesktop/DBus', introspect=False),
                                'org.freedesktop.DBus')
        if not driver.NameHasOwner(sender):
            GLib.idle_add(self.loop.quit)

    def gone(self, name, old, new):
        if not new:
            GLib.idle_add(self.loop.quit)


def service(ready):
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    loop = GLib.MainLoop()
    Service(bus, loop)
    name = dbus.service.BusName(NAME, bus)
    with open(ready, 'w') as f:
        f.write(bus.get_unique_name() + '\n')
    loop.run()
    del name


def client():
    bus = dbus.SessionBus()
    obj = dbus.Interface(bus.get_object(NAME, PATH, introspect=False), IFACE)
    assert obj.Ping() == 'pong'
    try:
        obj.Fail()
        sys.exit('Fail returned')
    except dbus.exceptions.DBusException as e:
        assert e.get_dbus_name() == IFACE + '.Error.Broken', e
    assert obj.Slow() == 'late'
    obj.Notify('hi')
    try:
        obj.Never(timeout=0.3)
        sys.exit('Never returned')
    except dbus.exceptions.DBusException as e:
        assert e.get_dbus_name() == 'org.freedesktop.DBus.Error.NoReply', e
    obj.Quit()


if __name__ == '__main__':
    if sys.argv[1] == 'service':
        service(sys.argv[2])
    else:
        client()
