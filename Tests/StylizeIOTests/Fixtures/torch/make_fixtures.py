#!/usr/bin/env python3
"""Writes the small torch.save fixtures used by TorchFileTests and VGG19WeightsTests.

torch is not needed: a stand-in `torch` module provides the globals torch pickles reference
(storage classes, torch._utils._rebuild_tensor_v2), and the file layouts (zip archive, legacy
stream) are written the way torch/serialization.py writes them. Run from anywhere:

    python3 Tests/StylizeIOTests/Fixtures/torch/make_fixtures.py
"""
import collections, io, json, os, pickle, struct, sys, types, zipfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# --- stand-ins for the torch globals a checkpoint pickle references -------------------------
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, torch_utils
torch._utils = torch_utils
STORAGE_CLASSES = {np.float32: "FloatStorage", np.float64: "DoubleStorage", np.float16: "HalfStorage",
                   np.uint8: "ByteStorage", np.int8: "CharStorage", np.int16: "ShortStorage",
                   np.int32: "IntStorage", np.int64: "LongStorage", np.bool_: "BoolStorage"}
for name in STORAGE_CLASSES.values():
    setattr(torch, name, type(name, (), {"__module__": "torch"}))

def _rebuild_tensor_v2(*args):
    raise RuntimeError("never called")
_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2

class Storage:
    """A flat typed buffer, saved by persistent id like torch's storages."""
    def __init__(self, key, array):
        self.key, self.array = key, np.ascontiguousarray(array).reshape(-1)
    @property
    def cls(self):
        return getattr(torch, STORAGE_CLASSES[self.array.dtype.type])

class Tensor:
    """A strided view into a Storage (offset and strides in elements)."""
    def __init__(self, storage, offset, shape, strides):
        self.storage, self.offset, self.shape, self.strides = storage, offset, tuple(shape), tuple(strides)
    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.shape, self.strides, False, collections.OrderedDict()))
    def values(self):
        a = self.storage.array
        return np.lib.stride_tricks.as_strided(a[self.offset:], self.shape, [s * a.itemsize for s in self.strides]).copy()

def contiguous(storage, shape, offset=0):
    strides, acc = [], 1
    for s in reversed(shape):
        strides.insert(0, acc)
        acc *= s
    return Tensor(storage, offset, shape, strides)

class StateDict(collections.OrderedDict):
    """Pickles like torch's state dicts: an OrderedDict whose `_metadata` attribute goes through BUILD."""
    def __reduce__(self):
        return (collections.OrderedDict, (), {"_metadata": collections.OrderedDict([("", {"version": 1})])},
                None, iter(self.items()))

def pickled(obj, protocol, legacy):
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=protocol)
    seen = {}
    def persistent_id(o):
        if isinstance(o, Storage):
            seen[o.key] = o
            pid = ("storage", o.cls, o.key, "cpu", o.array.size)
            return pid + (None,) if legacy else pid
        return None
    p.persistent_id = persistent_id
    p.dump(obj)
    return buf.getvalue(), seen

def write_zip(path, obj, protocol=2, folder="archive", compression=zipfile.ZIP_STORED):
    data, storages = pickled(obj, protocol, legacy=False)
    with zipfile.ZipFile(path, "w", compression) as z:
        def record(name, payload):  # fixed timestamps keep the fixtures reproducible
            z.writestr(zipfile.ZipInfo(f"{folder}/{name}", date_time=(1980, 1, 1, 0, 0, 0)), payload, compress_type=compression)
        record("data.pkl", data)
        record("byteorder", "little")
        for key, s in storages.items():
            record(f"data/{key}", s.array.tobytes())
        record("version", "3\n")

def write_legacy(path, main_pickle, storages):
    """storages: list of (key, numpy array) in the order of the key list."""
    with open(path, "wb") as f:
        pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
        f.write(main_pickle)
        pickle.dump([k for k, _ in storages], f, protocol=2)
        for _, a in storages:
            f.write(struct.pack("<q", a.size))
            f.write(a.tobytes())

def expected_entry(t):
    v = t.values()
    kind = {np.float32: "float32", np.float64: "float64", np.int32: "int32", np.int16: "int16",
            np.int8: "int8", np.bool_: "bool", np.uint8: "uint8", np.int64: "int64"}[v.dtype.type]
    vals = v.reshape(-1).tolist()
    return {"dtype": kind, "shape": list(v.shape), "values": [int(x) if not isinstance(x, float) else x for x in vals]}

rng = np.random.default_rng(7)

# 1. A wrapped, prefixed torchvision-style state dict whose conv1_2 weight has the wrong shape.
w0 = Storage("0", rng.standard_normal(64 * 3 * 9).astype(np.float32))
b0 = Storage("1", rng.standard_normal(64).astype(np.float32))
w2 = Storage("2", rng.standard_normal(64 * 3 * 9).astype(np.float32))  # should be 64×64×3×3
b2 = Storage("3", rng.standard_normal(64).astype(np.float32))
sd = StateDict()
sd["module.features.0.weight"] = contiguous(w0, (64, 3, 3, 3))
sd["module.features.0.bias"] = contiguous(b0, (64,))
sd["module.features.2.weight"] = contiguous(w2, (64, 3, 3, 3))
sd["module.features.2.bias"] = contiguous(b2, (64,))
write_zip(os.path.join(HERE, "vgg_wrong_shape.pth"), {"epoch": 3, "state_dict": sd}, folder="vgg_wrong_shape")

# 2. Protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL) with plain values and more dtypes.
base = Storage("base", np.arange(30, dtype=np.float32) * 0.5 - 3)
tensors = {
    "int32": contiguous(Storage("i32", np.array([-7, 2**31 - 1, -2**31, 0, 5, -1], dtype=np.int32)), (2, 3)),
    "int16": contiguous(Storage("i16", np.array([-32768, 32767, -2], dtype=np.int16)), (3,)),
    "int8": contiguous(Storage("i8", np.array([-128, 127, -3, 4], dtype=np.int8)), (2, 2)),
    "float64": contiguous(Storage("f64", np.array([0.1, -1e300, 2.5], dtype=np.float64)), (3,)),
    "bool": contiguous(Storage("b", np.array([True, False, True], dtype=np.bool_)), (3,)),
    "scalar": contiguous(Storage("s", np.array([3.5], dtype=np.float32)), ()),
    "strided": Tensor(base, 2, (2, 3, 2), (1, 4, 13)),  # a non-contiguous 3-D view at an offset
    "broadcast": Tensor(base, 5, (2, 3), (0, 1)),       # stride 0, as expand() makes
    "empty": contiguous(Storage("e", np.zeros(0, dtype=np.float32)), (0, 4)),
}
mixed = collections.OrderedDict()
mixed["ints"] = [0, -5, 255, 256, 65535, 65536, -2**31, 2**40, -(2**40), 2**63 - 1]
mixed["float"] = 0.25
mixed["flags"] = (True, False, None)
mixed["nested"] = {"a": {"b": [], "c": ("x",)}, 7: "seven", (1, 2): "pair"}
mixed["text"] = "héllo ✓"
mixed.update(tensors)
write_zip(os.path.join(HERE, "mixed_protocol4.pth"), mixed, protocol=4, folder="some-other-name")
# The same, re-zipped with deflate (torch never compresses, but a re-packed file might be).
write_zip(os.path.join(HERE, "mixed_protocol4_deflated.pth"), mixed, protocol=4, folder="some-other-name",
          compression=zipfile.ZIP_DEFLATED)
with open(os.path.join(HERE, "mixed_protocol4.json"), "w") as f:
    json.dump({k: expected_entry(t) for k, t in tensors.items()}, f, indent=1)

# 3. Legacy stream with a storage view (view_metadata) and a DoubleStorage.
#    Main pickle: {"view": tensor on root[2:6], "whole": tensor on root, "d": float64 tensor}.
root = np.arange(10, dtype=np.float32) + 100
dbl = np.array([1.5, -2.25], dtype=np.float64)
class LegacyPickler(pickle.Pickler):
    def persistent_id(self, o):
        if isinstance(o, tuple) and o and o[0] == "PID":
            return o[1]
        return None
class LT:
    def __init__(self, pid, offset, shape, strides):
        self.args = (("PID", pid), offset, shape, strides, False, collections.OrderedDict())
    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2, self.args)
main = collections.OrderedDict()
main["view"] = LT(("storage", torch.FloatStorage, "root", "cpu", 10, ("root_view", 2, 4)), 1, (3,), (1,))
main["whole"] = LT(("storage", torch.FloatStorage, "root", "cpu", 10, None), 0, (2, 5), (5, 1))
main["d"] = LT(("storage", torch.DoubleStorage, "dbl", "cpu", 2, None), 0, (2,), (1,))
buf = io.BytesIO()
LegacyPickler(buf, protocol=2).dump(main)
write_legacy(os.path.join(HERE, "legacy_views.pth"), buf.getvalue(), [("root", root), ("dbl", dbl)])

# 4. A zip whose pickle (protocol 4, STACK_GLOBAL) calls builtins.eval: must be refused by name.
class Evil:
    def __reduce__(self):
        return (eval, ("1+1",))
write_zip(os.path.join(HERE, "forbidden_eval.pth"), {"x": Evil()}, protocol=4, folder="evil")
print("fixtures written to", HERE)
