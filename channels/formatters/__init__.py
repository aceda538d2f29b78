"""One formatter per channel: channel-neutral bot messages (text, buttons, image, custom
document) -> that channel's messages. Pure functions, no I/O."""
