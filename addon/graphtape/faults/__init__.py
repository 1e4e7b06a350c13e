"""Faults graphtape injects into Graph traffic, in every mode: Outlook's throttling limits (``limits``), and the
scripted and random faults of a faults file."""
