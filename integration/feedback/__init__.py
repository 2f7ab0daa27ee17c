"""Feedback after a resolution: signed links (`tokens`), the requests and answers tables
(`store`), submitting an answer as a `feedback_received` event (`answers`), the page the
customer fills in (`page`, the only module here that imports Flask) and its wording
(`messages`)."""
