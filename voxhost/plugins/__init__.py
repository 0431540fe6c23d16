"""Built-in plugins: engines written like third-party plugins."""
