"""Console tools on a topic's messages: decoding them for display, and a group's lag."""
