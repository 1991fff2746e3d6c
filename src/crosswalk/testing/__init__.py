"""Test and benchmark tools: the simulated OpenAI-compatible API (`crosswalk fake-api`).

`FakeAPI` serves it over real HTTP on loopback (in this event loop, or `FakeAPIThread`,
`FakeAPIProcess`); `InProcessTransport` answers an httpx client from the same handlers with
no socket. Not used by a conversion: nothing in the pipeline imports this package.
"""

from .fake_api import PROFILES, FakeAPI, FakeAPIProcess, FakeAPIThread, Faults, ModelProfile, Profile, fake_embedding
from .transport import InProcessTransport

__all__ = ["FakeAPI", "FakeAPIProcess", "FakeAPIThread", "Faults", "InProcessTransport", "ModelProfile", "PROFILES",
           "Profile", "fake_embedding"]
