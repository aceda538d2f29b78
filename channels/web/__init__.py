"""The website chat widget (static assets) and the socket.io channel it talks to."""
