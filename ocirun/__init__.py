"""ocirun: an OCI runtime-spec container runtime, usable as a runc-compatible command and as a library.

    import ocirun
    rt = ocirun.Runtime(root="/run/ocirun")
    c = rt.create("web", bundle="/srv/bundles/web")
    c.start()
    print(c.state().status)
    c.kill("SIGTERM")
    c.delete(force=True)

Nothing is imported until it is used, so that the command line starts fast.
"""

__version__ = "0.1.0"

__all__ = ["Config", "Container", "ContainerState", "Event", "Process", "Runtime", "__version__", "errors"]

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers see; at run time __getattr__ imports them when first used
    from . import errors
    from .api import Config, Container, ContainerState, Event, Process, Runtime


def __getattr__(name: str) -> object:
    if name in ("Runtime", "Container", "ContainerState", "Config", "Event", "Process"):
        from . import api

        return getattr(api, name)
    if name == "errors":  # `ocirun.errors` without importing it first (not `from . import`: recursion)
        import importlib

        return importlib.import_module(f"{__name__}.errors")
    raise AttributeError(f"module 'ocirun' has no attribute {name!r}")
