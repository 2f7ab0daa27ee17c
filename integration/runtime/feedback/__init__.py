"""Feedback, the stateful part: the requests and answers tables (`store`) and submitting an
answer as a `feedback_received` event (`answers`)."""
