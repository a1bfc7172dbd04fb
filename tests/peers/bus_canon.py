"""The canonical typed form in which the test peers record D-Bus values."""
import dbus

# (dbus-python type, D-Bus type code), most specific first: ObjectPath and
# Signature are str subclasses, Boolean an int subclass.
SCALARS = [
    (dbus.Boolean, 'b'), (dbus.Byte, 'y'), (dbus.Int16, 'n'), (dbus.UInt16, 'q'),
    (dbus.Int32, 'i'), (dbus.UInt32, 'u'), (dbus.Int64, 'x'), (dbus.UInt64, 't'),
    (dbus.Double, 'd'), (dbus.ObjectPath, 'o'), (dbus.Signature, 'g'), (dbus.String, 's'),
]


def canon(v):
    """A received value as nested [TYPE, DATA] lists: variants as ["v", X],
    arrays as ["a", ELEMENT_SIGNATURE, [...]], dicts as ["a{", SIGNATURE,
    [[K, V], ...]], structs as ["(", [...]]; doubles by repr() so that every
    bit is compared."""
    out = canon_bare(v)
    for _ in range(getattr(v, 'variant_level', 0)):
        out = ['v', out]
    return out


def canon_bare(v):
    for typ, code in SCALARS:
        if isinstance(v, typ):
            if code == 'd':
                return ['d', repr(float(v))]
            if code in 'osg':
                return [code, str(v)]
            if code == 'b':
                return ['b', bool(v)]
            return [code, int(v)]
    if isinstance(v, dbus.Dictionary):
        return ['a{', str(v.signature), [[canon(k), canon(x)] for k, x in v.items()]]
    if isinstance(v, dbus.Array):
        return ['a', str(v.signature), [canon(x) for x in v]]
    if isinstance(v, dbus.Struct):
        return ['(', [canon(x) for x in v]]
    raise TypeError('unexpected value %r' % (v,))
