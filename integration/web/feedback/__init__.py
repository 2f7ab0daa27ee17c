"""The feedback page a requester reaches from the feedback request (`page`), with its templates."""
