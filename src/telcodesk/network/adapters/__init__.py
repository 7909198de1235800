"""Vendor adapters: how to read an ONU's optical power and status from one vendor's OLT.

An adapter is registered under the vendor name stored on ``Olt.vendor``; the
diagnostics look it up with ``vendor_adapter``. Huawei and ZTE ship here; another
vendor is one module with a class implementing ``VendorAdapter`` and a call to
``register_vendor_adapter`` (imported from this package so it registers at start-up).
"""

from __future__ import annotations

from telcodesk.network.adapters.base import (
    NoSuchOnu,
    OnuLocation,
    OnuState,
    OpticalReading,
    UnexpectedValue,
    VendorAdapter,
    register_vendor_adapter,
    registered_vendors,
    vendor_adapter,
)
from telcodesk.network.adapters.huawei import HuaweiAdapter
from telcodesk.network.adapters.zte import ZteAdapter

register_vendor_adapter(HuaweiAdapter())
register_vendor_adapter(ZteAdapter())

__all__ = [
    "HuaweiAdapter",
    "NoSuchOnu",
    "OnuLocation",
    "OnuState",
    "OpticalReading",
    "UnexpectedValue",
    "VendorAdapter",
    "ZteAdapter",
    "register_vendor_adapter",
    "registered_vendors",
    "vendor_adapter",
]
