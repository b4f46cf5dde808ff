"""One module per command (youki's container_<verb>.rs): each has the library function and a
``command(ctx, opts, args)`` adapter that ocirun.cli calls."""
