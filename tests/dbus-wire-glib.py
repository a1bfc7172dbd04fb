#!/usr/bin/python3
"""GLib's D-Bus marshaller (Gio.DBusMessage), an implementation written
independently of ours, as a peer for tests/dbus-wire.bats.

  check SIG TEXT        read a message on stdin; GLib must accept it and its
                        body must equal the GVariant TEXT of tuple type (SIG)
  build l|B SIG TEXT    write a method call with that body to stdout
"""
import sys

from gi.repository import Gio, GLib


def body_of(sig, text):
    """The GVariant tuple (SIG) parsed from TEXT."""
    return GLib.Variant.parse(GLib.VariantType.new("(" + sig + ")"), text, None, None)


def check(sig, text):
    blob = sys.stdin.buffer.read()
    try:
        msg = Gio.DBusMessage.new_from_blob(blob, Gio.DBusCapabilityFlags.NONE)
    except GLib.Error as e:
        sys.exit("glib refused the message: " + e.message)
    got = msg.get_body() or GLib.Variant.parse(GLib.VariantType.new("()"), "()", None, None)
    want = body_of(sig, text)
    if got.get_type_string() != want.get_type_string() or not got.equal(want):
        sys.exit("glib read %s\n     expected %s" % (got.print_(True), want.print_(True)))


def build(order, sig, text):
    msg = Gio.DBusMessage.new_method_call(None, "/a", None, "M")
    msg.set_body(body_of(sig, text))
    msg.set_serial(7)
    msg.set_byte_order(Gio.DBusMessageByteOrder.BIG_ENDIAN if order == "B"
                       else Gio.DBusMessageByteOrder.LITTLE_ENDIAN)
    sys.stdout.buffer.write(msg.to_blob(Gio.DBusCapabilityFlags.NONE))


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        build(sys.argv[2], sys.argv[3], sys.argv[4])
