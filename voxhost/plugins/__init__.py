"""Built-in plugins: engines written like any third-party plugin."""
