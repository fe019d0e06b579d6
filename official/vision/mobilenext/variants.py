"""Registered MobileNeXt widths (README / spec card table); names are width x 100 like timm's."""

from official.core.registry import register_variant
from official.vision.mobilenext.model import MobileNeXt

register_variant("mobilenext_140", MobileNeXt, width=1.4)
register_variant("mobilenext_100", MobileNeXt, width=1.0)
register_variant("mobilenext_075", MobileNeXt, width=0.75)
register_variant("mobilenext_050", MobileNeXt, width=0.5)
register_variant("mobilenext_035", MobileNeXt, width=0.35)
