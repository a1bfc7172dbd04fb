#!/usr/bin/python3
"""A D-Bus service written with dbus-python, the peer of tests/bus*.bats.

usage: bus-service.py NAME RECORD_FILE READY_FILE

Owns NAME and serves /org/ipcbox/Test (interface org.ipcbox.Test):
  Echo(any...)        returns its arguments unchanged, with the same signature,
                      and appends what it received, in a canonical typed form
                      (canon() below), as one JSON line to RECORD_FILE
  Fail()              the error org.ipcbox.Test.Error.Failed "you asked for it"
  Never()             never replies
  EmitChanged(s)      emits the signal Changed(s)
  properties Name (s, read/write), Count (u, read/write), Tags (as, read-only)
through org.freedesktop.DBus.Properties (a Set is recorded as ["set", NAME, VALUE]);
child objects /org/ipcbox/Test/child and /org/ipcbox/Test/child/grand.
Writes READY_FILE once NAME is owned.
"""
import json
import os
import sys

import dbus
import dbus.lowlevel
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bus_canon import canon  # noqa: E402

IFACE = 'org.ipcbox.Test'
PATH = '/org/ipcbox/Test'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'

class Test(dbus.service.Object):
    def __init__(self, conn, record):
        super().__init__(conn, PATH)
        self.record = record
        self.props = {
            'Name': dbus.String('initial'),
            'Count': dbus.UInt32(7),
            'Tags': dbus.Array(['a', 'b'], signature='s'),
        }
        self.writable = {'Name', 'Count'}
        conn.add_message_filter(self.filter)

    def log(self, item):
        with open(self.record, 'a') as f:
            f.write(json.dumps(item) + '\n')

    def filter(self, conn, msg):
        """Echo, for any signature: a message filter sees the raw message,
        so the reply can carry exactly the signature that came in."""
        if (not isinstance(msg, dbus.lowlevel.MethodCallMessage) or msg.get_path() != PATH
                or msg.get_interface() != IFACE or msg.get_member() != 'Echo'):
            return dbus.lowlevel.HANDLER_RESULT_NOT_YET_HANDLED
        args = msg.get_args_list()
        self.log([canon(a) for a in args])
        reply = dbus.lowlevel.MethodReturnMessage(msg)
        reply.append(*args, signature=msg.get_signature())
        conn.send_message(reply)
        return dbus.lowlevel.HANDLER_RESULT_HANDLED

    @dbus.service.method(IFACE, in_signature='', out_signature='')
    def Fail(self):
        raise dbus.exceptions.DBusException('you asked for it', name=IFACE + '.Error.Failed')

    @dbus.service.method(IFACE, in_signature='', out_signature='', async_callbacks=('ok', 'err'))
    def Never(self, ok, err):
        self.pending = (ok, err)  # kept, never answered

    @dbus.service.method(IFACE, in_signature='s', out_signature='')
    def EmitChanged(self, text):
        self.Changed(text)

    @dbus.service.signal(IFACE, signature='s')
    def Changed(self, text):
        pass

    @dbus.service.method(PROPS_IFACE, in_signature='ss', out_signature='v')
    def Get(self, iface, name):
        self.check(iface, name)
        return self.props[name]

    @dbus.service.method(PROPS_IFACE, in_signature='s', out_signature='a{sv}')
    def GetAll(self, iface):
        if iface != IFACE:
            raise dbus.exceptions.DBusException('no interface ' + iface,
                                                name='org.freedesktop.DBus.Error.UnknownInterface')
        return dbus.Dictionary(self.props, signature='sv')

    @dbus.service.method(PROPS_IFACE, in_signature='ssv', out_signature='')
    def Set(self, iface, name, value):
        self.check(iface, name)
        if name not in self.writable:
            raise dbus.exceptions.DBusException('property %s is read-only' % name,
                                                name='org.freedesktop.DBus.Error.PropertyReadOnly')
        if isinstance(value, (dbus.Array, dbus.Dictionary, dbus.Struct)):
            value = type(value)(value, signature=value.signature)
        else:
            value = type(value)(value)  # the same type, no longer inside a variant
        self.props[name] = value
        self.log(['set', name, canon(value)])
        self.PropertiesChanged(iface, {name: value}, [])

    @dbus.service.signal(PROPS_IFACE, signature='sa{sv}as')
    def PropertiesChanged(self, iface, changed, invalidated):
        pass

    def check(self, iface, name):
        if iface != IFACE or name not in self.props:
            raise dbus.exceptions.DBusException('no property %s.%s' % (iface, name),
                                                name='org.freedesktop.DBus.Error.UnknownProperty')

    @dbus.service.method(dbus.INTROSPECTABLE_IFACE, in_signature='', out_signature='s',
                         path_keyword='object_path', connection_keyword='connection')
    def Introspect(self, object_path, connection):
        xml = dbus.service.Object.Introspect(self, object_path, connection)
        props = ('<property name="Name" type="s" access="readwrite"/>'
                 '<property name="Count" type="u" access="readwrite"/>'
                 '<property name="Tags" type="as" access="read">'
                 '<annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="const"/>'
                 '</property>')
        head = '<interface name="%s">' % IFACE
        return xml.replace(head, head + props, 1)


class Child(dbus.service.Object):
    @dbus.service.method(IFACE + '.Child', in_signature='', out_signature='s')
    def Where(self):
        return self._object_path


def main():
    name, record, ready = sys.argv[1:4]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    conn = dbus.SessionBus()
    objects = [Test(conn, record), Child(conn, PATH + '/child'), Child(conn, PATH + '/child/grand')]
    owned = dbus.service.BusName(name, conn, do_not_queue=True)
    with open(ready, 'w') as f:
        f.write(conn.get_unique_name() + '\n')
    GLib.MainLoop().run()
    del objects, owned


main()
