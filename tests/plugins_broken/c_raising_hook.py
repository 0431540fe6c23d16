"""A plugin whose hook raises."""

import voxhost


@voxhost.hookimpl
def register_engines(register):
    """Fails while registering."""
    raise RuntimeError("cannot register today")
