"""Base models: loading a hub or local model (``loading``) and the tiny offline one (``tiny``)."""
