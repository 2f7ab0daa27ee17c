"""Feedback after a resolution, the pure part: signed links (`tokens`), the links in a plan's
feedback requests (`links`), the answer written back as a note (`writeback`) and the page's
wording (`messages`). The tables are in `integration.runtime.feedback`, the page in
`integration.web.feedback`."""
