"""Marking on screen: what graders give each scanned answer (records), where it is kept (the store), and
what goes back to each student (returned)."""
