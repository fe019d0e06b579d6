"""Neural Design Network (ECCV 2020): constrained graphic-layout generation with graph networks."""

from research.generative.ndn import variants  # noqa: F401  (registers ndn_*)
