"""A plugin with a misspelled hook name."""

import voxhost


@voxhost.hookimpl
def register_engine(register):
    """Misspelled: the hook is register_engines."""
