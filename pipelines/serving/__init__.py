"""The live service (`scrubline serve`): decisions for any number from the published run and the data directory,
the durable journal of opt-outs taken between runs, and the ASGI app that serves both."""
