"""Calls of methods of the detector classes (``BoxCoder``, ``Matcher``), for assertion helpers.

:class:`MethodCall` is a :class:`properties.asserts.Call` whose function is a method of an
object the implementation constructs::

    call = MethodCall(impl, "BoxCoder", ("weights", "bbox_xform_clip", "eps"), "encode",
                      weights=w, bbox_xform_clip=c, eps=e, reference_boxes=g, proposals=p)
    got = call()  # impl.BoxCoder(w, c, e).encode(g, p), read back with np.asarray

Messages name it ``BoxCoder(weights, bbox_xform_clip=..., eps=...).encode(reference_boxes,
proposals)`` and the repro snippet constructs the object first.
"""

from __future__ import annotations

from typing import Any

from .asserts import Call, to_numpy


class MethodCall(Call):
    """``impl.<cls>(*constructor args).<method>(*other args)``; ``ctor`` names the
    constructor's arguments among ``args`` (in order), the rest go to the method."""

    def __init__(self, impl: Any, cls: str, ctor: tuple[str, ...], method: str, /, **args: Any):
        super().__init__(impl, method, **args)
        self.cls = cls
        self.ctor = ctor

    def _split(self) -> tuple[list[Any], list[Any]]:
        ctor = [self.args[k] for k in self.ctor]
        rest = [v for k, v in self.args.items() if k not in self.ctor]
        return ctor, rest

    def __call__(self) -> Any:
        ctor, rest = self._split()
        obj = getattr(self.impl, self.cls)(*ctor)
        return to_numpy(getattr(obj, self.name)(*rest))

    def __str__(self) -> str:
        ctor = Call(self.impl, self.cls, **{k: self.args[k] for k in self.ctor})
        rest = Call(
            self.impl, self.name, **{k: v for k, v in self.args.items() if k not in self.ctor}
        )
        return f"{ctor}.{rest}"

    def repro(self) -> str:
        lines = super().repro().splitlines()[:-1]  # all but the final print
        ctor = ", ".join(self.ctor)
        rest = ", ".join(k for k in self.args if k not in self.ctor)
        lines.append(f"obj = impl.{self.cls}({ctor})")
        lines.append(f"print(obj.{self.name}({rest}))")
        return "\n".join(lines)
